// The model server's own gauges, scraped from its Prometheus /metrics each check when it
// has one (vLLM, SGLang): running and waiting requests, KV-cache usage, prefix and
// multimodal cache hit rates, preemptions. Tolerates absence (llama.cpp, Ollama) and
// vLLM's renames (gpu_cache_usage_perc → kv_cache_usage_perc).
import { request } from 'undici';
import { parsePrometheusText, sumOf, type Sample } from './prometheus-text.js';

export interface EngineReading {
  available: boolean;
  reason?: string;
  engine?: 'vllm' | 'sglang' | 'unknown';
  requestsRunning?: number;
  requestsWaiting?: number;
  kvCacheUsagePercent?: number;
  prefixCacheHitRatePercent?: number;
  mmCacheHitRatePercent?: number;
  preemptions?: number;
}

interface Counters {
  prefixHits?: number;
  prefixQueries?: number;
  mmHits?: number;
  mmQueries?: number;
  preemptions?: number;
}

/** Hit rate between two readings of cumulative counters; undefined without traffic. */
function rate(hits1: number | undefined, q1: number | undefined, hits0: number | undefined, q0: number | undefined): number | undefined {
  if (hits1 === undefined || q1 === undefined || hits0 === undefined || q0 === undefined) return undefined;
  const dq = q1 - q0;
  return dq > 0 ? ((hits1 - hits0) / dq) * 100 : undefined;
}

/** Pure: what the samples say, given the previous counters. */
export function readEngine(samples: readonly Sample[], prev: Counters | undefined): { reading: EngineReading; counters: Counters } {
  const vllm = samples.some((s) => s.name.startsWith('vllm:'));
  const sglang = samples.some((s) => s.name.startsWith('sglang:'));
  const r: EngineReading = { available: true, engine: vllm ? 'vllm' : sglang ? 'sglang' : 'unknown' };
  const set = <K extends keyof EngineReading>(k: K, v: EngineReading[K] | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  set('requestsRunning', sumOf(samples, 'vllm:num_requests_running', 'sglang:num_running_reqs'));
  set('requestsWaiting', sumOf(samples, 'vllm:num_requests_waiting', 'sglang:num_queue_reqs'));
  const kv = sumOf(samples, 'vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'sglang:token_usage');
  set('kvCacheUsagePercent', kv === undefined ? undefined : kv * 100);
  const counters: Counters = {};
  const put = (k: keyof Counters, v: number | undefined) => {
    if (v !== undefined) counters[k] = v;
  };
  put('prefixHits', sumOf(samples, 'vllm:prefix_cache_hits_total', 'vllm:prefix_cache_hits'));
  put('prefixQueries', sumOf(samples, 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_queries'));
  put('mmHits', sumOf(samples, 'vllm:mm_cache_hits_total', 'vllm:mm_cache_hits'));
  put('mmQueries', sumOf(samples, 'vllm:mm_cache_queries_total', 'vllm:mm_cache_queries'));
  put('preemptions', sumOf(samples, 'vllm:num_preemptions_total', 'vllm:num_preemptions'));
  // Older vLLM and SGLang report the hit rate itself (0–1).
  const direct = sumOf(samples, 'vllm:gpu_prefix_cache_hit_rate', 'sglang:cache_hit_rate');
  set('prefixCacheHitRatePercent', rate(counters.prefixHits, counters.prefixQueries, prev?.prefixHits, prev?.prefixQueries) ?? (direct === undefined ? undefined : direct * 100));
  set('mmCacheHitRatePercent', rate(counters.mmHits, counters.mmQueries, prev?.mmHits, prev?.mmQueries));
  if (counters.preemptions !== undefined && prev?.preemptions !== undefined) r.preemptions = Math.max(0, counters.preemptions - prev.preemptions);
  return { reading: r, counters };
}

export class UpstreamMetricsProbe {
  private prev: Counters | undefined;
  private misses = 0;
  private skipUntilCheck = 0;
  private checks = 0;

  constructor(private readonly url: string | undefined, private readonly timeoutMs = 2_000) {}

  /** The engine's /metrics next to its OpenAI base URL: http://host:8000/v1 → http://host:8000/metrics */
  static metricsUrlFor(upstreamUrl: string | undefined): string | undefined {
    if (!upstreamUrl) return undefined;
    const u = new URL(upstreamUrl);
    u.pathname = u.pathname.replace(/\/v1\/?$/, '').replace(/\/$/, '') + '/metrics';
    return u.toString();
  }

  async sample(): Promise<EngineReading> {
    if (!this.url) return { available: false, reason: 'no model server configured' };
    // An engine without /metrics (llama.cpp, Ollama): ask again only every 30 checks.
    if (this.checks++ < this.skipUntilCheck) return { available: false, reason: 'the model server has no Prometheus /metrics' };
    try {
      const res = await request(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await res.body.text();
      if (res.statusCode >= 400) throw new Error(`${this.url} answered ${res.statusCode}`);
      const samples = parsePrometheusText(text);
      if (samples.length === 0) throw new Error(`${this.url} has no metrics`);
      const { reading, counters } = readEngine(samples, this.prev);
      this.prev = counters;
      this.misses = 0;
      return reading;
    } catch (err) {
      if (++this.misses >= 3) this.skipUntilCheck = this.checks + 30;
      return { available: false, reason: (err as Error).message };
    }
  }
}
