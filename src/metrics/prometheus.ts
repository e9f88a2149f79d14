// The bridge to prom-client. The request hook and the pipeline keep their own counters
// (prom-client's observe() hashes label objects on every call); at scrape time they are
// read into prom-client metrics, so formatting stays prom-client's. Names follow
// Prometheus conventions: base units, _total counters, one prefix, except Node's and the
// process's default metrics, which keep their stock names for stock dashboards.
import client from 'prom-client';
import { catalogue } from './catalogue.js';
import type { ModuleName, Stage } from './model-stats.js';
import type { ModelTotals } from './model-totals.js';
import { PREFIX, prometheusName } from './prometheus-names.js';
import { registerIdentity, type Sender } from './prometheus-identity.js';
import { histogramMetric, type HistogramMetric } from './prometheus-histogram.js';
import { registerModelMetrics } from './prometheus-model.js';
import type { SeriesStore } from './series-store.js';
import type { CumulativeHistogram, ServiceStats } from './service-stats.js';

const STATUS_CLASSES = ['', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * prom-client's default metrics that are gauges named `_total` (what `promtool check
 * metrics` rejects); `sum(nodejs_active_handles)` and its siblings give the same numbers.
 */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Model-layer readings the check stores as series and /metrics exports as gauges. */
const MODEL_GAUGES = new Set([
  'upstream_up',
  'upstream_requests_running',
  'upstream_requests_waiting',
  'upstream_kv_cache_usage_percent',
]);
/** Catalogue metrics exported as gauges: the check's readings (GPUs, host, the model server). */
export const EXPORTED_GAUGES: ReadonlySet<string> = new Set(
  [...catalogue.values()].filter((d) => d.layer === 'resource' || MODEL_GAUGES.has(d.name)).map((d) => d.name),
);

export interface PrometheusSources {
  stats: ServiceStats;
  model: ModelTotals<ModuleName, Stage>;
  store: SeriesStore;
  websocketConnections: () => number;
  /** Readings older than this time are not exported (three check intervals ago). */
  freshSince: () => number;
  /** Model requests waiting for a connection to the model server. */
  upstreamWaiting?: () => number;
  /** What the node calls itself in its alerts (prometheus-identity.ts). */
  identity?: Sender;
}

export class PrometheusExporter {
  readonly contentType = client.Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new client.Registry();
  private readonly histograms: Array<() => HistogramMetric> = [];

  constructor(src: PrometheusSources) {
    const registry = this.registry;
    client.collectDefaultMetrics({ register: registry });
    if (src.identity) registerIdentity(registry, src.identity);
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);

    new client.Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests finished, by route pattern and status class.',
      labelNames: ['endpoint', 'method', 'status_class'],
      registers: [registry],
      collect() {
        this.reset();
        for (const ep of src.stats.all()) {
          for (let cls = 1; cls <= 5; cls++) {
            const n = ep.statusTotals[cls]!;
            if (n > 0) this.inc({ endpoint: ep.endpoint, method: ep.method, status_class: STATUS_CLASSES[cls]! }, n);
          }
        }
      },
    });
    this.histograms.push(
      histogramMetric(
        `${PREFIX}http_request_duration_seconds`,
        'HTTP response time, by route pattern (78 buckets from 5 ms to 600 s, 12 % apart from 50 ms to 100 s).',
        () =>
          src.stats
            .all()
            .map((ep): [Record<string, string>, CumulativeHistogram] => [
              { endpoint: ep.endpoint, method: ep.method },
              ep.durations,
            ]),
      ),
      histogramMetric(
        `${PREFIX}http_response_size_bytes`,
        "Size of the answers' bodies (Content-Length, or the bytes a stream sent), by route pattern. (Monitor: response_bytes)",
        () =>
          src.stats
            .all()
            .map((ep): [Record<string, string>, CumulativeHistogram] => [
              { endpoint: ep.endpoint, method: ep.method },
              ep.responseSizes,
            ]),
      ),
      histogramMetric(
        `${PREFIX}chat_time_to_first_token_seconds`,
        'Time to first token of streamed chat completions.',
        () => [[{}, src.stats.chat.ttft]],
      ),
    );
    const total = (name: string, help: string, read: () => number) =>
      new client.Counter({
        name: PREFIX + name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    total(
      'chat_prompt_tokens_total',
      'Prompt tokens reported by the upstream usage.',
      () => src.stats.chat.promptTokensTotal,
    );
    total(
      'chat_completion_tokens_total',
      'Completion tokens reported by the upstream usage.',
      () => src.stats.chat.completionTokensTotal,
    );
    total(
      'monitor_dropped_points_total',
      'Points refused because the series cap was reached.',
      () => src.store.droppedPoints,
    );
    const gauge = (name: string, help: string, read: () => number) =>
      new client.Gauge({
        name: PREFIX + name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    gauge('websocket_active_connections', 'Open WebSocket connections.', () => src.websocketConnections());
    gauge(
      'active_connections',
      'Users connected now: model requests in flight (open streams included) and WebSockets. (Monitor: active_connections)',
      () => src.stats.load.activeConnections(src.websocketConnections()),
    );
    gauge(
      'http_open_connections',
      'Open client sockets, idle keep-alive ones included (not users: see qwen3vl_active_connections).',
      () => src.stats.load.openConnections,
    );
    gauge(
      'model_requests_in_flight',
      'Model requests received and not yet answered.',
      () => src.stats.load.modelRequestsInFlight,
    );
    gauge(
      'model_streams_in_flight',
      'Model answers being streamed (server-sent events); part of model_requests_in_flight.',
      () => src.stats.load.streamsInFlight,
    );
    gauge(
      'model_requests_waiting_upstream',
      'Model requests waiting for a connection to the model server (all UPSTREAM_MAX_CONNECTIONS busy); part of model_requests_in_flight.',
      () => src.upstreamWaiting?.() ?? 0,
    );
    gauge('monitor_series', 'Time series held by the Monitor store.', () => src.store.size);

    // Readings of the check (GPUs, host, the model server's gauges): the newest point of
    // each series, if from a recent check; a series without one is absent, never 0.
    for (const def of catalogue.values()) {
      if (!EXPORTED_GAUGES.has(def.name)) continue;
      const { name, scale } = prometheusName(def.name);
      new client.Gauge({
        name,
        help: `${def.help} (Monitor: ${def.name})`,
        labelNames: [...def.labels],
        registers: [registry],
        collect() {
          this.reset();
          const fresh = src.freshSince();
          let any = false;
          for (const s of src.store.find(def.name)) {
            const last = s.ring.last();
            if (!last || last.t < fresh) continue;
            this.set({ ...s.labels }, last.v * scale);
            any = true;
          }
          if (!any && def.labels.length === 0) this.remove();
        },
      });
    }

    this.histograms.push(...registerModelMetrics(registry, src.model));
  }

  /** The exposition text of everything above, rendered by prom-client. */
  async metrics(): Promise<string> {
    // prom-client's Histogram only counts what it observes itself; metric objects whose
    // counts are kept elsewhere become a Registry through AggregatorRegistry.aggregate (the
    // public door for metrics collected outside the registry, made for cluster workers).
    const histograms = client.AggregatorRegistry.aggregate<client.PrometheusContentType>([
      this.histograms.map((h) => h()),
    ]);
    return client.Registry.merge([this.registry, histograms]).metrics();
  }
}
