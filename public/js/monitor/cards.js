// The six cards: value, colour and a trend arrow (status never rests on colour alone),
// a 5-minute chart on hover, and a side panel with the full series on "expand".
import { api } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { t } from '../i18n.js';
import { lineChart } from './chart.js';

const ARROW = { up: '↑', down: '↓', flat: '→' };

export function cardValue(c) {
  if (c.value === null) return '—';
  if (c.id === 'gpu_memory' && c.detail?.usedMiB !== undefined) {
    return `${fmtNumber(c.detail.usedMiB, 0)} / ${fmtNumber(c.detail.totalMiB, 0)} MiB (${fmtNumber(c.value, 0)} %)`;
  }
  if (c.id === 'connections') return fmtNumber(c.value, 0);
  return `${fmtNumber(c.value)} ${c.unit}`;
}

function labelQuery(labels) {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

export class Cards {
  constructor(root, sidePanel) {
    this.root = root;
    this.side = sidePanel;
    this.last = null;
  }

  render(snapshot) {
    this.last = snapshot;
    this.root.replaceChildren(...snapshot.cards.map((c) => this.card(c)));
  }

  rerender() {
    if (this.last) this.render(this.last);
  }

  card(c) {
    const trend = c.trend ? ARROW[c.trend] : '';
    const el = h('div', { class: `card ${c.status}`, dataset: { card: c.id }, tabindex: 0 },
      h('div', { class: 'title', text: t(`card.${c.id}`) }),
      h('div', { class: 'value' }, h('span', { class: 'number', text: cardValue(c) }), h('span', { class: 'trend', text: trend, title: c.trend ?? '' })),
      h('div', { class: 'status', text: t(`status.${c.status}`) }),
      c.reason ? h('div', { class: 'reason', text: c.reason }) : null,
      h('button', { class: 'expand', type: 'button', title: 'expand', text: '⤢', onclick: () => this.expand(c) }),
    );
    let hover;
    el.addEventListener('mouseenter', async () => {
      if (c.value === null) return;
      hover = h('div', { class: 'hover-chart' });
      el.append(hover);
      const data = await api(`/api/monitor/series?metric=${c.metric}&labels=${encodeURIComponent(labelQuery(c.labels))}&window=5m`);
      if (hover.isConnected) lineChart(hover, data.series, { width: 260, height: 90, unit: data.unit, legend: false });
    });
    el.addEventListener('mouseleave', () => hover?.remove());
    return el;
  }

  /** Full series: every GPU or endpoint of the metric, 5 m / 15 m / 1 h. */
  async expand(c, span = '15m') {
    this.side.hidden = false;
    const chartBox = h('div');
    const header = h('div', { class: 'form-row' },
      h('strong', { text: `${t(`card.${c.id}`)} · ${c.metric}` }),
      h('span', { class: 'grow' }),
      ...['5m', '15m', '1h'].map((w) => h('button', { type: 'button', text: w, class: w === span ? 'active' : '', onclick: () => this.expand(c, w) })),
      h('button', { type: 'button', text: t('panel.close'), onclick: () => { this.side.hidden = true; } }),
    );
    this.side.replaceChildren(header, chartBox);
    // Every GPU, or every model endpoint next to their merged "*" series.
    const data = await api(`/api/monitor/series?metric=${c.metric}&window=${span}`);
    data.series = data.series.filter((s) => !s.labels.endpoint || s.labels.endpoint === '*' || /^\/(v1|api\/(ocr|gui|video))/.test(s.labels.endpoint));
    if (data.series.length === 0) chartBox.append(h('p', { class: 'muted', text: c.reason ?? '—' }));
    else lineChart(chartBox, data.series, { width: Math.min(680, globalThis.innerWidth - 40), height: 300, unit: data.unit });
  }
}
