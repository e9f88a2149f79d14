import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { parsePrometheusText } from '../../src/probes/prometheus-text.js';
import { readEngine, UpstreamMetricsProbe } from '../../src/probes/upstream-metrics.js';
import { startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const vllmNew = (hits: number, queries: number, preempt: number) => `
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 3.0
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 7.0
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 0.42
vllm:prefix_cache_queries_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} ${queries}
vllm:prefix_cache_hits_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} ${hits}
vllm:num_preemptions_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} ${preempt}
`;

describe('engine gauges', () => {
  it('reads current vLLM names, with hit rates and preemptions between checks', () => {
    const first = readEngine(parsePrometheusText(vllmNew(100, 1000, 2)), undefined);
    expect(first.reading).toMatchObject({
      engine: 'vllm',
      requestsRunning: 3,
      requestsWaiting: 7,
      kvCacheUsagePercent: 42,
    });
    expect(first.reading.prefixCacheHitRatePercent).toBeUndefined(); // needs two readings
    const second = readEngine(parsePrometheusText(vllmNew(400, 1500, 5)), first.counters);
    expect(second.reading.prefixCacheHitRatePercent).toBeCloseTo(60, 10);
    expect(second.reading.preemptions).toBe(3);
  });

  it("reads vLLM's older names and SGLang's", () => {
    const old = readEngine(
      parsePrometheusText(
        'vllm:gpu_cache_usage_perc{model_name="m"} 0.9\nvllm:gpu_prefix_cache_hit_rate{model_name="m"} 0.25\n',
      ),
      undefined,
    );
    expect(old.reading).toMatchObject({ kvCacheUsagePercent: 90, prefixCacheHitRatePercent: 25 });
    const sg = readEngine(
      parsePrometheusText(
        'sglang:num_running_reqs{tp_rank="0"} 4\nsglang:num_queue_reqs{tp_rank="0"} 1\nsglang:token_usage{tp_rank="0"} 0.5\nsglang:cache_hit_rate{tp_rank="0"} 0.8\n',
      ),
      undefined,
    );
    expect(sg.reading).toMatchObject({
      engine: 'sglang',
      requestsRunning: 4,
      requestsWaiting: 1,
      kvCacheUsagePercent: 50,
      prefixCacheHitRatePercent: 80,
    });
  });

  it('keeps each engine apart: two vLLM engines at 40 % and 60 % are 60 %, never 100 %', () => {
    const page = (a: number, b: number) => `
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 3
vllm:num_requests_running{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 5
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} ${a}
vllm:kv_cache_usage_perc{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} ${b}
vllm:prefix_cache_queries_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 1000
vllm:prefix_cache_queries_total{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 3000
vllm:prefix_cache_hits_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 100
vllm:prefix_cache_hits_total{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 300
`;
    const first = readEngine(parsePrometheusText(page(0.4, 0.6)), undefined).reading;
    expect(first.kvCacheUsagePercent).toBeCloseTo(60, 10);
    expect(first.requestsRunning).toBe(8); // requests do add up
    expect(first.engines).toEqual([
      { id: '0', requestsRunning: 3, kvCacheUsagePercent: 40 },
      { id: '1', requestsRunning: 5, kvCacheUsagePercent: 60 },
    ]);
    expect(first.combined).toContain("KV-cache usage is the fullest engine's");
    // Hit rates: all hits over all queries between checks (engine 0: 50 %, engine 1: 10 %).
    const next = page(0.4, 0.6)
      .replace(
        'queries_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 1000',
        'queries_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 1200',
      )
      .replace(
        'hits_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 100',
        'hits_total{engine="0",model_name="Qwen/Qwen3-VL-8B-Instruct"} 200',
      )
      .replace(
        'queries_total{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 3000',
        'queries_total{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 3800',
      )
      .replace(
        'hits_total{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 300',
        'hits_total{engine="1",model_name="Qwen/Qwen3-VL-8B-Instruct"} 380',
      );
    const second = readEngine(
      parsePrometheusText(next),
      readEngine(parsePrometheusText(page(0.4, 0.6)), undefined).counters,
    ).reading;
    expect(second.engines!.map((e) => e.prefixCacheHitRatePercent)).toEqual([50, 10]);
    expect(second.prefixCacheHitRatePercent).toBeCloseTo(18, 10); // 180 hits / 1000 queries
  });

  it('does not add up SGLang ranks: two ranks at 73 % are 73 %, not a false critical at 146 %', () => {
    const r = readEngine(
      parsePrometheusText(
        'sglang:token_usage{tp_rank="0",model_name="m"} 0.73\nsglang:token_usage{tp_rank="1",model_name="m"} 0.73\n',
      ),
      undefined,
    ).reading;
    expect(r.kvCacheUsagePercent).toBeCloseTo(73, 10);
    expect(r.engines!.map((e) => e.id)).toEqual(['tp_rank=0', 'tp_rank=1']);
  });

  it('records one series per engine and exports each with its engine label', async () => {
    const engine = createServer((_req, res) =>
      res.end(
        [
          'vllm:num_requests_waiting{engine="0",model_name="m"} 2',
          'vllm:num_requests_waiting{engine="1",model_name="m"} 9',
          'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.4',
          'vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.6',
          '',
        ].join('\n'),
      ),
    ).listen(0, '127.0.0.1');
    await new Promise((r) => engine.once('listening', r));
    cleanups.push(() => new Promise((r) => engine.close(() => r())));
    const clock = steppedClock();
    const app = await startApp(
      { UPSTREAM_METRICS_URL: `http://127.0.0.1:${(engine.address() as { port: number }).port}/metrics` },
      { clock, probes: false },
    );
    cleanups.push(() => app.close());
    await app.monitor!.tick(clock());

    const series = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=upstream_kv_cache_usage_percent`)).json()) as any
    ).series;
    expect(series.map((s: any) => [s.labels.engine, s.points.at(-1)[1]])).toEqual([
      ['0', 40],
      ['1', 60],
    ]);
    const summary = (await (await fetch(`${app.baseUrl}/api/monitor/engine`)).json()) as any;
    expect(summary).toMatchObject({ kvCacheUsagePercent: 60, requestsWaiting: 11 });
    expect(summary.combined).toMatch(/^2 engines: KV-cache usage is the fullest engine's/);
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toContain('qwen3vl_upstream_kv_cache_usage_ratio{engine="0"} 0.4');
    expect(metrics).toContain('qwen3vl_upstream_kv_cache_usage_ratio{engine="1"} 0.6');
    expect(metrics).toContain('qwen3vl_upstream_requests_waiting{engine="1"} 9');
  });

  it('finds /metrics beside the OpenAI base URL, and says so when there is none', async () => {
    expect(UpstreamMetricsProbe.metricsUrlFor('http://10.0.0.5:8000/v1')).toBe('http://10.0.0.5:8000/metrics');
    expect(UpstreamMetricsProbe.metricsUrlFor('http://127.0.0.1:11434/v1/')).toBe('http://127.0.0.1:11434/metrics');
    const server = createServer((_req, res) => res.writeHead(404).end('404 page not found')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const probe = new UpstreamMetricsProbe(`http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`);
    const r = await probe.sample();
    expect(r).toMatchObject({ available: false });
    expect(r.reason).toContain('404');
  });

  it('has its gauges back at the next check after a model server restart; only a missing page is asked less often', async () => {
    let state: 'up' | 'down' | 'missing' = 'up';
    const page = '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="q"} 3\n';
    const engine = createServer((_req, res) => {
      if (state === 'down') return res.writeHead(503).end('restarting');
      if (state === 'missing') return res.writeHead(404).end('404 page not found');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(page);
    }).listen(0, '127.0.0.1');
    await new Promise((r) => engine.once('listening', r));
    cleanups.push(() => new Promise((r) => engine.close(() => r())));
    const probe = new UpstreamMetricsProbe(`http://127.0.0.1:${(engine.address() as { port: number }).port}/metrics`);
    expect(await probe.sample()).toMatchObject({ available: true, requestsRunning: 3 });
    // Restarting: five checks without an answer, then it is back at the very next check.
    state = 'down';
    for (let i = 0; i < 5; i++) expect((await probe.sample()).reason).toContain('503');
    state = 'up';
    expect(await probe.sample()).toMatchObject({ available: true, requestsRunning: 3 });
    // A page that is not there, three times: asked again only after 30 checks.
    state = 'missing';
    for (let i = 0; i < 3; i++) expect((await probe.sample()).reason).toContain('404');
    state = 'up';
    expect((await probe.sample()).reason).toBe('the model server has no Prometheus /metrics');
  });

  it("feeds the simulated engine's gauges into the Monitor each check", async () => {
    const fake = await startFakeUpstream();
    const clock = steppedClock();
    const app = await startApp({ UPSTREAM_URL: fake.url }, { clock, probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    await app.monitor!.tick(clock());
    const engine = (await (await fetch(`${app.baseUrl}/api/monitor/engine`)).json()) as any;
    expect(engine).toMatchObject({ available: true, engine: 'vllm', requestsRunning: 0, requestsWaiting: 0 });
    const kv = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=upstream_kv_cache_usage_percent`)).json()) as any
    ).series[0].points[0][1];
    expect(kv).toBeCloseTo(20, 6);
  });
});
