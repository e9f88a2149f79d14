// ⚙ Settings as the tutorial walks it: tabs Alert Rules, Presets, Silences, Channels and
// History, one module each in settings/. This shell asks the server for what the tabs
// show, draws the tab bar and the open tab, and says so when the asking fails (with a
// way to try again). Every string follows the page's language.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { channelsPanel } from './settings/channels.js';
import { failureText } from './settings/feedback.js';
import { historyPanel } from './settings/history.js';
import { presetsPanel } from './settings/presets.js';
import { rulesPanel } from './settings/rules.js';
import { silencesPanel } from './settings/silences.js';

const TABS = ['rules', 'presets', 'silences', 'channels', 'history'];

/** Everything the tabs show, in one go. */
async function loadAll() {
  const [{ rules }, { alerts }, { presets }, channels, { silences }, { history }] = await Promise.all([
    api('/api/monitor/alerts/rules'),
    api('/api/monitor/alerts/active'),
    api('/api/monitor/alerts/presets'),
    api('/api/monitor/alerts/channels'),
    api('/api/monitor/alerts/silences'),
    api('/api/monitor/alerts/history?limit=100'),
  ]);
  return { rules, alerts, presets, channels, silences, history };
}

export class Settings {
  /** catalogue: GET /api/monitor/catalogue, loaded once by the page. */
  constructor(root, catalogue) {
    this.root = root;
    this.catalogue = catalogue;
    this.tab = 'rules';
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

  /** What could not be loaded, and a button to try again. */
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
      this.root.querySelector('.settings-head').after(box);
    } else {
      this.drawn = false;
      this.root.replaceChildren(this.head(), box);
    }
  }

  show() {
    for (const k of TABS) {
      this.root.querySelector(`#settings-${k}`).hidden = k !== this.tab;
      const b = this.tabBar.querySelector(`[data-settings-tab="${k}"]`);
      b.classList.toggle('active', k === this.tab);
      b.setAttribute('aria-selected', String(k === this.tab));
    }
  }
}
