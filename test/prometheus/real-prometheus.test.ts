// A real Prometheus (Debian's, 2.42) scrapes a running WebUI every second: its query API
// must return the request counts the test sent, the model-layer series, the GPU gauges of
// the fake NVML and the engine's gauges; its histogram_quantile() over known latencies
// must agree with the Monitor's P95 within 5 %.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson, startApp, steppedClock, userMessage, type TestApp } from '../helpers.js';
import { DISTRIBUTIONS, histogramQuantile } from './histogram-quantile.js';
import { query, queryUntil, startPrometheus, type RunningProgram } from './real-programs.js';

const MiB = 1024 * 1024;
const P95_TARGETS_MS = [50, 200, 1_000, 1_900, 5_000, 20_000, 60_000];
const SAMPLES = 1_000;

let fake: FakeUpstream;
let app: TestApp;
let prometheus: RunningProgram;
const clock = steppedClock();

beforeAll(async () => {
  const nvml = fakeNvml('current');
  nvml.reset(2);
  nvml.setMemory(0, 81559 * MiB, 20000 * MiB, 0);
  nvml.setMemory(1, 81559 * MiB, 75000 * MiB, 0);
  nvml.setUtil(0, 97, 30);
  nvml.setTemp(1, 71);
  fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0, reply: '登录 Username Password' },
  });
  // The test routes below are timed on /metrics because the operator names them.
  app = await startApp(
    { UPSTREAM_URL: fake.url, NVML_LIBRARY: nvml.path, METRICS_HISTOGRAM_ROUTES: '/test/*' },
    { clock },
  );

  // Traffic: 7 good chats and 3 refused, one streamed; 2 OCR requests; then one check reads the GPUs.
  for (let i = 0; i < 7; i++)
    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(200);
  for (let i = 0; i < 3; i++)
    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, { messages: 'not a list' })).status).toBe(400);
  expect((await postJson(`${app.baseUrl}/v1/chat/completions`, { ...userMessage(), stream: true })).status).toBe(200);
  const image = `data:image/png;base64,${(
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#335' } })
      .png()
      .toBuffer()
  ).toString('base64')}`;
  for (let i = 0; i < 2; i++) expect((await postJson(`${app.baseUrl}/api/ocr`, { image })).status).toBe(200);
  await app.monitor!.tick(clock());
  // CPU load and IO wait are differences between two checks' /proc/stat, which counts in
  // 10 ms ticks: two checks within one tick have no difference (a fast run once got there).
  const cpuLine = () => readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const before = cpuLine();
  await vi.waitFor(() => expect(cpuLine()).not.toBe(before));
  clock.advance(10_000);
  await app.monitor!.tick(clock());

  // Known latency distributions, recorded where the timing hook records (one route each).
  for (const p95 of P95_TARGETS_MS) {
    const ep = app.monitor!.stats.register('GET', `/test/p95-${p95}ms`, 'other');
    for (const ms of DISTRIBUTIONS['log-normal σ=0.25']!(p95, SAMPLES)) ep.record(ms, 200, clock());
  }
  prometheus = await startPrometheus({ targets: [app.baseUrl.replace('http://', '')] });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await app?.close();
  await fake?.close();
});

describe('a real Prometheus scraping the WebUI', () => {
  it('returns the request counts the test sent (8 answered, 3 refused)', async () => {
    expect(
      await queryUntil(
        prometheus,
        'qwen3vl_http_requests_total{endpoint="/v1/chat/completions",method="POST",status_class="2xx"}',
      ),
    ).toBe(8);
    expect(
      await queryUntil(prometheus, 'qwen3vl_http_requests_total{endpoint="/v1/chat/completions",status_class="4xx"}'),
    ).toBe(3);
    // Prometheus' own view of the target: up, and the scrape had no errors.
    expect(await queryUntil(prometheus, 'up{job="qwen3vl"}')).toBe(1);
  }, 60_000);

  it('returns the model layer: stage durations, input tokens, OCR confidence, images', async () => {
    expect(await queryUntil(prometheus, 'qwen3vl_inference_duration_seconds_count{module="ocr",stage="total"}')).toBe(
      2,
    );
    // Every chat request has a total, the 3 refused ones too; those are errors by code.
    expect(await queryUntil(prometheus, 'qwen3vl_inference_duration_seconds_count{module="vlm",stage="total"}')).toBe(
      11,
    );
    expect(await queryUntil(prometheus, 'qwen3vl_chat_time_to_first_token_seconds_count')).toBe(1);
    expect(await queryUntil(prometheus, 'sum(qwen3vl_model_errors_total{module="vlm"})')).toBe(3);
    expect(await queryUntil(prometheus, 'qwen3vl_input_tokens_count{module="ocr"}')).toBe(2);
    expect(await queryUntil(prometheus, 'qwen3vl_ocr_confidence_ratio_count')).toBe(2);
    expect(await queryUntil(prometheus, 'qwen3vl_images_preprocessed_total{module="ocr",outcome="ok"}')).toBe(2);
    expect(await queryUntil(prometheus, 'qwen3vl_gui_steps_total{outcome="valid"}')).toBe(0);
    // The Monitor's mean OCR duration is the histogram's sum over its count.
    const meanMs =
      (await queryUntil(
        prometheus,
        'qwen3vl_inference_duration_seconds_sum{module="ocr",stage="total"} / qwen3vl_inference_duration_seconds_count{module="ocr",stage="total"}',
      )) * 1_000;
    const monitorMean = app.monitor!.store.latest('inference_duration_ms', { module: 'ocr', stage: 'total' })!.v;
    expect(meanMs).toBeCloseTo(monitorMean, 6);
  }, 60_000);

  it("returns the fake NVML's GPU gauges and the model server's, in base units", async () => {
    expect(await queryUntil(prometheus, 'qwen3vl_gpu_memory_used_bytes{gpu="1"}')).toBe(75000 * MiB);
    expect(await queryUntil(prometheus, 'qwen3vl_gpu_memory_utilization_ratio{gpu="1"}')).toBeCloseTo(
      75000 / 81559,
      10,
    );
    expect(await queryUntil(prometheus, 'qwen3vl_gpu_utilization_ratio{gpu="0"}')).toBeCloseTo(0.97, 10);
    expect(await queryUntil(prometheus, 'qwen3vl_gpu_temperature_celsius{gpu="1"}')).toBe(71);
    expect((await query(prometheus, 'qwen3vl_gpu_available')).map((r) => r.metric.gpu).sort()).toEqual(['0', '1']);
    // NVML's uuid and board name on every GPU series, the values DCGM's exporter labels
    // UUID and modelName: a join on them finds the same board.
    expect(
      await queryUntil(
        prometheus,
        'qwen3vl_gpu_temperature_celsius{uuid="GPU-fake-0000-0000-0000-000000000001",model_name="NVIDIA H100 80GB HBM3 (fake 1)"}',
      ),
    ).toBe(71);
    const dcgmLike =
      'label_replace(label_replace(vector(1), "UUID", "GPU-fake-0000-0000-0000-000000000001", "", ""), "modelName", "NVIDIA H100 80GB HBM3 (fake 1)", "", "")';
    expect(
      await queryUntil(
        prometheus,
        `qwen3vl_gpu_temperature_celsius * on(uuid) group_left() label_replace(${dcgmLike}, "uuid", "$1", "UUID", "(.*)")`,
      ),
    ).toBe(71);
    expect(await queryUntil(prometheus, 'qwen3vl_gpu_ecc_uncorrected_errors_total{gpu="0"}')).toBe(0);
    expect(await queryUntil(prometheus, 'qwen3vl_upstream_up')).toBe(1);
    expect(await queryUntil(prometheus, 'qwen3vl_upstream_kv_cache_usage_ratio{engine="0"}')).toBeGreaterThan(0);
    // Node's default metrics keep their stock names.
    expect(await queryUntil(prometheus, 'process_resident_memory_bytes{job="qwen3vl"}')).toBeGreaterThan(0);
  }, 60_000);

  it("computes histogram_quantile(0.95) within 5 % of the Monitor's P95, from 50 ms to 60 s", async () => {
    const rows: string[] = [];
    for (const p95 of P95_TARGETS_MS) {
      const endpoint = `/test/p95-${p95}ms`;
      await queryUntil(
        prometheus,
        `qwen3vl_http_request_duration_seconds_count{endpoint="${endpoint}"}`,
        (n) => n === SAMPLES,
      );
      const prometheusMs =
        (await queryUntil(
          prometheus,
          `histogram_quantile(0.95, qwen3vl_http_request_duration_seconds_bucket{endpoint="${endpoint}"})`,
        )) * 1_000;
      const ep = app.monitor!.stats.get('GET', endpoint)!;
      const monitorMs = ep.window.summarize(60_000, clock()).p95!;
      const error = Math.abs(prometheusMs - monitorMs) / monitorMs;
      rows.push(
        `P95 ${p95} ms: Monitor ${monitorMs.toFixed(1)} ms, Prometheus ${prometheusMs.toFixed(1)} ms, ${(error * 100).toFixed(2)} %`,
      );
      expect(error).toBeLessThan(0.05);
      // The port of Prometheus' interpolation used by the wider sweep agrees with Prometheus.
      expect(histogramQuantile(0.95, ep.durations) * 1_000).toBeCloseTo(prometheusMs, 6);
    }
    console.log(rows.join('\n'));
  }, 60_000);

  it('runs every query of the Grafana dashboard, on metrics /metrics has; the six cards show values', async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../deploy/grafana/qwen3vl.json', import.meta.url), 'utf8'),
    ) as any;
    const modelEndpoints = dashboard.templating.list.find((v: any) => v.name === 'model_endpoints').query as string;
    const fill = (expr: string) =>
      expr
        .replaceAll('$instance', '.*')
        .replaceAll('$job', '.*')
        .replaceAll('$model_endpoints', modelEndpoints)
        .replaceAll('$__rate_interval', '1m');
    const panels = (dashboard.panels as any[]).filter((p) => p.targets);
    const exprs: string[] = [
      ...panels.flatMap((p) => p.targets.map((t: any) => t.expr)),
      ...dashboard.templating.list.filter((v: any) => v.type === 'query').map((v: any) => v.query.query),
    ];

    // Every metric a query names is on /metrics (as a series name, or a histogram's).
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const onPage = new Set(
      text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => /^[^{ ]+/.exec(l)![0]),
    );
    for (const expr of exprs) {
      for (const name of expr.match(/\b(qwen3vl|process|nodejs)_[a-z0-9_]+/g) ?? [])
        expect(onPage, `${name} in ${expr}`).toContain(name);
    }

    // Every query evaluates in Prometheus (rates need two scrapes first).
    await queryUntil(prometheus, 'count_over_time(up{job="qwen3vl"}[1m])', (n) => n >= 3);
    const empty: string[] = [];
    for (const p of panels) {
      for (const t of p.targets) {
        const result = await query(prometheus, fill(t.expr));
        if (result.length === 0) empty.push(`${p.title} (${t.refId})`);
      }
    }
    const cards = panels.filter((p) => p.type === 'stat').map((p) => p.title);
    expect(cards).toHaveLength(6);
    expect(empty.filter((e) => cards.some((c: string) => e.startsWith(c)))).toEqual([]);
    console.log(`dashboard: ${panels.length} panels; no data in this test for: ${empty.join(', ')}`);
  }, 60_000);
});
