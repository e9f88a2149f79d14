// A value as the page prints it: rounded to the digits public/js/format.js's fmtValue shows
// for its unit. A card's change against normal is computed from these, so "0.38 vs normal
// 0.38" can never carry "↑ 15 %". test/metrics/shown.test.ts keeps the two in step.

/**
 * `v` to `digits` decimals as Intl.NumberFormat rounds: the shortest decimal that reads back
 * as `v` ("84.425", not the double's 84.42499…), halves away from zero.
 */
function fixed(v: number, digits: number): number {
  const a = Math.abs(v);
  const text = String(a);
  if (text.includes('e')) return Number(v.toFixed(digits));
  const rounded = Number(`${Math.round(Number(`${text}e${digits}`))}e-${digits}`);
  return v < 0 ? -rounded : rounded;
}

/** fmtNumber's digits when none are given. */
const autoDigits = (v: number) => (Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
/** fmtPercent's (and "/min"'s) digits. */
const percentDigits = (v: number) => (Number.isInteger(v) || Math.abs(v) >= 10 ? 0 : 1);

/** fmtDuration: 842 ms, 4.83 s, 13.2 s, 2.5 min. */
function durationShown(ms: number): number {
  const a = Math.abs(ms);
  if (a < 1_000) return fixed(ms, a < 10 && !Number.isInteger(ms) ? 1 : 0);
  if (a < 10_000) return fixed(ms / 1_000, 2) * 1_000;
  if (a < 60_000) return fixed(ms / 1_000, 1) * 1_000;
  return fixed(ms / 60_000, 1) * 60_000;
}

/** `v` (in the catalogue unit `unit`) rounded as the page shows it, still in that unit. */
export function roundShown(v: number, unit: string): number {
  if (!Number.isFinite(v)) return v;
  switch (unit) {
    case 'ms':
      return durationShown(v);
    case '%':
    case 'per minute':
      return fixed(v, percentDigits(v));
    case 'ratio':
      return fixed(v, 2);
    case 'connections':
    case 'requests':
    case 'tasks':
    case 'errors':
    case 'preemptions':
      return Number.isInteger(v) ? v : fixed(v, 2);
    case 'bool':
      return v ? 1 : 0;
    case 'MiB':
      return fixed(v, 0);
    default:
      return fixed(v, autoDigits(v));
  }
}
