// Numbers for people: durations in ms or s, percentages, rates and the signed change
// against a baseline ("↑ 340 %"). One place, so a card, a chart axis and a table agree.
import { fmtNumber } from './dom.js';

/** 842 ms, 4.83 s, 13.2 s, 2.5 min. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1_000) return `${fmtNumber(ms, a < 10 && !Number.isInteger(ms) ? 1 : 0)} ms`;
  if (a < 10_000) return `${fmtNumber(ms / 1_000, 2)} s`;
  if (a < 60_000) return `${fmtNumber(ms / 1_000, 1)} s`;
  return `${fmtNumber(ms / 60_000, 1)} min`;
}

export function fmtPercent(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return `${fmtNumber(v, Number.isInteger(v) || Math.abs(v) >= 10 ? 0 : 1)} %`;
}

/** A value in its catalogue unit. */
export function fmtValue(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'ms':
      return fmtDuration(v);
    case '%':
      return fmtPercent(v);
    case 'ratio':
      return fmtNumber(v, 2);
    case 'per minute':
      return `${fmtNumber(v, Number.isInteger(v) || Math.abs(v) >= 10 ? 0 : 1)} /min`;
    case 'connections':
    case 'requests':
    case 'tasks':
    case 'errors':
    case 'preemptions':
      return fmtNumber(v, Number.isInteger(v) ? 0 : 2);
    case 'bool':
      return v ? '1' : '0';
    case 'MiB':
      return `${fmtNumber(v, 0)} MiB`;
    default:
      return `${fmtNumber(v)}${unit ? ` ${unit}` : ''}`;
  }
}

/** Axis ticks: short, with the unit. */
export function fmtAxis(v, unit) {
  if (unit === 'ms') return fmtDuration(v);
  if (unit === '%') return `${fmtNumber(v, Math.abs(v) >= 10 || Number.isInteger(v) ? 0 : 1)}%`;
  const a = Math.abs(v);
  const n = a >= 1e6 ? `${fmtNumber(v / 1e6, 1)}M` : a >= 1e4 ? `${fmtNumber(v / 1e3, 0)}k` : fmtNumber(v);
  return unit && unit !== 'ratio' ? `${n} ${unit}` : n;
}

const ARROW = { up: '↑', down: '↓', flat: '→' };

/** "↑ 340 %", "↓ 60 %", "→", or "↑" alone when the baseline was 0. */
export function fmtChange(trend, changePercent) {
  if (!trend) return '';
  if (trend === 'flat' || changePercent === null || changePercent === undefined) return ARROW[trend];
  return `${ARROW[trend]} ${fmtNumber(Math.abs(changePercent), 0)} %`;
}

/** "2 min ago", "45 s ago". */
export function fmtAge(ms) {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1_000))} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${fmtNumber(ms / 3_600_000, 1)} h`;
}
