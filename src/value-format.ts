// A value as people read it, in a language: 842 ms, 4.83 s, 2.5 min, 97 %, 12 /min,
// 14,280 MiB. The page (public/js/format.js and dom.js load this module compiled, from
// /js/shared/value-format.js) and the server's messages (mail, webhooks, Alertmanager) print
// with this one formatter, so a notice and the card it came from say one value alike.
// It imports nothing, so it runs in both; src/metrics/shown.ts rounds as it prints.

const formats = new Map<string, Intl.NumberFormat>();

/** `v` with `digits` decimals (by default: none for whole numbers and from 100, 1 from 10, else 2). */
export function formatNumber(v: number | null | undefined, digits: number | undefined, lang: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
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
 * A value printed beside the line it is judged by: more decimals where the usual ones would
 * print the line itself ("0.598 (threshold < 0.60)", not "0.60 (threshold < 0.60)").
 */
export function formatBeside(
  v: number | null | undefined,
  line: number | null | undefined,
  unit: string | undefined,
  lang: string,
): string {
  const text = formatValue(v, unit, lang);
  if (typeof v !== 'number' || typeof line !== 'number' || v === line) return text;
  const lineText = formatValue(line, unit, lang);
  const NUMBER = /\d[\d,]*(\.(\d+))?/;
  const m = NUMBER.exec(text);
  const l = NUMBER.exec(lineText);
  const read = (match: RegExpExecArray) => Number(match[0].replaceAll(',', ''));
  // "5.0 /min" beside "5 /min" reads as the line too: numbers compared, not texts.
  if (!m || !l || text.replace(m[0], '') !== lineText.replace(l[0], '') || read(m) !== read(l)) return text;
  // The scale the unit printed at (ms, s or min for durations; 1 otherwise).
  const shown = read(m);
  const scale = [1, 1_000, 60_000].reduce((a, b) => (Math.abs(v / b - shown) < Math.abs(v / a - shown) ? b : a));
  for (let d = (m[2]?.length ?? 0) + 1; d <= 6; d++) {
    const f = 10 ** d;
    if (Math.round((v / scale) * f) !== Math.round((line / scale) * f))
      return text.replace(m[0], formatNumber(v / scale, d, lang));
  }
  return text;
}
