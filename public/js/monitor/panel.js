// The side panel: a metric's full series over 5 m / 15 m / 1 h, every GPU or endpoint or
// several named lines together (the latency's P50/P95/P99), values in their unit.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { breakGaps, lineChart } from './chart.js';

/** @typedef {import('../types.js').SeriesAnswer} SeriesAnswer */
/** @typedef {import('./chart.js').ChartSeries} ChartSeries */

/**
 * @param {string} url
 * @returns {Promise<SeriesAnswer>}
 */
const seriesAt = (url) => api(url);

/** @param {Record<string, string> | undefined} labels */
const labelQuery = (labels) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * lines: [{ name?, metric, labels? }]; a line without a name stands for every series of
 * its metric matching the labels (filter() may drop some). A line breaks where more than
 * one and a half check intervals passed between two points (a missed check, or a window
 * with no requests: an error rate has no value then), never drawn across as if measured.
 * @param {HTMLElement} side
 * @param {{
 *   title: string,
 *   lines: { name?: string, metric: string, labels?: Record<string, string> }[],
 *   span?: string,
 *   emptyText?: string,
 *   filter?: (s: SeriesAnswer['series'][number]) => boolean,
 * }} options
 * @returns {Promise<void>}
 */
export async function showSeries(side, { title, lines, span = '15m', emptyText = '—', filter = () => true }) {
  side.hidden = false;
  const chartBox = h('div');
  const header = h(
    'div',
    { class: 'form-row' },
    h('strong', { class: 'panel-title', text: title }),
    h('span', { class: 'grow' }),
    ...['5m', '15m', '1h'].map((w) =>
      h('button', {
        type: 'button',
        text: w,
        class: w === span ? 'active' : '',
        onclick: () => showSeries(side, { title, lines, span: w, emptyText, filter }),
      }),
    ),
    h('button', {
      type: 'button',
      class: 'close',
      text: t('panel.close'),
      onclick: () => {
        side.hidden = true;
        fit?.disconnect();
      },
    }),
  );
  side.replaceChildren(header, chartBox);
  const answers = await Promise.all(
    lines.map((l) =>
      seriesAt(
        `/api/monitor/series?metric=${encodeURIComponent(l.metric)}&labels=${encodeURIComponent(labelQuery(l.labels))}&window=${span}`,
      ),
    ),
  );
  /** @type {ChartSeries[]} */
  const series = [];
  answers.forEach((d, i) => {
    const name = lines[i].name;
    if (name) {
      if (d.series[0]) series.push({ name, points: d.series[0].points });
    } else series.push(...d.series.filter(filter));
  });
  const gapMs = (answers[0]?.intervalMs ?? Number.POSITIVE_INFINITY) * 1.5;
  for (const s of series) s.points = breakGaps(s.points, gapMs);
  fit?.disconnect();
  if (series.length === 0) chartBox.append(h('p', { class: 'muted', text: emptyText }));
  else {
    const chart = lineChart(chartBox, series, { width: chartWidth(side), height: CHART_HEIGHT, unit: answers[0].unit });
    // The chart follows the panel's width: a phone turned or a window narrowed while it is
    // open left it 680 px wide in a 390 px panel, its right edge and legend cut off.
    fit = new ResizeObserver(() => {
      const width = chartWidth(side);
      if (width !== chart.plot.width) chart.plot.setSize({ width, height: CHART_HEIGHT });
    });
    fit.observe(side);
  }
}

const CHART_HEIGHT = 300;
/** @param {HTMLElement} side */
const chartWidth = (side) => Math.max(260, Math.min(680, side.clientWidth - 32));
/** @type {ResizeObserver | null} the panel's chart's, while it is shown */
let fit = null;
