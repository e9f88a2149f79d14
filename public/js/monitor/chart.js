// Charts of Monitor series: uPlot line charts (one per call, several label sets as
// lines, y ticks in the series' unit, data replaceable in place), and SVG sparklines.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { fmtAxisTicks, fmtDateTime, fmtTime, fmtValue } from '../format.js';
import { t } from '../i18n.js';

/**
 * One line of a chart: its points ([time ms, value], a null value a break), named or by its labels.
 * @typedef {{ name?: string, labels?: Record<string, string>, colour?: string, points: Point[] }} ChartSeries
 * @typedef {[number, number | null]} Point
 */

/**
 * A chart drawn by lineChart(): its data replaceable in place.
 * @typedef {{ plot: uPlot, update(next: ChartSeries[]): void, destroy(): void }} LineChart
 */

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const SVG = 'http://www.w3.org/2000/svg';

/**
 * series: [{ labels | name, points: [[t, v], …] }] → aligned columns for uPlot (nulls where missing).
 * @param {ChartSeries[]} series
 * @returns {uPlot.AlignedData}
 */
export function align(series) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const cols = series.map((s) => {
    /** @type {(number | null)[]} */
    const col = new Array(times.length).fill(null);
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i !== undefined) col[i] = v;
    }
    return col;
  });
  return [times.map((t) => t / 1000), ...cols];
}

/**
 * Points with a null where more than `gapMs` passed between two of them: the line breaks
 * where the Monitor recorded nothing (checks missed) instead of joining across the gap.
 * @param {Point[]} points
 * @param {number} gapMs
 * @returns {Point[]}
 */
export function breakGaps(points, gapMs) {
  /** @type {Point[]} */
  const out = [];
  for (const p of points) {
    const prev = out.at(-1);
    if (prev && p[0] - prev[0] > gapMs) out.push([(prev[0] + p[0]) / 2, null]);
    out.push(p);
  }
  return out;
}

/** @param {ChartSeries} s */
const nameOf = (s) =>
  s.name ??
  (Object.entries(s.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') ||
    'value');

/**
 * The y axis as wide as its longest tick label (uPlot's axis-autosize recipe): a fixed
 * width cut "0.60 req/s" to "60 req/s". uPlot asks again after laying out; the second
 * answer stands, so the layout settles.
 * @param {uPlot} self
 * @param {string[] | null} values
 * @param {number} axisIdx
 * @param {number} cycleNum
 * @returns {number}
 */
function axisSize(self, values, axisIdx, cycleNum) {
  const axis = self.axes[axisIdx];
  // (uPlot keeps a laid-out axis's size in `_size`, and its font as [font, size]: not in its types.)
  const laidOut = Reflect.get(axis, '_size');
  if (cycleNum > 1 && typeof laidOut === 'number') return laidOut;
  let size = (axis.ticks?.size ?? 0) + (axis.gap ?? 0);
  const longest = (values ?? []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), '');
  const font = Reflect.get(axis, 'font');
  if (longest) {
    if (Array.isArray(font)) self.ctx.font = String(font[0]);
    size += self.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
}

/**
 * A line chart; `chart.update(series)` replaces its data without rebuilding it.
 * @param {HTMLElement} target
 * @param {ChartSeries[]} series
 * @param {{ width: number, height: number, unit: string | undefined, legend?: boolean }} options
 * @returns {LineChart}
 */
export function lineChart(target, series, { width, height, unit, legend = true }) {
  const plot = new uPlot(
    {
      width,
      height,
      legend: { show: legend, live: legend },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        // Times in the page's one format (uPlot's own would be "2:59pm", in the browser's language).
        {
          stroke: '#6b7280',
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#e5e7eb' },
          space: 80,
          values: (_u, ticks) => ticks.map((v) => fmtTime(v * 1000)),
        },
        {
          stroke: '#6b7280',
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#e5e7eb' },
          size: axisSize,
          space: 24,
          values: (_u, ticks) => fmtAxisTicks(ticks, unit),
        },
      ],
      series: [
        { label: t('chart.time'), value: (_u, v) => (v === null || v === undefined ? '—' : fmtDateTime(v * 1000)) },
        ...series.map((s, i) => ({
          label: nameOf(s),
          stroke: s.colour ?? COLOURS[i % COLOURS.length],
          width: 1.5,
          spanGaps: false,
          value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => fmtValue(v, unit),
        })),
      ],
    },
    align(series),
    target,
  );
  return {
    plot,
    update(next) {
      plot.setData(align(next));
    },
    destroy() {
      plot.destroy();
    },
  };
}

/**
 * Draws points ([t, v] pairs) into an <svg> as one polyline over [from, to].
 * @param {SVGSVGElement} svg
 * @param {readonly (readonly [number, number])[] | null | undefined} points
 * @param {number} from
 * @param {number} to
 */
export function sparkline(svg, points, from, to) {
  let line = svg.firstElementChild;
  if (!line) {
    svg.setAttribute('viewBox', '0 0 100 24');
    svg.setAttribute('preserveAspectRatio', 'none');
    line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.append(line);
  }
  if (!points || points.length === 0) {
    line.setAttribute('points', '');
    return;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of points) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const span = Math.max(1, to - from);
  let out = '';
  for (const [t, v] of points) {
    const x = ((t - from) / span) * 100;
    const y = 22 - ((v - lo) / (hi - lo)) * 20;
    out += `${x.toFixed(1)},${y.toFixed(1)} `;
  }
  // One point is a dash, not nothing.
  if (points.length === 1)
    out += `${Math.min(100, ((points[0][0] - from) / span) * 100 + 2).toFixed(1)},${out.split(',')[1]}`;
  line.setAttribute('points', out.trim());
}

/**
 * An empty <svg> for sparkline().
 * @param {string} cls
 * @returns {SVGSVGElement}
 */
export const svgEl = (cls) => {
  const s = document.createElementNS(SVG, 'svg');
  s.setAttribute('class', cls);
  s.setAttribute('aria-hidden', 'true');
  return s;
};
