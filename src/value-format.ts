// A value as people read it, in a language: 842 ms, 4.83 s, 2.5 min, 97 %, 12 /min,
// 14,280 MiB. The page (public/js/format.js and dom.js load this module compiled, from
// /js/shared/value-format.js) and the server's messages (mail, webhooks, Alertmanager) print
// with this one formatter, so a notice and the card it came from say one value alike.
// It imports nothing, so it runs in both; src/metrics/shown.ts rounds as it prints.

const formats = new Map<string, Intl.NumberFormat>();
/** From here on a number prints in powers of ten ("1E308"), and is never given more decimals. */
const SCIENTIFIC = 1e15;

/** `v` with `digits` decimals (by default: none for whole numbers and from 100, 1 from 10, else 2). */
export function formatNumber(v: number | null | undefined, digits: number | undefined, lang: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  // A number no metric reaches (a threshold of 1e308 is valid) in powers of ten, not 309 digits.
  if (Math.abs(v) >= SCIENTIFIC) return new Intl.NumberFormat(lang, { notation: 'scientific' }).format(v);
  // Whole numbers (NVML's percentages, counts) print without decimals.
  const d = digits ?? (Number.isInteger(v) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  const key = `${lang}|${d}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(lang, { minimumFractionDigits: d, maximumFractionDigits: d });
    formats.set(key, format);
  }
  return format.format(v);
}

/** 842 ms, 4.83 s, 13.2 s, 2.5 min. */
export function formatDuration(ms: number | null | undefined, lang: string): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1_000) return `${formatNumber(ms, a < 10 && !Number.isInteger(ms) ? 1 : 0, lang)} ms`;
  if (a < 10_000) return `${formatNumber(ms / 1_000, 2, lang)} s`;
  if (a < 60_000) return `${formatNumber(ms / 1_000, 1, lang)} s`;
  return `${formatNumber(ms / 60_000, 1, lang)} min`;
}

/** 97 %, 4.5 %. */
export function formatPercent(v: number | null | undefined, lang: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return `${formatNumber(v, Number.isInteger(v) || Math.abs(v) >= 10 ? 0 : 1, lang)} %`;
}

/** A value in its catalogue unit. */
export function formatValue(v: number | null | undefined, unit: string | undefined, lang: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'ms':
      return formatDuration(v, lang);
    case '%':
      return formatPercent(v, lang);
    case 'ratio':
      return formatNumber(v, 2, lang);
    case 'per minute':
      return `${formatNumber(v, Number.isInteger(v) || Math.abs(v) >= 10 ? 0 : 1, lang)} /min`;
    case 'connections':
    case 'requests':
    case 'tasks':
    case 'errors':
    case 'preemptions':
      return formatNumber(v, Number.isInteger(v) ? 0 : 2, lang);
    case 'bool':
      return v ? '1' : '0';
    case 'MiB':
      return `${formatNumber(v, 0, lang)} MiB`;
    default:
      return `${formatNumber(v, undefined, lang)}${unit ? ` ${unit}` : ''}`;
  }
}

/**
 * The number in a formatted value ("4.83" of "4.83 s") and the scale its unit printed it at;
 * null for one in powers of ten (no decimals to add).
 */
function printedNumber(text: string, v: number): { match: RegExpExecArray; decimals: number; scale: number } | null {
  const match = /\d[\d,]*(\.(\d+))?/.exec(text);
  if (!match || Math.abs(v) >= SCIENTIFIC) return null;
  const shown = Number(match[0].replaceAll(',', ''));
  // The scale the unit printed at (ms, s or min for durations; 1 otherwise).
  const scale = [1, 1_000, 60_000].reduce((a, b) =>
    Math.abs(Math.abs(v) / b - shown) < Math.abs(Math.abs(v) / a - shown) ? b : a,
  );
  return { match, decimals: match[2]?.length ?? 0, scale };
}

/**
 * `x` as formatNumber prints it with `d` decimals, read back: the figure a reader sees
 * (Intl's rounding, which toFixed's does not always match: 1.005 prints "1.01", toFixed "1.00").
 */
const printedAt = (x: number, d: number): number =>
  Math.sign(x) * Number(formatNumber(Math.abs(x), d, 'en').replaceAll(',', ''));

/** Whether `x` with `d` decimals prints as `x` itself (a float's last bits aside). */
const exactAt = (x: number, d: number): boolean => Math.abs(printedAt(x, d) - x) <= 1e-9 * Math.max(1, Math.abs(x));

/**
 * A line (a rule's threshold) as it was set: the value's usual decimals, more where they
 * would round it ("95.5 %", not "96 %"; "0.385", not "0.39"), so that a value past the line
 * never reads as if it were not. Up to four more; a duration no decimals of its unit write
 * is printed in ms.
 */
export function formatLine(v: number | null | undefined, unit: string | undefined, lang: string): string {
  const text = formatValue(v, unit, lang);
  if (typeof v !== 'number' || !Number.isFinite(v)) return text;
  const p = printedNumber(text, v);
  if (!p) return text;
  const x = Math.abs(v) / p.scale;
  for (let d = p.decimals; d <= p.decimals + 4; d++)
    if (exactAt(x, d)) return d === p.decimals ? text : text.replace(p.match[0], formatNumber(x, d, lang));
  if (unit === 'ms') return `${formatNumber(v, exactAt(v, 0) ? 0 : 2, lang)} ms`;
  return text.replace(p.match[0], formatNumber(x, p.decimals + 4, lang));
}

/**
 * A value printed beside the line it is judged by, on the line's side as the value is: more
 * decimals where the usual ones would print the line itself or cross it ("0.598 (threshold
 * < 0.60)", not "0.60"; "95.3 % (threshold > 95.25 %)", not "95 %"). A value on the line is
 * printed as the line is.
 */
export function formatBeside(
  v: number | null | undefined,
  line: number | null | undefined,
  unit: string | undefined,
  lang: string,
): string {
  return formatAgainst(v, [line], unit, lang);
}

/**
 * A value beside several lines (a card's warning and critical): printed on its own side of
 * each, with the fewest decimals that keep it there ("45.6 %" between 45.5 and 45.75, where
 * "46 %" would read past both). A value on a line is printed as the line is.
 */
export function formatAgainst(
  v: number | null | undefined,
  lines: ReadonlyArray<number | null | undefined>,
  unit: string | undefined,
  lang: string,
): string {
  const text = formatValue(v, unit, lang);
  if (typeof v !== 'number' || !Number.isFinite(v)) return text;
  const known = lines.filter((l): l is number => typeof l === 'number' && Number.isFinite(l));
  if (known.includes(v)) return formatLine(v, unit, lang);
  const p = printedNumber(text, v);
  if (!p || known.length === 0) return text;
  const x = v / p.scale;
  const onItsSide = (d: number) =>
    known.every((line) => Math.sign(printedAt(x, d) - line / p.scale) === Math.sign(v - line));
  for (let d = p.decimals; d <= p.decimals + 6; d++)
    if (onItsSide(d)) return d === p.decimals ? text : text.replace(p.match[0], formatNumber(Math.abs(x), d, lang));
  return text;
}
