// Console alerts: a popup in every open Monitor tab, coloured by severity, with the
// context, until acknowledged (from any tab); resolved alerts say so and fade out.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const key = (ruleId, labels) => `${ruleId}|${JSON.stringify(Object.entries(labels).sort())}`;

export class Popups {
  constructor(root) {
    this.root = root;
    this.open = new Map();
  }

  handle(data) {
    if (data.ack) {
      this.open.get(key(data.ruleId, data.labels))?.remove();
      this.open.delete(key(data.ruleId, data.labels));
      return;
    }
    for (const a of data.alerts) this.show(a, data.test);
  }

  show(a, test) {
    const k = key(a.ruleId, a.labels);
    this.open.get(k)?.remove();
    const c = a.context;
    const lines = [
      `${a.metric} ${Object.entries(a.labels).map(([x, y]) => `${x}=${y}`).join(' ')}`,
      c.lastError ? `⚠ ${c.lastError}` : null,
      Object.keys(c.gpuTemperatureCelsius ?? {}).length ? `GPU °C: ${Object.entries(c.gpuTemperatureCelsius).map(([g, v]) => `${g} ${v}`).join(', ')}` : null,
      c.topClient ? `top: ${c.topClient}` : null,
    ].filter(Boolean);
    const el = h('div', { class: `popup ${a.status === 'resolved' ? 'resolved' : a.severity}`, role: 'alert', dataset: { rule: a.ruleId } },
      h('strong', { text: `${test ? '[TEST] ' : ''}${a.status === 'resolved' ? t('alert.resolved') : t('alert.firing')} · ${a.ruleName}` }),
      h('div', { text: a.summary }),
      h('pre', { text: lines.join('\n') }),
      h('button', { type: 'button', text: t('alert.ack'), onclick: async () => {
        el.remove();
        this.open.delete(k);
        if (a.status === 'firing' && !test) await api('/api/monitor/alerts/active/ack', { body: { ruleId: a.ruleId, labels: a.labels } }).catch(() => {});
      } }),
    );
    this.root.prepend(el);
    this.open.set(k, el);
    if (a.status === 'resolved' || test) setTimeout(() => { el.remove(); this.open.delete(k); }, 10_000);
  }
}
