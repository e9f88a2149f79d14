// An alert's one-line summary (and the names its "why" lines give places), "latency_ms_p95 = 2.14 s (threshold > 2.00 s)": written by
// the server in English for mail, webhooks and Alertmanager, and by the console's popup in
// the page's language. Both take the sentence and its values from here (the browser loads
// this module compiled, from /js/shared/alert-summary.js; i18n.js takes the English words
// from it), so a notice and the popup it came with say one thing.
import { formatBeside, formatLine, formatNumber } from './value-format.js';
import { pastLine } from './value-range.js';

/** The English sentences; the page has its own words for other languages under the same keys. */
export const SUMMARY_EN = {
  'alert.summary': '{m} = {v} (threshold {op} {th})',
  'alert.summary.resolved': '{m} is back to {v}',
  // An AND rule resolves when either condition stops holding: the sentence names the one(s) that did.
  'alert.summary.resolved.both': '{m} is back to {v} and {m2} to {v2}',
  'alert.summary.surge': '{m} changed {v} % against its {b} mean (threshold {op} {th} %)',
  // An AND rule's notice gives both conditions' values: the second is half of why it fired.
  'alert.summary.and': '{m} = {v} (threshold {op} {th}) and {m2} = {v2} (threshold {op2} {th2})',
  'alert.summary.surge.and':
    '{m} changed {v} % against its {b} mean (threshold {op} {th} %) and {m2} = {v2} (threshold {op2} {th2})',
  'alert.noData': 'no data',
} as const;

/**
 * The English names of where a change is concentrated (a notice's "why" lines): the console
 * says them (i18n.js takes these for English), and so do mail and webhooks (why.ts).
 */
export const WHY_DIMENSIONS_EN = {
  'why.dimension.endpoint': 'endpoint',
  'why.dimension.gpu': 'GPU',
  'why.dimension.engine': 'engine',
  'why.dimension.module': 'module',
  'why.dimension.code': 'error code',
} as const;

export type SummaryKey = Exclude<keyof typeof SUMMARY_EN, 'alert.noData'>;

export interface SummaryFacts {
  metric: string;
  /** The metric's catalogue unit (undefined: a bare number); a surge rule's change is in %. */
  unit: string | undefined;
  /** The value checked (for a surge rule, its change in %); null when there was none. */
  value: number | null;
  op: string;
  threshold: number;
  /** A surge rule's baseline window ('1h', '1d', …). */
  surgeBaseline?: string | undefined;
  resolved: boolean;
  /** An AND rule's second condition, and its value at the same check. */
  and?: SecondCondition | undefined;
}

export interface SecondCondition {
  metric: string;
  unit: string | undefined;
  value: number | null;
  op: string;
  threshold: number;
}

/** Which sentence, and its values written in `lang`; `noData` is the words for a missing value. */
export function summaryParts(
  f: SummaryFacts,
  lang: string,
  noData: string,
): { key: SummaryKey; params: Record<string, string> } {
  const second = f.and && !f.resolved ? secondParams(f.and, lang, noData) : null;
  // (A resolved notice says what came back: resolvedParts.)
  if (f.surgeBaseline && !f.resolved) {
    const params = {
      m: f.metric,
      v: f.value === null ? noData : formatNumber(f.value, 0, lang),
      b: f.surgeBaseline,
      op: f.op,
      th: formatLine(f.threshold, undefined, lang),
    };
    return second
      ? { key: 'alert.summary.surge.and', params: { ...params, ...second } }
      : { key: 'alert.summary.surge', params };
  }
  const { v, th } = valueAndThreshold(f, lang, noData);
  if (f.resolved) return resolvedParts(f, v, lang, noData);
  const params = { m: f.metric, v, op: f.op, th };
  return second ? { key: 'alert.summary.and', params: { ...params, ...second } } : { key: 'alert.summary', params };
}

/** Whether `value op threshold` holds (a missing value holds nothing). */
const holds = (value: number | null, op: string, threshold: number): boolean =>
  value !== null && pastLine(value, op, threshold);

/**
 * "… is back to …": of an AND rule, the condition that stopped holding (the rule resolves
 * when either does; the other may still be past its line), or both.
 */
function resolvedParts(
  f: SummaryFacts,
  v: string,
  lang: string,
  noData: string,
): { key: SummaryKey; params: Record<string, string> } {
  const first = { key: 'alert.summary.resolved' as const, params: { m: f.metric, v } };
  if (!f.and || f.surgeBaseline) return first;
  const firstHolds = holds(f.value, f.op, f.threshold);
  const secondHolds = holds(f.and.value, f.and.op, f.and.threshold);
  if (!firstHolds && secondHolds) return first;
  const second = secondParams(f.and, lang, noData);
  if (firstHolds && !secondHolds) return { key: 'alert.summary.resolved', params: { m: second.m2, v: second.v2 } };
  return { key: 'alert.summary.resolved.both', params: { m: f.metric, v, m2: second.m2, v2: second.v2 } };
}

/** The second condition's words: {m2} = {v2} (threshold {op2} {th2}). */
function secondParams(
  c: SecondCondition,
  lang: string,
  noData: string,
): { m2: string; v2: string; op2: string; th2: string } {
  const { v, th } = valueAndThreshold({ unit: c.unit, value: c.value, threshold: c.threshold }, lang, noData);
  return { m2: c.metric, v2: v, op2: c.op, th2: th };
}

/** The unit a rule's values are in: a surge rule's are its change in %, whatever the metric's unit. */
export const ruleUnit = (metricUnit: string | undefined, surgeBaseline: string | undefined): string | undefined =>
  surgeBaseline ? '%' : metricUnit;

/**
 * The value and the threshold as the summary writes them ("2.14 s", "2.00 s"): also what
 * mail and Alertmanager's description print in their "Value" and "Breaching checks" rows.
 */
export function valueAndThreshold(
  f: Pick<SummaryFacts, 'unit' | 'value' | 'threshold' | 'surgeBaseline'>,
  lang: string,
  noData: string,
): { v: string; th: string } {
  const unit = ruleUnit(f.unit, f.surgeBaseline);
  return {
    v: f.value === null ? noData : formatBeside(f.value, f.threshold, unit, lang),
    th: formatLine(f.threshold, unit, lang),
  };
}

/** `{name}` in `template` replaced by its parameter. */
export const fillSummary = (template: string, params: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);

/** The summary in English, as mail, webhooks and Alertmanager carry it. */
export function englishSummary(f: SummaryFacts): string {
  const { key, params } = summaryParts(f, 'en', SUMMARY_EN['alert.noData']);
  return fillSummary(SUMMARY_EN[key], params);
}
