// Numbers and times for people: durations in ms or s, percentages, rates, the signed
// change against a baseline ("↑ 340 %"), and one time format per language: 15:03:31 (a
// date before it when not today), relative ("2 min ago") where a moment ages on screen.
// One place, so a card, a chart, the log and a notice agree.
import { fmtNumber, pageLang } from './dom.js';
import {
  formatAgainst,
  formatBeside,
  formatDuration,
  formatLine,
  formatPercent,
  formatValue,
} from './shared/value-format.js';
import { locale, t } from './i18n.js';

// The values themselves are src/value-format.ts's, in the page's language: the server's
// messages print them with the same code.
/**
 * 842 ms, 4.83 s, 13.2 s, 2.5 min.
 * @param {number | null | undefined} ms
 */
export const fmtDuration = (ms) => formatDuration(ms, pageLang());

/** @param {number | null | undefined} v */
export const fmtPercent = (v) => formatPercent(v, pageLang());

/**
 * A value in its catalogue unit.
 * @param {number | null | undefined} v
 * @param {string | undefined} unit
 * @returns {string}
 */
export const fmtValue = (v, unit) => formatValue(v, unit, pageLang());

/**
 * A line (a rule's threshold) as it was set: more decimals where the usual ones would round
 * it ("95.5 %", not "96 %").
 * @param {number | null | undefined} v
 * @param {string | undefined} unit
 */
export const fmtLine = (v, unit) => formatLine(v, unit, pageLang());

/**
 * A value printed beside the line it is judged by, on the line's side as the value is
 * ("0.598 (threshold < 0.60)", not "0.60 (threshold < 0.60)").
 * @param {number | null | undefined} v
 * @param {number | null | undefined} line
 * @param {string | undefined} unit
 */
export const fmtBeside = (v, line, unit) => formatBeside(v, line, unit, pageLang());

/**
 * A card's big number, on its own side of each of its lines ("45.7 %" under
 * "critical > 45.75 %", not "46 %").
 * @param {number | null | undefined} v
 * @param {{ warn: { value: number } | null, crit: { value: number } | null } | null | undefined} lines
 * @param {string | undefined} unit
 */
export const fmtAgainst = (v, lines, unit) =>
  formatAgainst(v, [lines?.warn?.value, lines?.crit?.value], unit, pageLang());

/**
 * A value, and an AND rule's second value after it, as the firing list and History show a
 * change ("80 % · gui_step_avg_duration 4.20 s"); without a second condition, the first alone.
 * @param {string} first
 * @param {{ metric: string, threshold: number } | undefined} and
 * @param {number | null | undefined} andValue
 * @param {(metric: string) => string | undefined} unitOf
 */
export const fmtWithSecond = (first, and, andValue, unitOf) =>
  and && andValue !== undefined
    ? `${first} · ${and.metric} ${fmtBeside(andValue, and.threshold, unitOf(and.metric))}`
    : first;

/**
 * The fewest decimals (at most 3) that write every value exactly: [0, 0.25, 0.5] → 2.
 * @param {number[]} values
 */
function digitsFor(values) {
  for (let d = 0; d < 3; d++) {
    const f = 10 ** d;
    if (values.every((v) => Math.abs(v * f - Math.round(v * f)) < 1e-6 * Math.max(1, Math.abs(v * f)))) return d;
  }
  return 3;
}

/**
 * An axis's ticks, all in one unit with one number of decimals, as a person would draw the
 * axis: "0 s, 2 s … 12 s", not "0 ms, 2.00 s … 12.0 s"; "0.50 req/s" keeps its digits.
 * @param {number[]} ticks
 * @param {string | undefined} unit
 */
export function fmtAxisTicks(ticks, unit) {
  const top = Math.max(0, ...ticks.map((v) => Math.abs(v)));
  /**
   * @param {number} div
   * @param {string} suffix
   */
  const scaled = (div, suffix) => {
    const d = digitsFor(ticks.map((v) => v / div));
    return ticks.map((v) => `${fmtNumber(v / div, d)}${suffix}`);
  };
  if (unit === 'ms') {
    if (top >= 60_000) return scaled(60_000, ' min');
    if (top >= 1_000) return scaled(1_000, ' s');
    return scaled(1, ' ms');
  }
  const u = unit === '%' ? ' %' : unit && unit !== 'ratio' ? ` ${unit}` : '';
  if (top >= 1e6) return scaled(1e6, `M${u}`);
  if (top >= 1e4) return scaled(1e3, `k${u}`);
  return scaled(1, u);
}

const ARROW = { up: '↑', down: '↓', flat: '→' };

/**
 * "↑ 340 %", "↓ 60 %", "→", or "↑" alone when the baseline was 0.
 * @param {import('./types.js').Trend | null | undefined} trend
 * @param {number | null | undefined} changePercent
 */
export function fmtChange(trend, changePercent) {
  if (!trend) return '';
  if (trend === 'flat' || changePercent === null || changePercent === undefined) return ARROW[trend];
  return `${ARROW[trend]} ${fmtNumber(Math.abs(changePercent), 0)} %`;
}

/**
 * A span of time in the page's language: "45 s", "2 min", "1.5 h" (45 秒, 2 分钟, 1.5 小时).
 * @param {number} ms
 */
export function fmtAge(ms) {
  if (ms < 60_000) return t('age.s', { n: Math.max(0, Math.round(ms / 1_000)) });
  if (ms < 3_600_000) return t('age.min', { n: Math.round(ms / 60_000) });
  return t('age.h', { n: fmtNumber(ms / 3_600_000, 1) });
}

// The screen's "now" is the server's (its snapshots say when they were taken): ages agree
// with the times the server stamped, whatever the browser's clock says.
let serverOffsetMs = 0;
/** @param {number} at the server's time of a snapshot, ms */
export function setServerNow(at) {
  if (Number.isFinite(at)) serverOffsetMs = at - Date.now();
}
export const serverNow = () => Date.now() + serverOffsetMs;

// 24-hour hours, minutes and seconds in both languages; one formatter per language.
/** @type {Record<string, Intl.DateTimeFormat>} */
const TIMES = {};
/** @type {Record<string, Intl.DateTimeFormat>} */
const DAYS = {};
function timeFormat() {
  TIMES[locale()] ??= new Intl.DateTimeFormat(locale(), {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return TIMES[locale()];
}
/** @param {boolean} withYear */
function dayFormat(withYear) {
  const key = `${locale()}|${withYear}`;
  DAYS[key] ??= new Intl.DateTimeFormat(locale(), {
    ...(withYear ? { year: 'numeric' } : {}),
    month: 'short',
    day: 'numeric',
  });
  return DAYS[key];
}

/**
 * The one time of day: 15:03:31.
 * @param {number | null | undefined} ms
 */
export function fmtTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  return timeFormat().format(ms);
}

/**
 * A moment: 15:03:31 today; "Dec 6 15:03:31" (12月6日 15:03:31) another day.
 * @param {number | null | undefined} ms
 */
export function fmtDateTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const day = new Date(ms);
  const today = new Date(serverNow());
  if (day.toDateString() === today.toDateString()) return fmtTime(ms);
  return `${dayFormat(day.getFullYear() !== today.getFullYear()).format(ms)} ${fmtTime(ms)}`;
}

/**
 * "2 min ago" (2 分钟前), against the server's now.
 * @param {number | null} ms
 */
export function fmtAgo(ms) {
  return t('time.ago', { age: fmtAge(Math.max(0, serverNow() - Number(ms))) });
}

/**
 * A relative moment for h(): its text, and the absolute time on hover.
 * @param {number | null} ms
 */
export const agoProps = (ms) => ({ text: fmtAgo(ms), title: fmtDateTime(ms) });
