// The Monitor's alert rules as a Prometheus alerting-rules file, for a fleet whose
// Prometheus evaluates them over every node's /metrics. Each rule becomes one alert with
// the same condition in PromQL (thresholds in Prometheus units), `for:` equivalent to its
// duration, its severity as a label; rules PromQL cannot express are listed with the
// reason at the top of the file. Pure: rules and settings in, YAML text out.
import { metricQuery, promString, wellFormedText, type MetricQuery, type PromqlContext } from './promql.js';
import { ruleTimings } from './evaluate.js';
import { outsideRuleLimits, type Condition, type Rule } from './rule-schema.js';
import { IDENTITY_METRIC } from '../metrics/prometheus-identity.js';
import { RULE_ID_LABEL } from './alert-labels.js';
import { metricDef } from '../metrics/catalogue.js';
import { formatLine } from '../value-format.js';

export interface RulesExportOptions {
  /** The Monitor's check interval: the group's evaluation interval, and what a check lasts. */
  intervalMs: number;
  /** The Monitor's sliding window: the range of every rate and quantile. */
  windowMs: number;
  modelEndpoints: readonly string[];
  /** Whether /metrics has a route's latency and size histograms (HistogramRoutes). */
  histogramEndpoint: (endpoint: string) => boolean;
}

export interface PrometheusAlert {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RulesExport {
  interval: string;
  alerts: PrometheusAlert[];
  skipped: Array<{ id: string; name: string; reason: string }>;
}

/** A Prometheus duration ("1h30m", "20s", "500ms") for a number of milliseconds. */
export function promDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

/**
 * How long a condition must hold, in Prometheus terms: fires at the Nth check = held (N−1)
 * intervals. `forMs`: its `for` (ruleTimings), null without one.
 */
function holdMs(c: Pick<Condition, 'consecutiveChecks'>, forMs: number | null, intervalMs: number): number {
  return forMs ?? ((c.consecutiveChecks ?? 1) - 1) * intervalMs;
}

const number = (v: number) => String(Number(v.toPrecision(12)));
/** User-typed text inside an annotation, which Prometheus expands as a Go template. */
const literal = (s: string) => s.replaceAll('{{', '{{ "{{" }}');

type Query = Extract<MetricQuery, { expr: string }>;

function conditionExpr(q: Query, op: string, threshold: number, bool = false): string {
  return `(${q.expr}) ${op}${bool ? ' bool' : ''} ${number(threshold * q.scale)}`;
}

/** One rule → one alert, or the reason it has no PromQL equivalent. */
export function toPrometheusAlert(rule: Rule, o: RulesExportOptions): PrometheusAlert | { reason: string } {
  if (!rule.enabled) return { reason: 'disabled in the Monitor' };
  // The export is proven for the rules the API accepts; one saved before its limits waits for an edit.
  const outside = outsideRuleLimits(rule);
  if (outside) return { reason: `saved before today's rule limits (${outside}): edit the rule to export it` };
  if (rule.perRequest)
    return {
      reason:
        "per-request rule: it judges every single request as it is answered; Prometheus sees counts and histograms, not requests (the histogram's buckets can still tell how many exceeded a bound)",
    };
  if (rule.sampleSeconds !== undefined)
    return {
      reason:
        "sample-based rule: it reads NVML's own utilisation samples between checks, which /metrics does not export",
    };
  const ctx: PromqlContext = {
    window: promDuration(Math.max(o.windowMs, 2 * o.intervalMs)),
    modelEndpoints: o.modelEndpoints,
    histogramEndpoint: o.histogramEndpoint,
  };
  const q = metricQuery(rule.metric, rule.labels, ctx);
  if ('unsupported' in q) return { reason: `${rule.metric}: ${q.unsupported}` };
  const step = promDuration(o.intervalMs);
  // Within today's limits (checked above), each of its durations parses.
  const timings = ruleTimings(rule);

  let value: Query = q;
  if (rule.surgeBaseline && timings.surgeBaselineMs !== null) {
    // Percent change against the mean of the baseline window before this check.
    const baseline = `avg_over_time((${q.expr})[${promDuration(timings.surgeBaselineMs)}:${step}] offset ${step})`;
    value = { ...q, expr: `((${q.expr}) - ${baseline}) / abs(${baseline}) * 100`, scale: 1 };
  }
  let expr = conditionExpr(value, rule.op, rule.threshold);
  if (rule.recoverThreshold !== undefined) {
    // Hysteresis: once firing, the alert holds until the value crosses the recovery threshold.
    expr = `${expr} or (${conditionExpr(value, rule.op, rule.recoverThreshold)} and on(${value.labels.join(', ')}) ALERTS{alertname=${promString(rule.name)},${RULE_ID_LABEL}=${promString(rule.id)},alertstate="firing"})`;
  }
  if (rule.and) {
    const b = metricQuery(rule.and.metric, rule.and.labels, ctx);
    if ('unsupported' in b) return { reason: `and: ${rule.and.metric}: ${b.unsupported}` };
    const held = holdMs(rule.and, timings.andForMs, o.intervalMs);
    const bExpr =
      held > 0
        ? `min_over_time((${conditionExpr(b, rule.and.op, rule.and.threshold, true)})[${promDuration(held)}:${step}]) == 1`
        : conditionExpr(b, rule.and.op, rule.and.threshold);
    const shared = value.labels.filter((l) => b.labels.includes(l));
    expr = `(${expr}) and on(${shared.join(', ')}) (${bExpr})`;
  }
  if (rule.noData === 'alert') expr = `(${expr}) or absent(${value.expr})`;

  const held = holdMs(rule, timings.forMs, o.intervalMs);
  const alert: PrometheusAlert = {
    alert: rule.name,
    expr,
    // The rule's id makes each alert its own series even where two rules share a name.
    labels: { severity: rule.severity, ...value.extraLabels, [RULE_ID_LABEL]: literal(rule.id) },
    annotations: {
      // The threshold as the node's own summary writes it ("> 1.2345 s", not "> 1234.5"):
      // Alertmanager shows this alert beside the node's own for the same rule.
      summary: `${literal(rule.name)}: ${rule.surgeBaseline ? `${rule.metric} changed ${rule.op} ${formatLine(rule.threshold, undefined, 'en')} % against its ${rule.surgeBaseline} mean` : condition(rule)}${rule.and ? ` and ${condition(rule.and)}` : ''} on {{ $labels.instance }}`,
      description: `Exported from the Qwen3-VL Monitor's rule ${literal(rule.id)}; value {{ $value }} in Prometheus units (ratios 0-1, seconds).`,
      monitor_rule_id: literal(rule.id),
    },
  };
  if (held > 0) alert.for = promDuration(held);
  if (rule.keepFiringFor) alert.keep_firing_for = promDuration(timings.keepFiringMs);
  return alert;
}

/** "latency_ms_p99 > 1.2345 s": a condition with its threshold in the metric's unit, as set. */
const condition = (c: { metric: string; op: string; threshold: number }) =>
  `${c.metric} ${c.op} ${formatLine(c.threshold, metricDef(c.metric)?.unit, 'en')}`;

export function toPrometheusRules(rules: readonly Rule[], o: RulesExportOptions): RulesExport {
  const out: RulesExport = { interval: promDuration(o.intervalMs), alerts: [], skipped: [] };
  for (const rule of rules) {
    const r = toPrometheusAlert(rule, o);
    if ('reason' in r) out.skipped.push({ id: rule.id, name: rule.name, reason: r.reason });
    else out.alerts.push(r);
  }
  return out;
}

/**
 * Characters JSON leaves as they are that YAML must not see raw: DEL and the C1 controls (not
 * printable to YAML), NEL, LS and PS (line breaks to YAML 1.1, folded inside a quoted
 * string), the BOM and the two noncharacters U+FFFE and U+FFFF.
 */
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;
const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');
/** A YAML double-quoted string: JSON's quoting (valid YAML) with what YAML reads otherwise escaped. */
export const yamlString = (s: string) => JSON.stringify(wellFormedText(s)).replace(YAML_UNSAFE, (c) => `\\u${hex4(c)}`);
const q = yamlString;
/** Text inside a YAML comment: one line, whatever it holds. */
const oneLine = (s: string) => wellFormedText(s).replace(/[\s\p{Cc}\ufffe\uffff]+/gu, ' ');

/**
 * The export's own check that Prometheus names each node as the node names itself: the
 * node's alerts (MONITOR_INSTANCE, MONITOR_JOB) and the exported rules' (the scrape
 * target's `instance` and `job`) must carry one label set, or Alertmanager holds two groups
 * for one problem and an inhibition `equal: [alertname, instance]` cannot span them.
 */
export const SELF_CHECK: PrometheusAlert = {
  alert: 'Qwen3VLMonitorLabelsDisagree',
  expr: `${IDENTITY_METRIC} unless on(instance, job) label_replace(label_replace(${IDENTITY_METRIC}, "instance", "$1", "monitor_instance", "(.+)"), "job", "$1", "monitor_job", "(.+)")`,
  labels: { severity: 'warning' },
  annotations: {
    summary:
      'Prometheus scrapes {{ $labels.monitor_instance }} as instance {{ $labels.instance }}, job {{ $labels.job }}; its own alerts say instance {{ $labels.monitor_instance }}, job {{ $labels.monitor_job }}',
    description:
      "Give the scrape target the label instance: {{ $labels.monitor_instance }} under job_name {{ $labels.monitor_job }} (or set the node's MONITOR_INSTANCE and MONITOR_JOB to Prometheus' names), so the node's alerts and these rules' alerts are one group in Alertmanager.",
  },
};

export function rulesYaml(rules: readonly Rule[], o: RulesExportOptions): string {
  const r = toPrometheusRules(rules, o);
  const lines = [
    '# Alerting rules exported from the Qwen3-VL WebUI Monitor (GET /api/monitor/alerts/rules/export.prometheus.yml).',
    '# Load with rule_files in prometheus.yml; check with: promtool check rules <this file>.',
    `# Windowed figures use the Monitor's window; the group is evaluated every check (${r.interval}).`,
  ];
  if (r.skipped.length) {
    lines.push('#', '# Not exported (no PromQL equivalent):');
    for (const s of r.skipped) lines.push(`#   ${oneLine(s.name)} (${s.id}): ${oneLine(s.reason)}`);
  }
  lines.push('groups:', `  - name: ${q('qwen3vl-monitor')}`, `    interval: ${q(r.interval)}`, '    rules:');
  for (const a of [...r.alerts, SELF_CHECK]) {
    lines.push(`      - alert: ${q(a.alert)}`, `        expr: ${q(a.expr)}`);
    if (a.for) lines.push(`        for: ${q(a.for)}`);
    if (a.keep_firing_for) lines.push(`        keep_firing_for: ${q(a.keep_firing_for)}`);
    lines.push('        labels:', ...Object.entries(a.labels).map(([k, v]) => `          ${k}: ${q(v)}`));
    lines.push('        annotations:', ...Object.entries(a.annotations).map(([k, v]) => `          ${k}: ${q(v)}`));
  }
  return `${lines.join('\n')}\n`;
}
