// ⚙ Settings as the tutorial walks it: tabs Alert Rules, Presets, Silences, Channels and
// History, one module each in settings/. This shell asks the server for what the tabs
// show, draws the tab bar and the open tab, and says so when the asking fails (with a
// way to try again). Every string follows the page's language.
import { api } from '../api.js';
import { h, one } from '../dom.js';
import { t } from '../i18n.js';
import { channelsPanel } from './settings/channels.js';
import { failureText } from './settings/feedback.js';
import { historyPanel } from './settings/history.js';
import { presetsPanel } from './settings/presets.js';
import { rulesPanel } from './settings/rules.js';
import { silencesPanel } from './settings/silences.js';

/** @type {('rules' | 'presets' | 'silences' | 'channels' | 'history')[]} */
const TABS = ['rules', 'presets', 'silences', 'channels', 'history'];

/** Everything the tabs show, in one go. */
async function loadAll() {
  /** @type {Promise<{ rules: import('../types.js').RuleAnswer[] }>} */
  const rules = api('/api/monitor/alerts/rules');
  /** @type {Promise<{ alerts: import('../types.js').ActiveAlert[] }>} */
  const alerts = api('/api/monitor/alerts/active');
  /** @type {Promise<{ presets: import('../types.js').PresetAnswer[] }>} */
  const presets = api('/api/monitor/alerts/presets');
  /** @type {Promise<import('../types.js').ChannelList>} */
  const channels = api('/api/monitor/alerts/channels');
  /** @type {Promise<{ silences: import('../types.js').Silence[] }>} */
  const silences = api('/api/monitor/alerts/silences');
  /** @type {Promise<{ history: import('../types.js').HistoryEntry[] }>} */
  const history = api('/api/monitor/alerts/history?limit=100');
  const [r, a, p, c, s, hi] = await Promise.all([rules, alerts, presets, channels, silences, history]);
  return {
    rules: r.rules,
    alerts: a.alerts,
    presets: p.presets,
    channels: c,
    silences: s.silences,
    history: hi.history,
  };
}

export class Settings {
  /**
   * catalogue: GET /api/monitor/catalogue, loaded once by the page.
   * @param {HTMLElement} root
   * @param {import('../types.js').Catalogue} catalogue
   */
  constructor(root, catalogue) {
    this.root = root;
    this.catalogue = catalogue;
    /** @type {(typeof TABS)[number]} */
    this.tab = 'rules';
    /** @type {HTMLElement | undefined} */
    this.tabBar = undefined;
    this.drawn = false;
  }

  async open() {
    // What failed while Settings was last open is old news: gone before the new answer comes.
    for (const el of this.root.querySelectorAll('.action-error, .settings-failure')) el.remove();
    this.root.hidden = false;
    await this.render();
  }

  /**
   * Asks again and redraws. After a change (`refresh`) a failure keeps what is shown and
   * says it above the tabs; on opening, it is all there is to show. Never rejects.
   */
  async render({ refresh = false } = {}) {
    let data;
    try {
      data = await loadAll();
    } catch (err) {
      this.showFailure(refresh && this.drawn ? 'refresh' : 'load', err);
      return;
    }
    const onChange = () => this.render({ refresh: true });
    const panels = {
      rules: rulesPanel({ ...data, catalogue: this.catalogue, onChange }),
      presets: presetsPanel({ presets: data.presets, onChange }),
      silences: silencesPanel({
        silences: data.silences,
        rules: data.rules,
        severities: this.catalogue.rules.severities,
        onChange,
      }),
      channels: channelsPanel({ channels: data.channels, rules: data.rules, catalogue: this.catalogue, onChange }),
      history: historyPanel({ history: data.history, rules: data.rules, catalogue: this.catalogue }),
    };
    this.tabBar = h(
      'div',
      { class: 'settings-tabs', role: 'tablist' },
      ...TABS.map((k) =>
        h('button', {
          type: 'button',
          role: 'tab',
          id: `settings-tab-${k}`,
          dataset: { settingsTab: k },
          'aria-selected': String(k === this.tab),
          class: k === this.tab ? 'active' : '',
          text: t(`settings.tab.${k}`),
          onclick: () => {
            this.tab = k;
            this.show();
          },
        }),
      ),
    );
    this.root.replaceChildren(
      this.head(),
      this.tabBar,
      ...TABS.map((k) =>
        h(
          'section',
          { id: `settings-${k}`, class: 'settings-panel', role: 'tabpanel', 'aria-labelledby': `settings-tab-${k}` },
          panels[k],
        ),
      ),
    );
    this.drawn = true;
    this.show();
  }

  head() {
    return h(
      'div',
      { class: 'settings-head' },
      h('h2', { text: t('settings.title') }),
      h('span', { class: 'grow' }),
      h('button', {
        type: 'button',
        class: 'close',
        text: t('panel.close'),
        onclick: () => {
          this.root.hidden = true;
        },
      }),
    );
  }

  /**
   * What could not be loaded, and a button to try again.
   * @param {'load' | 'refresh'} action
   * @param {unknown} err
   */
  showFailure(action, err) {
    const box = h(
      'div',
      { class: 'settings-failure' },
      h('p', { class: 'action-error', role: 'alert', text: failureText(action, err) }),
      h('button', {
        type: 'button',
        class: 'retry',
        text: t('settings.retry'),
        onclick: () => this.render({ refresh: action === 'refresh' }),
      }),
    );
    if (action === 'refresh') {
      this.root.querySelector('.settings-failure')?.remove();
      one(this.root, '.settings-head', HTMLElement).after(box);
    } else {
      this.drawn = false;
      this.root.replaceChildren(this.head(), box);
    }
  }

  show() {
    const tabBar = this.tabBar;
    if (!tabBar) return;
    for (const k of TABS) {
      one(this.root, `#settings-${k}`, HTMLElement).hidden = k !== this.tab;
      const b = one(tabBar, `[data-settings-tab="${k}"]`, HTMLElement);
      b.classList.toggle('active', k === this.tab);
      b.setAttribute('aria-selected', String(k === this.tab));
    }
  }
}
