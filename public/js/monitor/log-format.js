// How a log line reads in the browser: the same text the server searches
// (src/log/log-format.ts; test/log/log-format-mirror.test.ts keeps them equal).
function jsonObject(v) {
  if (!v.startsWith('{') || !v.endsWith('}')) return undefined;
  try {
    const o = JSON.parse(v);
    return o && typeof o === 'object' && !Array.isArray(o) ? o : undefined;
  } catch {
    return undefined;
  }
}

function formatNumber(v) {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return String(Number(v.toPrecision(3)));
}

const quote = (s) => (s === '' || /[\s"=]/.test(s) ? JSON.stringify(s) : s);
const pairs = (o) =>
  Object.entries(o)
    .map(([k, x]) => `${k}=${formatValue(x)}`)
    .join(' ');

export function formatValue(v) {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') {
    const o = jsonObject(v);
    return o ? pairs(o) : quote(v);
  }
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? v.map(formatValue).join(',') : pairs(v);
  return String(v);
}

export function formatParams(params) {
  const out = [];
  for (const [k, v] of Object.entries(params)) {
    const o = typeof v === 'string' ? jsonObject(v) : v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
    if (o) {
      if (Object.keys(o).length) out.push(pairs(o));
    } else out.push(`${k}=${formatValue(v)}`);
  }
  return out.join(' ');
}

export function formatLine(line) {
  const params = formatParams(line.params);
  return `${line.level} ${line.module} ${line.event}${params ? ` ${params}` : ''}`;
}
