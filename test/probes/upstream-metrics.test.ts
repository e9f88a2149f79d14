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
    expect(first.reading).toMatchObject({ engine: 'vllm', requestsRunning: 3, requestsWaiting: 7, kvCacheUsagePercent: 42 });
    expect(first.reading.prefixCacheHitRatePercent).toBeUndefined(); // needs two readings
    const second = readEngine(parsePrometheusText(vllmNew(400, 1500, 5)), first.counters);
    expect(second.reading.prefixCacheHitRatePercent).toBeCloseTo(60, 10);
    expect(second.reading.preemptions).toBe(3);
  });

  it("reads vLLM's older names and SGLang's", () => {
    const old = readEngine(parsePrometheusText('vllm:gpu_cache_usage_perc{model_name="m"} 0.9\nvllm:gpu_prefix_cache_hit_rate{model_name="m"} 0.25\n'), undefined);
    expect(old.reading).toMatchObject({ kvCacheUsagePercent: 90, prefixCacheHitRatePercent: 25 });
    const sg = readEngine(parsePrometheusText('sglang:num_running_reqs{tp_rank="0"} 4\nsglang:num_queue_reqs{tp_rank="0"} 1\nsglang:token_usage{tp_rank="0"} 0.5\nsglang:cache_hit_rate{tp_rank="0"} 0.8\n'), undefined);
    expect(sg.reading).toMatchObject({ engine: 'sglang', requestsRunning: 4, requestsWaiting: 1, kvCacheUsagePercent: 50, prefixCacheHitRatePercent: 80 });
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

  it("feeds the simulated engine's gauges into the Monitor each check", async () => {
    const fake = await startFakeUpstream();
    const clock = steppedClock();
    const app = await startApp({ UPSTREAM_URL: fake.url }, { clock, probes: false });
    cleanups.push(() => fake.close(), () => app.close());
    await app.monitor!.tick(clock());
    const engine = (await (await fetch(`${app.baseUrl}/api/monitor/engine`)).json()) as any;
    expect(engine).toMatchObject({ available: true, engine: 'vllm', requestsRunning: 0, requestsWaiting: 0 });
    const kv = ((await (await fetch(`${app.baseUrl}/api/monitor/series?metric=upstream_kv_cache_usage_percent`)).json()) as any).series[0].points[0][1];
    expect(kv).toBeCloseTo(20, 6);
  });
});
