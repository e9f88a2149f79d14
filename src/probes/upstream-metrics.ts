// The model server's own gauges, scraped from its Prometheus /metrics each check when it
// has one (vLLM, SGLang): running and waiting requests, KV-cache usage, prefix and
// multimodal cache hit rates, preemptions. Tolerates absence (llama.cpp, Ollama) and
// vLLM's renames (gpu_cache_usage_perc → kv_cache_usage_perc).
//
// One page can describe several engines: vLLM's data-parallel engines (label `engine`),
// SGLang's ranks (`tp_rank`, `dp_rank`). Each keeps its own figures; the summary never adds
// up shares: two engines at 40 % and 60 % KV-cache are "60 %, the fullest of 2", not 100 %.
import { request } from 'undici';
import { z } from 'zod';
import { readLimited } from '../read-limited.js';
import { parsePrometheusText, seriesOf, type Sample } from './prometheus-text.js';
import { reasonPartsSchema } from '../reason-schema.js';
import { because, type ReasonPart } from '../reasons.js';

/** An engine's page is tens of KiB (vLLM with 8 ranks: ~1 MiB); a page past this is not one. */
const MAX_METRICS_BYTES = 8 * 1024 * 1024;

export const engineGaugesSchema = z.object({
  requestsRunning: z.number().optional(),
  requestsWaiting: z.number().optional(),
  kvCacheUsagePercent: z.number().optional(),
  prefixCacheHitRatePercent: z.number().optional(),
  mmCacheHitRatePercent: z.number().optional(),
  preemptions: z.number().optional().describe('Preemptions since the previous check'),
});
export type EngineGauges = z.infer<typeof engineGaugesSchema>;

export const engineInstanceSchema = engineGaugesSchema.extend({
  id: z.string().describe('The engine\'s label value in the Monitor\'s series (`engine`): "0", "1", or "tp_rank=1"'),
});
export type EngineInstance = z.infer<typeof engineInstanceSchema>;

/** The model server's own gauges at the last check (GET /api/monitor/engine). */
export const engineReadingSchema = engineGaugesSchema.extend({
  available: z.boolean(),
  reason: z.string().optional(),
  reasonParts: reasonPartsSchema.optional(),
  engine: z.enum(['vllm', 'sglang', 'unknown']).optional(),
  engines: z
    .array(engineInstanceSchema)
    .optional()
    .describe('Each engine or rank on its own; the top-level figures combine them as `combined` says'),
  combined: z.string().optional().describe('How the top-level figures were made when there are several engines'),
});
export type EngineReading = z.infer<typeof engineReadingSchema>;

interface Counters {
  prefixHits?: number;
  prefixQueries?: number;
  mmHits?: number;
  mmQueries?: number;
  preemptions?: number;
}
type CountersByEngine = Map<string, Counters>;

/** Labels that say which model, not which engine. */
const NOT_ENGINE = new Set(['model_name', 'engine_type']);

/** The id of the engine a series belongs to: vLLM's `engine` value, else its rank labels. */
export function engineId(labels: Record<string, string>): string {
  const keys = Object.keys(labels)
    .filter((k) => !NOT_ENGINE.has(k))
    .sort();
  if (keys.length === 0) return '0';
  const engine = labels.engine;
  if (keys.length === 1 && keys[0] === 'engine' && engine !== undefined) return engine;
  return keys.map((k) => `${k}=${labels[k]}`).join(',');
}

/** Hit rate between two readings of cumulative counters; undefined without traffic. */
function rate(
  hits1: number | undefined,
  q1: number | undefined,
  hits0: number | undefined,
  q0: number | undefined,
): number | undefined {
  if (hits1 === undefined || q1 === undefined || hits0 === undefined || q0 === undefined) return undefined;
  const dq = q1 - q0;
  return dq > 0 ? ((hits1 - hits0) / dq) * 100 : undefined;
}

const NAMES = {
  running: ['vllm:num_requests_running', 'sglang:num_running_reqs'],
  waiting: ['vllm:num_requests_waiting', 'sglang:num_queue_reqs'],
  kv: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'sglang:token_usage'],
  prefixHits: ['vllm:prefix_cache_hits_total', 'vllm:prefix_cache_hits'],
  prefixQueries: ['vllm:prefix_cache_queries_total', 'vllm:prefix_cache_queries'],
  mmHits: ['vllm:mm_cache_hits_total', 'vllm:mm_cache_hits'],
  mmQueries: ['vllm:mm_cache_queries_total', 'vllm:mm_cache_queries'],
  preemptions: ['vllm:num_preemptions_total', 'vllm:num_preemptions'],
  // Older vLLM and SGLang report the hit rate itself (0–1).
  directHitRate: ['vllm:gpu_prefix_cache_hit_rate', 'sglang:cache_hit_rate'],
} as const;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const defined = (xs: Array<number | undefined>) => xs.filter((x): x is number => x !== undefined);

/** Pure: what the samples say, per engine and combined, given the previous counters. */
export function readEngine(
  samples: readonly Sample[],
  prev: CountersByEngine | undefined,
): { reading: EngineReading; counters: CountersByEngine } {
  const vllm = samples.some((s) => s.name.startsWith('vllm:'));
  const sglang = samples.some((s) => s.name.startsWith('sglang:'));
  const byEngine = new Map<string, Partial<Record<keyof typeof NAMES, number>>>();
  for (const key of Object.keys(NAMES) as Array<keyof typeof NAMES>) {
    for (const s of seriesOf(samples, ...NAMES[key])) {
      // An engine's +Inf or -Inf gauge is no reading (JSON would write it as null).
      if (!Number.isFinite(s.value)) continue;
      const id = engineId(s.labels);
      const e = byEngine.get(id) ?? {};
      e[key] = (e[key] ?? 0) + s.value; // one engine's series of one name (e.g. per model) add up
      byEngine.set(id, e);
    }
  }

  const engines: EngineInstance[] = [];
  const counters: CountersByEngine = new Map();
  for (const [id, v] of [...byEngine].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const c: Counters = {};
    if (v.prefixHits !== undefined) c.prefixHits = v.prefixHits;
    if (v.prefixQueries !== undefined) c.prefixQueries = v.prefixQueries;
    if (v.mmHits !== undefined) c.mmHits = v.mmHits;
    if (v.mmQueries !== undefined) c.mmQueries = v.mmQueries;
    if (v.preemptions !== undefined) c.preemptions = v.preemptions;
    counters.set(id, c);
    const p = prev?.get(id);
    const e: EngineInstance = { id };
    if (v.running !== undefined) e.requestsRunning = v.running;
    if (v.waiting !== undefined) e.requestsWaiting = v.waiting;
    if (v.kv !== undefined) e.kvCacheUsagePercent = v.kv * 100;
    const prefix =
      rate(c.prefixHits, c.prefixQueries, p?.prefixHits, p?.prefixQueries) ??
      (v.directHitRate === undefined ? undefined : v.directHitRate * 100);
    if (prefix !== undefined) e.prefixCacheHitRatePercent = prefix;
    const mm = rate(c.mmHits, c.mmQueries, p?.mmHits, p?.mmQueries);
    if (mm !== undefined) e.mmCacheHitRatePercent = mm;
    if (c.preemptions !== undefined && p?.preemptions !== undefined)
      e.preemptions = Math.max(0, c.preemptions - p.preemptions);
    engines.push(e);
  }

  const r: EngineReading = { available: true, engine: vllm ? 'vllm' : sglang ? 'sglang' : 'unknown', engines };
  const set = <K extends keyof EngineGauges>(k: K, v: number | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  const of = (k: keyof EngineGauges) => defined(engines.map((e) => e[k]));
  // Requests and preemptions add up across engines; a share is never added: the fullest
  // engine is what runs out first.
  if (of('requestsRunning').length) set('requestsRunning', sum(of('requestsRunning')));
  if (of('requestsWaiting').length) set('requestsWaiting', sum(of('requestsWaiting')));
  if (of('kvCacheUsagePercent').length) set('kvCacheUsagePercent', Math.max(...of('kvCacheUsagePercent')));
  if (of('preemptions').length) set('preemptions', sum(of('preemptions')));
  // Hit rates of all engines together: all hits over all queries (engines that report the
  // rate itself: their mean).
  const all = (k: keyof Counters, from: CountersByEngine | undefined) => {
    const xs = defined([...(from?.values() ?? [])].map((c) => c[k]));
    return xs.length ? sum(xs) : undefined;
  };
  const direct = of('prefixCacheHitRatePercent');
  set(
    'prefixCacheHitRatePercent',
    rate(
      all('prefixHits', counters),
      all('prefixQueries', counters),
      all('prefixHits', prev),
      all('prefixQueries', prev),
    ) ?? (direct.length ? sum(direct) / direct.length : undefined),
  );
  set(
    'mmCacheHitRatePercent',
    rate(all('mmHits', counters), all('mmQueries', counters), all('mmHits', prev), all('mmQueries', prev)),
  );
  if (engines.length > 1) {
    r.combined = `${engines.length} engines: KV-cache usage is the fullest engine's, requests and preemptions are summed, hit rates are over all engines' queries`;
  }
  return { reading: r, counters };
}

export class UpstreamMetricsProbe {
  private prev: CountersByEngine | undefined;
  private misses = 0;
  private skipUntilCheck = 0;
  private checks = 0;

  constructor(
    private readonly url: string | undefined,
    private readonly timeoutMs = 2_000,
  ) {}

  /** The engine's /metrics next to its OpenAI base URL: http://host:8000/v1 → http://host:8000/metrics */
  static metricsUrlFor(upstreamUrl: string | undefined): string | undefined {
    if (!upstreamUrl) return undefined;
    const u = new URL(upstreamUrl);
    u.pathname = `${u.pathname.replace(/\/v1\/?$/, '').replace(/\/$/, '')}/metrics`;
    return u.toString();
  }

  async sample(): Promise<EngineReading> {
    if (!this.url) return { available: false, ...because({ code: 'ENGINE_NOT_CONFIGURED' }) };
    // An engine without /metrics (llama.cpp, Ollama): ask again only every 30 checks.
    if (this.checks++ < this.skipUntilCheck) return { available: false, ...because({ code: 'ENGINE_NO_METRICS' }) };
    // Only a page that is not there (404, or a page without a metric: llama.cpp without
    // --metrics, Ollama) earns the back-off. A model server restarting (connection refused,
    // 5xx, no answer in time) is asked again at the next check: its gauges come back with it.
    let absent = false;
    try {
      const res = await request(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await readLimited(res.body, MAX_METRICS_BYTES);
      absent = res.statusCode === 404;
      if (res.statusCode >= 400)
        return this.missed(absent, { code: 'ENGINE_ANSWERED', params: { url: this.url, status: res.statusCode } });
      const samples = parsePrometheusText(text);
      absent = samples.length === 0;
      if (absent) return this.missed(absent, { code: 'ENGINE_NO_SAMPLES', params: { url: this.url } });
      const { reading, counters } = readEngine(samples, this.prev);
      this.prev = counters;
      this.misses = 0;
      return reading;
    } catch (err) {
      return this.missed(absent, { code: 'TEXT', params: { text: (err as Error).message } });
    }
  }

  /** No reading this check; a page that is not there three times running is asked for again only every 30 checks. */
  private missed(absent: boolean, reason: ReasonPart): EngineReading {
    if (!absent) this.misses = 0;
    else if (++this.misses >= 3) this.skipUntilCheck = this.checks + 30;
    return { available: false, ...because(reason) };
  }
}
