// ⚙ Settings as the tutorial walks it: tabs Alert Rules, Presets, Silences, Channels and
// History. Alert Rules lists each rule in words with its state (enable, edit, delete);
// "+ Add Rule" opens the rule form. Presets import with one click; the other tabs live
// in their own files. Every string follows the page's language.
import { api, ApiError } from '../api.js';
import { h } from '../dom.js';
import { fmtValue } from '../format.js';
import { t } from '../i18n.js';
import { channelLabel, channelsPanel } from './settings/channels.js';
import { labelsText, RuleForm } from './settings/rule-form.js';
import { silencesPanel } from './settings/silences.js';

const TABS = ['rules', 'presets', 'silences', 'channels', 'history'];

/** A rule's condition in words: "latency_ms_p95{endpoint=*} > 8000 × 3 AND …". */
export function ruleText(r, units) {
  const where = (c) => `${c.metric}${labelsText(c.labels) ? `{${labelsText(c.labels)}}` : ''}`;
  const howLong = (c) => (c.for ? ` ${t('rule.text.for', { d: c.for })}` : c.consecutiveChecks && c.consecutiveChecks > 1 ? ` × ${c.consecutiveChecks}` : '');
  let text;
  if (r.perRequest) text = t('rule.text.perRequest', { c: `${where(r)} ${r.op} ${r.threshold}` });
  else if (r.surgeBaseline) text = t('rule.text.surge', { m: where(r), op: r.op, p: r.threshold, b: r.surgeBaseline }) + howLong(r);
  else if (r.sampleSeconds !== undefined) text = t('rule.text.sample', { c: `${where(r)} ${r.op} ${r.threshold}`, s: r.sampleSeconds });
  else text = `${where(r)} ${r.op} ${r.threshold}${howLong(r)}`;
  if (r.and) text += ` ${t('rule.text.and')} ${where(r.and)} ${r.and.op} ${r.and.threshold}${howLong(r.and)}`;
  const unit = units.get(r.metric);
  if (unit && unit !== '%' && !r.surgeBaseline && !r.perRequest) text += ` (${unit})`;
  const extra = [
    r.recoverThreshold !== undefined ? t('rule.text.recover', { v: r.recoverThreshold }) : null,
    r.keepFiringFor ? t('rule.text.keep', { d: r.keepFiringFor }) : null,
    r.noData && r.noData !== 'keep' ? t(`rule.text.noData.${r.noData}`) : null,
  ].filter(Boolean);
  return extra.length ? `${text}; ${extra.join('; ')}` : text;
}

export class Settings {
  constructor(root) {
    this.root = root;
    this.tab = 'rules';
  }

  async open() {
    this.root.hidden = false;
    await this.render();
  }

  /** Shows the server's message next to the field it names. */
  showError(form, err) {
    form.querySelectorAll('.field-error').forEach((x) => x.remove());
    const msg = err instanceof ApiError ? err.message : String(err);
    // `urls[1]` or `labels.1bad` shows at the field that holds it (urls, labels).
    let field = null;
    let name = err instanceof ApiError ? err.field : undefined;
    while (name && !field) {
      field = form.querySelector(`[name="${CSS.escape(name)}"]`);
      const shorter = name.replace(/(\[\d+\]|\.[^.[]*)$/, '');
      name = shorter === name ? undefined : shorter;
    }
    (field?.closest('label') ?? form).append(h('span', { class: 'field-error', role: 'alert', text: msg }));
  }

  async render() {
    const [{ rules }, { alerts }, { presets }, { metrics }, channels, { silences }, { history }] = await Promise.all([
      api('/api/monitor/alerts/rules'), api('/api/monitor/alerts/active'), api('/api/monitor/alerts/presets'),
      api('/api/monitor/catalogue'), api('/api/monitor/alerts/channels'), api('/api/monitor/alerts/silences'),
      api('/api/monitor/alerts/history?limit=100'),
    ]);
    const units = new Map(metrics.map((m) => [m.name, m.unit]));
    const rerender = () => this.render();
    this.form = new RuleForm({ metrics, channels, onSaved: rerender, onCancel: () => { this.form.el.hidden = true; } });
    const panels = {
      rules: this.rulesPanel(rules, alerts, units),
      presets: this.presetsPanel(presets),
      silences: silencesPanel({ silences, rules, onChange: rerender, showError: (f, e) => this.showError(f, e) }),
      channels: channelsPanel({ channels, rules, onChange: rerender, showError: (f, e) => this.showError(f, e) }),
      history: this.historyPanel(history, rules),
    };
    const tabBar = h('div', { class: 'settings-tabs', role: 'tablist' }, ...TABS.map((k) => h('button', {
      type: 'button', role: 'tab', id: `settings-tab-${k}`, dataset: { settingsTab: k }, 'aria-selected': String(k === this.tab), class: k === this.tab ? 'active' : '',
      text: t(`settings.tab.${k}`), onclick: () => { this.tab = k; this.show(); },
    })));
    this.panels = panels;
    this.tabBar = tabBar;
    this.root.replaceChildren(
      h('div', { class: 'settings-head' }, h('h2', { text: t('settings.title') }), h('span', { class: 'grow' }), h('button', { type: 'button', class: 'close', text: t('panel.close'), onclick: () => { this.root.hidden = true; } })),
      tabBar,
      ...TABS.map((k) => h('section', { id: `settings-${k}`, class: 'settings-panel', role: 'tabpanel', 'aria-labelledby': `settings-tab-${k}` }, panels[k])),
    );
    this.show();
  }

  show() {
    for (const k of TABS) {
      this.root.querySelector(`#settings-${k}`).hidden = k !== this.tab;
      const b = this.tabBar.querySelector(`[data-settings-tab="${k}"]`);
      b.classList.toggle('active', k === this.tab);
      b.setAttribute('aria-selected', String(k === this.tab));
    }
  }

  rulesPanel(rules, alerts, units) {
    const stateOf = (r) => {
      const own = alerts.filter((a) => a.ruleId === r.id);
      return own.length ? own.map((a) => `${t(`state.${a.state}`)}${labelsText(a.labels) ? ` (${labelsText(a.labels)})` : ''}`).join(', ') : t('state.inactive');
    };
    const cell = (label, props, ...children) => h('td', { 'data-label': label, ...props }, ...children);
    const head = ['rules.name', 'rules.condition', 'rules.severity', 'rules.channels', 'rules.state', 'rules.enable', ''].map((k) => (k ? t(k) : ''));
    const table = h('table', { id: 'rules-table', class: 'stack' },
      h('tr', {}, ...head.map((x) => h('th', { text: x }))),
      ...rules.map((r) => h('tr', { dataset: { rule: r.id } },
        cell(head[0], { text: r.name }),
        cell(head[1], { class: 'condition', text: ruleText(r, units) }),
        cell(head[2], { class: 'nowrap', text: t(`severity.${r.severity}`) }),
        cell(head[3], { text: r.channels.map(channelLabel).join(', ') }),
        cell(head[4], { class: 'state nowrap', text: stateOf(r) }),
        cell(head[5], {}, h('input', { type: 'checkbox', checked: r.enabled, 'aria-label': t('rules.enable'), onchange: async (e) => { const { id, ...rest } = r; await api(`/api/monitor/alerts/rules/${encodeURIComponent(id)}`, { method: 'PUT', body: { ...rest, enabled: e.target.checked } }); } })),
        cell('', { class: 'actions' },
          h('button', { type: 'button', class: 'edit', text: t('rules.edit'), onclick: () => this.form.edit(r) }),
          h('button', { type: 'button', class: 'delete', text: t('rules.delete'), onclick: async () => { await api(`/api/monitor/alerts/rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' }); await this.render(); } })),
      )));
    return h('div', {},
      h('div', { class: 'form-row' }, h('button', { type: 'button', id: 'add-rule', class: 'primary', text: t('rules.add'), onclick: () => { this.form.reset(); this.form.open(); } }),
        h('span', { class: 'muted small', text: t('rules.count', { n: rules.length }) })),
      rules.length ? table : h('p', { class: 'muted', text: t('rules.none') }),
      this.form.el);
  }

  presetsPanel(presets) {
    return h('ul', { class: 'preset-list' }, ...presets.map((p) => h('li', { dataset: { preset: p.id } },
      h('div', {}, h('strong', { text: t(`preset.${p.id}.name`) === `preset.${p.id}.name` ? p.rule.name : t(`preset.${p.id}.name`) }),
        h('div', { class: 'muted small', text: t(`preset.${p.id}.desc`) === `preset.${p.id}.desc` ? p.description : t(`preset.${p.id}.desc`) })),
      p.imported ? h('span', { class: 'muted', text: t('presets.imported') }) : h('button', { type: 'button', class: 'import', text: t('presets.import'), onclick: async () => { await api(`/api/monitor/alerts/presets/${encodeURIComponent(p.id)}/import`, { body: {} }); await this.render(); } }),
    )));
  }

  historyPanel(history, rules) {
    const names = new Map(rules.map((r) => [r.id, r.name]));
    const head = ['history.when', 'history.kind', 'history.rule', 'history.what', 'history.detail'].map((k) => t(k));
    const what = (e) => {
      if (e.kind === 'delivery') return `${channelLabel(e.channel)} #${e.attempt} ${t(e.ok ? 'history.sent' : 'history.failed')}`;
      if (e.kind === 'silenced') return t('history.silenced');
      return `${t(`state.${e.from}`)} → ${t(`state.${e.to}`)}`;
    };
    if (history.length === 0) return h('p', { class: 'muted', text: t('history.none') });
    return h('table', { id: 'history-table', class: 'stack' },
      h('tr', {}, ...head.map((x) => h('th', { text: x }))),
      ...history.map((e) => h('tr', {},
        h('td', { 'data-label': head[0], text: new Date(e.at).toLocaleString() }),
        h('td', { 'data-label': head[1], class: 'nowrap', text: t(`history.kind.${e.kind}`) }),
        h('td', { 'data-label': head[2], text: e.ruleId ? names.get(e.ruleId) ?? e.ruleId : '—' }),
        h('td', { 'data-label': head[3], text: what(e) }),
        h('td', { 'data-label': head[4], text: e.detail ?? (e.value === null || e.value === undefined ? '' : fmtValue(e.value)) }),
      )));
  }
}
