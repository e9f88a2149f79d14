// How a log line reads: `WARN ocr Image preproc failed reason="…" image_hash=ab3f… value=93.0 gpu=0`.
// Numbers are rounded for people, label sets are spread as their own key=value pairs
// (never escaped JSON), and text with spaces or quotes is quoted. The search matches
// this text, and the browser draws lines with this very module (/js/shared/log-format.js).
import type { LogLine } from './log-line.js';

function jsonObject(v: string): Record<string, unknown> | undefined {
  if (!v.startsWith('{') || !v.endsWith('}')) return undefined;
  try {
    const o = JSON.parse(v) as unknown;
    return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function formatNumber(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(3)));
}

const quote = (s: string) => (s === '' || /[\s"=]/.test(s) ? JSON.stringify(s) : s);

/** One parameter's value as it reads in the line. */
export function formatValue(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') {
    const o = jsonObject(v);
    return o ? pairs(o) : quote(v);
  }
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object')
    return Array.isArray(v) ? v.map(formatValue).join(',') : pairs(v as Record<string, unknown>);
  return String(v);
}

const pairs = (o: Record<string, unknown>) =>
  Object.entries(o)
    .map(([k, x]) => `${k}=${formatValue(x)}`)
    .join(' ');

/** `key=value` for each parameter; a label set ({"gpu":"0"}) becomes its own pairs. */
export function formatParams(params: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    const o =
      typeof v === 'string'
        ? jsonObject(v)
        : v && typeof v === 'object' && !Array.isArray(v)
          ? (v as Record<string, unknown>)
          : undefined;
    if (o) {
      if (Object.keys(o).length) out.push(pairs(o));
    } else out.push(`${k}=${formatValue(v)}`);
  }
  return out.join(' ');
}

/** `INFO gui GUI step executed action=click target="登录按钮" duration=842ms` */
export function formatLine(line: LogLine): string {
  const params = formatParams(line.params);
  return `${line.level} ${line.module} ${line.event}${params ? ` ${params}` : ''}`;
}
