// The Monitor's rules as a Prometheus alerting-rules file: promtool accepts it, a real
// Prometheus evaluates every rule without error over a WebUI's /metrics and fires the
// same alert the Monitor fires; rules PromQL cannot express are listed with the reason.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alertLabels, RULE_ID_LABEL } from '../../src/alerts/alert-labels.js';
import { promDuration, rulesYaml, toPrometheusAlert } from '../../src/alerts/prometheus-rules.js';
import { metricQuery } from '../../src/alerts/promql.js';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { ruleInputSchema, type Rule } from '../../src/alerts/rule-schema.js';
import { catalogue } from '../../src/metrics/catalogue.js';
import { fakeNvml } from '../fake-nvml/build.js';
import WebSocket from 'ws';
import { postJson, startApp, steppedClock, userMessage } from '../helpers.js';
import {
  pollUntil,
  PROMTOOL,
  query,
  queryUntil,
  runTool,
  startPrometheus,
  type RunningProgram,
} from './real-programs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const MiB = 1024 * 1024;
const rule = (input: object, id = 'r1'): Rule => ({ id, ...ruleInputSchema.parse(input) });
const MODEL_ENDPOINTS = ['/v1/chat/completions', '/api/ocr'];
/** As the WebUI exports with METRICS_HISTOGRAM_ROUTES unset: histograms for the model endpoints only. */
const opts = {
  intervalMs: 10_000,
  windowMs: 60_000,
  modelEndpoints: MODEL_ENDPOINTS,
  histogramEndpoint: (endpoint: string) => MODEL_ENDPOINTS.includes(endpoint),
};

/** Every form of rule the Monitor takes that PromQL can express, and two it cannot. */
const CUSTOM_RULES = [
  {
    name: 'Chat P99 over 8 s',
    metric: 'latency_ms_p99',
    labels: { endpoint: '/v1/chat/completions' },
    op: '>',
    threshold: 8000,
    for: '30s',
    severity: 'warning',
  },
  {
    name: 'Traffic surge',
    metric: 'requests_per_second',
    labels: { endpoint: '*' },
    op: '>',
    threshold: 300,
    surgeBaseline: '10m',
    severity: 'info',
  },
  {
    name: 'OOM errors',
    metric: 'model_error_count',
    labels: { code: 'UPSTREAM_OOM' },
    op: '>',
    threshold: 1,
    keepFiringFor: '5m',
    severity: 'critical',
  },
  {
    name: 'KV cache {{ full }}',
    metric: 'upstream_kv_cache_usage_percent',
    op: '>=',
    threshold: 95,
    consecutiveChecks: 2,
    noData: 'alert',
    severity: 'critical',
  },
  {
    name: 'Hot and busy',
    metric: 'gpu_temperature_celsius',
    op: '>',
    threshold: 85,
    and: { metric: 'gpu_utilization_percent', op: '>', threshold: 90, consecutiveChecks: 3 },
    severity: 'warning',
  },
  {
    name: 'Slow OCR preprocessing',
    metric: 'inference_duration_ms',
    labels: { module: 'ocr', stage: 'preprocess' },
    op: '>',
    threshold: 500,
    severity: 'info',
  },
  { name: 'Generation slow', metric: 'tokens_per_second', op: '<', threshold: 5, severity: 'info' },
  { name: 'Switched off', metric: 'cpu_load_percent', op: '>', threshold: 99, enabled: false },
];

async function appWithRules(env: Record<string, string> = {}) {
  const nvml = fakeNvml('current');
  nvml.reset(2);
  nvml.setMemory(0, 81559 * MiB, 81000 * MiB, 0); // 99.3 %: over both GPU memory presets
  nvml.setMemory(1, 81559 * MiB, 1000 * MiB, 0);
  const clock = steppedClock();
  const app = await startApp({ NVML_LIBRARY: nvml.path, ...env }, { clock });
  cleanups.push(() => app.close());
  const presets = (await (await fetch(`${app.baseUrl}/api/monitor/alerts/presets`)).json()) as {
    presets: Array<{ id: string }>;
  };
  for (const p of presets.presets)
    expect((await postJson(`${app.baseUrl}/api/monitor/alerts/presets/${p.id}/import`, {})).status).toBeLessThan(300);
  for (const r of CUSTOM_RULES) expect((await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, r)).status).toBe(201);
  return { app, clock };
}

describe('GET /api/monitor/alerts/rules/export.prometheus.yml', () => {
  it('is a rules file promtool accepts, with the rules it cannot express listed and why', async () => {
    const { app } = await appWithRules();
    const res = await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/yaml');
    const yaml = await res.text();
    const file = join(mkdtempSync(join(tmpdir(), 'qwen3vl-rules-')), 'rules.yml');
    writeFileSync(file, yaml);
    const check = runTool(PROMTOOL, ['check', 'rules', file]);
    // The presets' exportable rules, and the export's own self-check (one label set).
    expect(check.output).toContain('SUCCESS: 17 rules found');
    expect(check.status).toBe(0);
    expect(yaml).toMatch(/^# {3}GPU saturated \(preset:gpu-utilization-saturated\): sample-based rule/m);
    expect(yaml).toMatch(/^# {3}Long-context risk \(preset:long-context\): per-request rule/m);
    expect(yaml).toMatch(/^# {3}Generation slow \(.+\): tokens_per_second: tokens per second is measured per stream/m);
    expect(yaml).toMatch(/^# {3}Switched off \(.+\): disabled in the Monitor/m);
  });

  it('behind the Monitor token like every Monitor route', async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const res = await app.app.inject({
      url: '/api/monitor/alerts/rules/export.prometheus.yml',
      remoteAddress: '10.0.0.8',
    });
    expect(res.statusCode).toBe(401);
  });

  it('is evaluated by a real Prometheus without error, and fires what the Monitor fires', async () => {
    // 1-second checks: the group evaluates every second and "3 checks" is for: 2s.
    const { app, clock } = await appWithRules({ MONITOR_INTERVAL_MS: '1000' });
    await app.monitor!.tick(clock());
    const yaml = await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
    const prometheus: RunningProgram = await startPrometheus({
      targets: [app.baseUrl.replace('http://', '')],
      rules: yaml,
    });
    cleanups.push(() => prometheus.stop());

    const firing = await pollUntil(
      'GPU memory alerts firing in Prometheus',
      async () => {
        const alerts = await query(prometheus, 'ALERTS{alertstate="firing"}');
        const names = alerts.map((a) => `${a.metric.alertname}/gpu${a.metric.gpu}/${a.metric.severity}`).sort();
        return names.includes('GPU memory sustained pressure/gpu0/warning') ? names : undefined;
      },
      40_000,
    );
    expect(firing).toContain('GPU memory critical/gpu0/critical');
    expect(firing.some((n) => n.endsWith('/gpu1/warning') || n.endsWith('/gpu1/critical'))).toBe(false);
    // The Monitor agrees.
    clock.advance(1_000);
    await app.monitor!.tick(clock());
    clock.advance(1_000);
    await app.monitor!.tick(clock());
    const active = ((await (await fetch(`${app.baseUrl}/api/monitor/alerts/active`)).json()) as any).alerts ?? [];
    expect(JSON.stringify(active)).toContain('preset:gpu-memory-critical');

    // Every exported rule evaluates cleanly (no PromQL error at run time).
    const rules = await pollUntil('every rule evaluated', async () => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as any;
      const all = body.data.groups.flatMap((g: any) => g.rules) as Array<{
        name: string;
        health: string;
        lastError?: string;
      }>;
      return all.length === 17 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  }, 90_000);
});

describe('one rule in PromQL', () => {
  it("labels the rule's alerts as the node labels the same alerts it sends to Alertmanager", () => {
    const r = rule({
      name: 'mem',
      metric: 'gpu_memory_utilization_percent',
      op: '>',
      threshold: 90,
      severity: 'critical',
    });
    const exported = toPrometheusAlert(r, opts) as { alert: string; labels: Record<string, string> };
    const fromNode = alertLabels(
      { ruleId: r.id, ruleName: r.name, severity: r.severity, labels: { gpu: '0' } },
      { instance: 'n', job: 'qwen3vl' },
    );
    // Prometheus adds alertname (the rule's name) and the series' labels (gpu, instance, job) itself.
    expect({ ...exported.labels, alertname: exported.alert }).toEqual({
      alertname: fromNode.alertname,
      severity: fromNode.severity,
      [RULE_ID_LABEL]: fromNode[RULE_ID_LABEL],
    });
  });

  it('turns N consecutive checks into for: (N-1) intervals, and units into base units', () => {
    const a = toPrometheusAlert(
      rule({
        name: 'mem',
        metric: 'gpu_memory_utilization_percent',
        labels: { gpu: '0' },
        op: '>',
        threshold: 90,
        consecutiveChecks: 3,
      }),
      opts,
    );
    expect(a).toMatchObject({
      // The board's labels (uuid, model_name) left out: the alert carries the node's label set.
      expr: '(max without(uuid, model_name) (qwen3vl_gpu_memory_utilization_ratio{gpu="0"})) > 0.9',
      for: '20s',
      labels: { severity: 'warning' },
    });
    const b = toPrometheusAlert(
      rule({ name: 'p95', metric: 'latency_ms_p95', labels: { endpoint: '*' }, op: '>', threshold: 5000, for: '2m' }),
      opts,
    );
    expect(b).toMatchObject({ for: '2m', labels: { endpoint: '*' } });
    expect((b as { expr: string }).expr).toBe(
      '(histogram_quantile(0.95, sum by (job, instance, le) (rate(qwen3vl_http_request_duration_seconds_bucket{endpoint=~"/v1/chat/completions|/api/ocr"}[1m])))) > 5',
    );
    const c = toPrometheusAlert(rule({ name: 'first check', metric: 'upstream_up', op: '<', threshold: 1 }), opts);
    expect(c).not.toHaveProperty('for');
  });

  it('says why a rule has no equivalent', () => {
    expect(
      toPrometheusAlert(
        rule({ name: 'long', metric: 'input_token_count', op: '>', threshold: 192000, perRequest: true }),
        opts,
      ),
    ).toMatchObject({ reason: expect.stringContaining('per-request') });
    expect(
      toPrometheusAlert(
        rule({ name: 'hit', metric: 'upstream_prefix_cache_hit_rate_percent', op: '<', threshold: 10 }),
        opts,
      ),
    ).toMatchObject({ reason: expect.stringContaining("engine's own /metrics") });
    // /metrics times the model endpoints and METRICS_HISTOGRAM_ROUTES only: a latency rule
    // on another route would query a histogram that is not there, and never fire.
    const onHealth = (metric: string) =>
      rule({ name: 'health', metric, labels: { endpoint: '/healthz' }, op: '>', threshold: 500 });
    expect(toPrometheusAlert(onHealth('latency_ms_p95'), opts)).toMatchObject({
      reason: expect.stringContaining('add the route to METRICS_HISTOGRAM_ROUTES'),
    });
    const named = { ...opts, histogramEndpoint: (e: string) => e === '/healthz' || MODEL_ENDPOINTS.includes(e) };
    expect(toPrometheusAlert(onHealth('latency_ms_p95'), named)).toMatchObject({
      expr: expect.stringContaining('qwen3vl_http_request_duration_seconds_bucket{endpoint="/healthz"}'),
    });
    // Request counts exist for every route.
    expect(toPrometheusAlert(onHealth('error_rate_percent'), opts)).toMatchObject({
      expr: expect.stringContaining('qwen3vl_http_requests_total{endpoint="/healthz"'),
    });
  });

  it('keeps user text out of Go templates and YAML structure', () => {
    const yaml = rulesYaml(
      [rule({ name: 'a "b"\n{{ $x }}', metric: 'cpu_load_percent', op: '>', threshold: 90 })],
      opts,
    );
    expect(yaml).toContain('- alert: "a \\"b\\"\\n{{ $x }}"');
    expect(yaml).toContain('summary: "a \\"b\\"\\n{{ \\"{{\\" }} $x }}: cpu_load_percent > 90');
  });

  it('has PromQL promtool accepts for every catalogue metric but five, which say why not', () => {
    const rules = [...catalogue.keys()].map((metric, i) =>
      rule({ name: `every ${metric}`, metric, op: '>', threshold: 1 }, `r${i}`),
    );
    const yaml = rulesYaml(rules, opts);
    const file = join(mkdtempSync(join(tmpdir(), 'qwen3vl-rules-')), 'rules.yml');
    writeFileSync(file, yaml);
    const check = runTool(PROMTOOL, ['check', 'rules', file]);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toContain(`SUCCESS: ${catalogue.size - 5 + 1} rules found`);
    const skipped = [...yaml.matchAll(/^# {3}every (\S+) \(/gm)].map((m) => m[1]);
    expect(skipped.sort()).toEqual([
      'request_stage_ms',
      'tokens_per_second',
      'upstream_mm_cache_hit_rate_percent',
      'upstream_preemptions',
      'upstream_prefix_cache_hit_rate_percent',
    ]);
  });

  it('writes Prometheus durations', () => {
    expect([promDuration(20_000), promDuration(90_000), promDuration(3_600_000 + 500), promDuration(0)]).toEqual([
      '20s',
      '1m30s',
      '1h500ms',
      '0s',
    ]);
  });
});

describe('the meanings in PromQL', () => {
  it('compute in a real Prometheus what the Monitor computes: error rate (4xx + 5xx), 5xx share, active connections', async () => {
    const fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0 } });
    const clock = steppedClock();
    const app = await startApp({ UPSTREAM_URL: fake.url }, { clock, probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const chat = (body: unknown = userMessage()) => postJson(`${app.baseUrl}/v1/chat/completions`, body);
    const failing = async (n: number) => {
      fake.behavior = { ...fake.behavior, errorRate: 1, failStatus: 500 };
      for (let i = 0; i < n; i++) expect((await chat()).status).toBe(500);
      fake.behavior = { ...fake.behavior, errorRate: 0 };
    };
    // Ten of each class first, so every series exists before Prometheus' first scrape and
    // what follows is an increase to both (and far from zero: rate() stops extrapolating a
    // counter at zero, differently for each series); then two minutes on, out of the
    // Monitor's window.
    for (let i = 0; i < 10; i++) {
      expect((await chat()).status).toBe(200);
      expect((await chat({ messages: 'not a list' })).status).toBe(400);
    }
    await failing(10);
    clock.advance(120_000);
    const prometheus = await startPrometheus({ targets: [app.baseUrl.replace('http://', '')] });
    cleanups.push(() => prometheus.stop());
    await queryUntil(prometheus, 'count_over_time(up{job="qwen3vl"}[1m])', (n) => n >= 3);

    // 6 answered, 2 refused, 2 failed: 40 % errors, 20 % of them the server's.
    for (let i = 0; i < 6; i++) expect((await chat()).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await chat({ messages: 'not a list' })).status).toBe(400);
    await failing(2);
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    await new Promise((resolve) => ws.once('open', resolve));
    cleanups.push(async () => ws.close());
    app.monitor!.check(clock());
    const monitor = (metric: string, labels: Record<string, string> = { endpoint: '*' }) =>
      app.monitor!.store.latest(metric, labels)!.v;
    expect(monitor('error_rate_percent')).toBeCloseTo(40, 9);
    expect(monitor('error_rate_5xx_percent')).toBeCloseTo(20, 9);
    expect(monitor('active_connections', {})).toBe(1);

    const ctx = { window: '20s', modelEndpoints: app.monitor!.stats.modelEndpoints(), histogramEndpoint: () => true };
    // Scrapes after the requests: every series has them in its window (all scraped alike,
    // so rate() extrapolates numerator and denominator by the same factor).
    const after = Date.now() / 1_000 + 2;
    await queryUntil(prometheus, 'timestamp(up{job="qwen3vl"})', (t) => t > after);
    for (const [metric, labels] of [
      ['error_rate_percent', { endpoint: '*' }],
      ['error_rate_5xx_percent', { endpoint: '*' }],
      ['active_connections', {}],
    ] as const) {
      const q = metricQuery(metric, labels, ctx);
      if ('unsupported' in q) throw new Error(q.unsupported);
      const v = Number((await query(prometheus, q.expr))[0]!.value[1]);
      expect(v / q.scale, `${metric}: ${q.expr}`).toBeCloseTo(monitor(metric, labels), 6);
    }
  }, 90_000);
});
