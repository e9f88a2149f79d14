// uPlot line charts of Monitor series: one chart per call, several label sets as lines.
import uPlot from '/vendor/uplot/uPlot.esm.js';

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

/** series: [{ labels, points: [[t, v], …] }] → aligned columns for uPlot (nulls where missing). */
export function align(series) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const cols = series.map((s) => {
    const col = new Array(times.length).fill(null);
    for (const [t, v] of s.points) col[index.get(t)] = v;
    return col;
  });
  return [times.map((t) => t / 1000), ...cols];
}

export function lineChart(target, series, { width, height, unit, legend = true }) {
  const name = (s) => Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(' ') || 'value';
  return new uPlot({
    width, height,
    legend: { show: legend },
    cursor: { show: legend },
    scales: { x: { time: true } },
    axes: [{}, { label: unit, size: 50 }],
    series: [{}, ...series.map((s, i) => ({ label: name(s), stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false }))],
  }, align(series), target);
}
