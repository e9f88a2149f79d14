// Just enough of the Prometheus text format to read an engine's gauges and counters:
// `name{label="v",…} value` lines; comments, timestamps and exemplars are skipped.
// (Engines' /metrics pages are small; no parser library on npm is maintained for this.)

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
// A name starts only where no name character precedes it: without the lookbehind, a long run
// of name characters with no `="` after it was tried from every position (quadratic).
const LABEL = /(?<![a-zA-Z0-9_])([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, name, , labelText, valueText] = m;
    if (name === undefined || valueText === undefined) continue;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    if (labelText)
      for (const [, key, escaped] of labelText.matchAll(LABEL))
        if (key !== undefined && escaped !== undefined)
          labels[key] = escaped.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name, labels, value });
  }
  return out;
}

/**
 * The series of the first name present (engines renamed their metrics across versions),
 * or none. Each series is one engine or rank; callers must not add them up blindly: a
 * share such as KV-cache usage is per engine.
 */
export function seriesOf(samples: readonly Sample[], ...names: string[]): Sample[] {
  for (const name of names) {
    const matching = samples.filter((s) => s.name === name);
    if (matching.length) return matching;
  }
  return [];
}
