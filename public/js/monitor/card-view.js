// One card, whichever figure it shows: the overview's cards (cards.js) and Model Metrics'
// (model.js) each say what their figure is in a CardFace; this view draws it. One DOM, one
// hover chart, one way a card changes between checks (rows rebuilt only when their text did).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { lineChart, sparkline, svgEl } from './chart.js';

/** A card's sparkline and hover chart: the last 5 minutes. */
export const SPARK_MS = 5 * 60_000;

/**
 * What a card says, in the page's language.
 * @typedef {{
 *   className: string,
 *   title: string,
 *   metricName?: string,
 *   tooltip?: string,
 *   number: string,
 *   change: { text: string, className: string, title: string },
 *   facts: Array<{ text: string, className?: string }>,
 *   factsTitle: string,
 *   lines: string[],
 *   linesTitle: string,
 *   spark: { points: import('../types.js').Spark, from: number, to: number },
 *   status: string,
 *   age?: { text: string, title: string },
 *   reason: string,
 *   hover: { label: string, series: import('./chart.js').ChartSeries[], unit: string, legend: boolean, height: number },
 * }} CardFace
 */

/** Rows of text, rebuilt only when one of them changed (a card redraws at every check). */
class Rows {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
    /** @type {string | undefined} */
    this.shown = undefined;
  }

  /** @param {Array<{ text: string, className?: string }>} rows */
  set(rows) {
    const key = rows.map((r) => `${r.className ?? ''}\u0001${r.text}`).join('\u0000');
    if (key === this.shown) return;
    this.shown = key;
    this.el.replaceChildren(
      ...rows.map((r) => h('span', r.className ? { class: r.className, text: r.text } : { text: r.text })),
    );
  }
}

export class CardView {
  /**
   * @param {{ dataset: Record<string, string>, withMetricName: boolean, onExpand: () => void }} opts
   */
  constructor(opts) {
    /** @type {CardFace | undefined} the face last drawn */
    this.face = undefined;
    /** @type {{ box: HTMLElement, chart: import('./chart.js').LineChart } | null} */
    this.hover = null;
    this.title = h('span', { class: 'title' });
    this.metricName = h('code', { class: 'metric-name' });
    this.expandBtn = h('button', { class: 'expand', type: 'button', text: '⤢', onclick: () => opts.onExpand() });
    this.number = h('span', { class: 'number' });
    this.change = h('span', { class: 'trend' });
    this.facts = h('div', { class: 'facts' });
    this.factRows = new Rows(this.facts);
    this.spark = svgEl('spark');
    this.status = h('span', { class: 'status' });
    this.age = h('span', { class: 'age' });
    this.lines = h('div', { class: 'lines' });
    this.lineRows = new Rows(this.lines);
    this.reason = h('div', { class: 'reason' });
    const titles = opts.withMetricName ? h('span', { class: 'titles' }, this.title, this.metricName) : this.title;
    this.el = h(
      'div',
      { class: 'card', dataset: opts.dataset, tabindex: 0 },
      h('div', { class: 'head' }, titles, this.expandBtn),
      h('div', { class: 'value' }, this.number, this.change),
      this.facts,
      this.spark,
      h('div', { class: 'foot' }, this.status, this.age),
      this.lines,
      this.reason,
    );
    this.el.addEventListener('mouseenter', () => this.openHover());
    this.el.addEventListener('mouseleave', () => this.closeHover());
  }

  /** @param {CardFace} f */
  draw(f) {
    this.face = f;
    this.el.className = f.className;
    if (f.tooltip !== undefined) this.el.title = f.tooltip;
    this.title.textContent = f.title;
    this.metricName.textContent = f.metricName ?? '';
    this.expandBtn.title = t('card.expand');
    this.expandBtn.setAttribute('aria-label', t('card.expand'));
    this.number.textContent = f.number;
    this.change.textContent = f.change.text;
    this.change.className = f.change.className;
    this.change.title = f.change.title;
    this.factRows.set(f.facts);
    this.facts.title = f.factsTitle;
    sparkline(this.spark, f.spark.points, f.spark.from, f.spark.to);
    this.status.textContent = f.status;
    this.age.textContent = f.age?.text ?? '';
    this.age.title = f.age?.title ?? '';
    this.lineRows.set(f.lines.map((text) => ({ text })));
    this.lines.title = f.linesTitle;
    this.reason.textContent = f.reason;
    this.reason.hidden = !f.reason;
    if (this.hover) this.hover.chart.update(f.hover.series);
  }

  openHover() {
    const f = this.face;
    if (!f || f.spark.points.length === 0 || this.hover) return;
    const box = h(
      'div',
      { class: 'hover-chart', role: 'img', 'aria-label': f.hover.label },
      h('div', { class: 'muted small', text: f.hover.label }),
    );
    this.el.append(box);
    const width = Math.max(220, Math.min(420, this.el.clientWidth - 8));
    this.hover = {
      box,
      chart: lineChart(box, f.hover.series, {
        width,
        height: f.hover.height,
        unit: f.hover.unit,
        legend: f.hover.legend,
      }),
    };
  }

  closeHover() {
    this.hover?.chart.destroy();
    this.hover?.box.remove();
    this.hover = null;
  }
}
