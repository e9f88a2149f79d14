// Any rule the API accepts exports to a file the real promtool accepts: random rules of every
// form (threshold, for/consecutive checks, surge, hysteresis, and, no-data, keep-firing,
// quantiles, per-request, sample-based, disabled) with hostile names and label values, many
// to a file. And a label value cannot add to the query: promtool's own rule tests show a
// value written to inject `or vector(1000)` fires nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promDuration, rulesYaml, SELF_CHECK } from '../../src/alerts/prometheus-rules.js';
import {
  MAX_RULE_DURATION_MS,
  OPS,
  PER_REQUEST_METRIC,
  RULE_LIMITS,
  ruleInputSchema,
  SAMPLE_METRIC,
  SEVERITIES,
  type Rule,
} from '../../src/alerts/rule-schema.js';
import { catalogue, metricDef } from '../../src/metrics/catalogue.js';
import { SERIES_RETENTION_MS } from '../../src/metrics/series-store.js';
import { PROMTOOL, runTool } from './real-programs.js';

const dir = mkdtempSync(join(tmpdir(), 'qwen3vl-rules-property-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MODEL_ENDPOINTS = ['/v1/chat/completions', '/api/ocr'];
/** As the WebUI exports with METRICS_HISTOGRAM_ROUTES unset: histograms for the model endpoints only. */
const opts = {
  intervalMs: 10_000,
  windowMs: 60_000,
  modelEndpoints: MODEL_ENDPOINTS,
  histogramEndpoint: (endpoint: string) => MODEL_ENDPOINTS.includes(endpoint),
};

/** Text meant to break out of a PromQL string, a Go template, a YAML scalar or a comment. */
const HOSTILE = [
  '0"} or vector(1000) or x{y="',
  'gpu="0"} or vector(1000) or x{y',
  '\\',
  '\\"',
  '"',
  "'",
  '`',
  '{{ $value }}',
  '{{{',
  '}}',
  '{',
  '\n- alert: injected',
  '\r\n#',
  'a\u0085groups: []',
  '\u2028\u2029',
  '\u007f\u0080\u009f',
  '\ufeff\ufffe\uffff',
  '\u0000\u0001\u001b',
  '*',
  '',
  ' ',
  '# not a comment',
  ': x',
  '%',
  '😀 登录',
];

const text = (maxLength: number) =>
  fc.oneof(
    fc.constantFrom(...HOSTILE),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', '\n', '\u0085', '$', 'a', ' '), maxLength }),
  );

/** Labels of the metric's own (a label it lacks is refused: it would match nothing), hostile values. */
const labelsOf = (metric: string) => {
  const names = metricDef(metric)?.labels ?? [];
  return names.length
    ? fc.dictionary(fc.constantFrom(...names), text(RULE_LIMITS.labelValueChars), {
        maxKeys: Math.min(names.length, RULE_LIMITS.labels),
      })
    : fc.constant({});
};

const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
/** Durations as users write them, up to `maxMs`. */
const duration = (maxMs: number) =>
  fc.oneof(
    fc.integer({ min: 1, max: maxMs }).map(promDuration),
    fc.tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom(...UNITS)).map(([n, u]) => `${n}${u}`),
    fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 9 })).map(([n, f]) => `${n}.${f}h`),
    fc.integer({ min: 1, max: maxMs }).map(String),
  );

const metrics = [...catalogue.keys()];
const threshold = fc.double({ noNaN: true, noDefaultInfinity: true });
const hold = fc.oneof(
  fc.constant({}),
  fc.record({ consecutiveChecks: fc.integer({ min: 1, max: 10_000 }) }),
  fc.record({ for: duration(MAX_RULE_DURATION_MS) }),
);
const condition = fc
  .constantFrom(...metrics)
  .chain((metric) => fc.tuple(fc.constant(metric), labelsOf(metric), fc.constantFrom(...OPS), threshold, hold))
  .map(([metric, l, op, t, h]) => ({ metric, labels: l, op, threshold: t, ...h }));

/** The special forms, each on the metric it works on. */
const form = fc.oneof(
  fc.constant({}),
  fc.record({ surgeBaseline: duration(SERIES_RETENTION_MS) }),
  fc.double({ min: 0, max: 1e6, noNaN: true }).map((d) => ({ recoverBy: d })),
  condition.map((and) => ({ and })),
  fc.constant({ noData: 'alert' }),
  fc.record({ keepFiringFor: duration(MAX_RULE_DURATION_MS) }),
  fc.constant({ perRequest: true, metric: PER_REQUEST_METRIC }),
  fc.double({ min: 0.001, max: 3600, noNaN: true }).map((s) => ({ sampleSeconds: s, metric: SAMPLE_METRIC })),
  fc.constant({ enabled: false }),
  fc.constantFrom('latency_ms_p50', 'latency_ms_p95', 'latency_ms_p99').map((metric) => ({ metric })),
);

/** A rule as a client would POST it, or undefined where the schema refuses it (kept out). */
const ruleInput = fc
  .tuple(condition, form, text(RULE_LIMITS.nameChars), fc.constantFrom(...SEVERITIES))
  .map(([c, f, name, severity]) => {
    const { recoverBy, ...rest } = f as { recoverBy?: number };
    const input: Record<string, unknown> = { ...c, ...rest, name, severity };
    if (recoverBy !== undefined) {
      // Hysteresis on the healthy side of the threshold.
      const above = c.op === '>' || c.op === '>=';
      input.recoverThreshold = above ? c.threshold - recoverBy : c.threshold + recoverBy;
    }
    return input;
  });

/** Rules the API accepts, `n` of them, each with its id. */
const acceptedRules = (n: number) =>
  fc.array(ruleInput, { minLength: n, maxLength: n }).map((inputs) =>
    inputs.flatMap((input, i): Rule[] => {
      const r = ruleInputSchema.safeParse(input);
      return r.success ? [{ id: `r${i}`, ...r.data }] : [];
    }),
  );

function promtoolCheck(yaml: string): { status: number; output: string } {
  const file = join(dir, 'rules.yml');
  writeFileSync(file, yaml);
  return runTool(PROMTOOL, ['check', 'rules', file]);
}

describe('the Prometheus export of any rule the API accepts', () => {
  it('passes promtool check rules, names and labels intact', () => {
    let rules = 0;
    let exported = 0;
    fc.assert(
      fc.property(acceptedRules(60), (batch) => {
        const yaml = rulesYaml(batch, opts);
        const doc = parse(yaml) as { groups: Array<{ rules: Array<{ alert: string; labels: object }> }> };
        const alerts = doc.groups[0]!.rules;
        // Every alert is one of the rules, under the name the user gave it (YAML read it back as
        // written), but for the export's own check that Prometheus names each node as it does.
        for (const a of alerts.filter((x) => x.alert !== SELF_CHECK.alert))
          expect(batch.map((r) => r.name)).toContain(a.alert);
        const check = promtoolCheck(yaml);
        expect(check.status, `${check.output}\n${yaml}`).toBe(0);
        expect(check.output).toContain(`SUCCESS: ${alerts.length} rules found`);
        rules += batch.length;
        exported += alerts.length;
      }),
      { numRuns: 12 },
    );
    // The generator must reach the exporter: most rules pass the schema, many export.
    expect(rules).toBeGreaterThan(12 * 30);
    expect(exported).toBeGreaterThan(rules / 3);
  }, 60_000);
});

describe('a label value cannot change the query', () => {
  it('a value written to add `or vector(1000)` matches that literal value and fires nothing', () => {
    const hostile = ['0"} or vector(1000) or x{y="', '0\\"} or vector(1000) or x{y=\\"', '0` or vector(1000)'];
    const rules = hostile.map(
      (gpu, i): Rule => ({
        id: `r${i}`,
        ...ruleInputSchema.parse({
          name: `injected ${i}`,
          metric: 'gpu_memory_utilization_percent',
          labels: { gpu },
          op: '>',
          threshold: 90,
        }),
      }),
    );
    const rulesFile = join(dir, 'injection.yml');
    writeFileSync(rulesFile, rulesYaml(rules, opts));
    // GPU 0 is at 50 %, series whose gpu label is the hostile text at 95 %: each rule fires for
    // its own literal value and nothing else; an injected `or vector(1000)` would fire as {}.
    const testFile = join(dir, 'injection.test.yml');
    writeFileSync(
      testFile,
      [
        `rule_files: [${JSON.stringify(rulesFile)}]`,
        'evaluation_interval: 10s',
        'tests:',
        '  - interval: 10s',
        '    input_series:',
        `      - series: 'qwen3vl_gpu_memory_utilization_ratio{gpu="0"}'`,
        "        values: '0.5x10'",
        ...hostile.flatMap((gpu) => [
          `      - series: ${JSON.stringify(`qwen3vl_gpu_memory_utilization_ratio{gpu=${JSON.stringify(gpu)}}`)}`,
          "        values: '0.95x10'",
        ]),
        '    alert_rule_test:',
        ...rules.flatMap((r) => [
          '      - eval_time: 1m',
          `        alertname: ${JSON.stringify(r.name)}`,
          '        exp_alerts:',
          `          - exp_labels: { severity: warning, monitor_rule_id: ${r.id}, gpu: ${JSON.stringify(r.labels.gpu)} }`,
          '            exp_annotations:',
          `              summary: ${JSON.stringify(`${r.name}: gpu_memory_utilization_percent > 90 % on `)}`,
          `              description: "Exported from the Qwen3-VL Monitor's rule ${r.id}; value 0.95 in Prometheus units (ratios 0-1, seconds)."`,
          `              monitor_rule_id: ${r.id}`,
        ]),
        '',
      ].join('\n'),
    );
    const run = runTool(PROMTOOL, ['test', 'rules', testFile]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });
});
