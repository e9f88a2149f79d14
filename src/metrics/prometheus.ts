// The bridge to prom-client. The request hook keeps its own counters (prom-client's
// observe() hashes label objects on every call); at scrape time they are handed to a
// prom-client Registry as collected metrics, so formatting and default process metrics
// stay prom-client's. Names follow Prometheus conventions: base units, _total counters,
// one prefix.
import client from 'prom-client';
import type { CumulativeHistogram, ServiceStats } from './service-stats.js';
import { catalogue } from './catalogue.js';
import type { SeriesStore } from './series-store.js';

export const PREFIX = 'qwen3vl_';

type MetricType = 'counter' | 'gauge' | 'histogram';
interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A prom-client-compatible metric whose values are computed when scraped. */
class CollectedMetric {
  readonly aggregator = 'sum' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly collect: () => Value[],
  ) {}
  get(): { name: string; help: string; type: MetricType; values: Value[]; aggregator: 'sum' } {
    return { name: this.name, help: this.help, type: this.type, values: this.collect(), aggregator: this.aggregator };
  }
}

function histogramValues(name: string, h: CumulativeHistogram, labels: Record<string, string>): Value[] {
  const out: Value[] = [];
  let cumulative = 0;
  h.bounds.forEach((le, i) => {
    cumulative += h.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

const STATUS_CLASSES = ['', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export interface PrometheusSources {
  stats: ServiceStats;
  store: SeriesStore;
  websocketConnections: () => number;
  /** Readings older than this time are not exported (three check intervals ago). */
  freshSince: () => number;
}

/**
 * Monitor names → Prometheus names in base units: MiB → bytes, percent → ratio (0–1),
 * KiB/s → bytes per second, MHz → hertz. Other units keep their name.
 */
export function prometheusName(name: string): { name: string; scale: number } {
  const rules: Array<[RegExp, string, number]> = [
    [/_mib$/, '_bytes', 1024 * 1024],
    [/_percent$/, '_ratio', 0.01],
    [/_kibps$/, '_bytes_per_second', 1024],
    [/_mhz$/, '_hertz', 1e6],
  ];
  for (const [re, suffix, scale] of rules) if (re.test(name)) return { name: PREFIX + name.replace(re, suffix), scale };
  return { name: PREFIX + name, scale: 1 };
}

export function createPrometheusRegistry(src: PrometheusSources): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const requestsName = `${PREFIX}http_requests_total`;
  const durationName = `${PREFIX}http_request_duration_seconds`;
  const ttftName = `${PREFIX}chat_time_to_first_token_seconds`;
  const add = (m: CollectedMetric) => registry.registerMetric(m as unknown as client.Metric);

  add(new CollectedMetric(requestsName, 'HTTP requests finished, by route pattern and status class.', 'counter', () => {
    const out: Value[] = [];
    for (const ep of src.stats.all()) {
      for (let cls = 1; cls <= 5; cls++) {
        const n = ep.statusTotals[cls]!;
        if (n > 0) out.push({ labels: { endpoint: ep.endpoint, method: ep.method, status_class: STATUS_CLASSES[cls]! }, value: n });
      }
    }
    return out;
  }));

  add(new CollectedMetric(durationName, 'HTTP response time, by route pattern (buckets 5 ms to 120 s).', 'histogram', () =>
    src.stats.all().filter((ep) => ep.durations.count > 0)
      .flatMap((ep) => histogramValues(durationName, ep.durations, { endpoint: ep.endpoint, method: ep.method })),
  ));

  add(new CollectedMetric(ttftName, 'Time to first token of streamed chat completions.', 'histogram', () =>
    histogramValues(ttftName, src.stats.chat.ttft, {}),
  ));

  add(new CollectedMetric(`${PREFIX}chat_prompt_tokens_total`, 'Prompt tokens reported by the upstream usage.', 'counter', () => [
    { labels: {}, value: src.stats.chat.promptTokensTotal },
  ]));
  add(new CollectedMetric(`${PREFIX}chat_completion_tokens_total`, 'Completion tokens reported by the upstream usage.', 'counter', () => [
    { labels: {}, value: src.stats.chat.completionTokensTotal },
  ]));
  add(new CollectedMetric(`${PREFIX}websocket_active_connections`, 'Open WebSocket connections.', 'gauge', () => [
    { labels: {}, value: src.websocketConnections() },
  ]));
  add(new CollectedMetric(`${PREFIX}http_open_connections`, 'Open client connections (HTTP keep-alive and WebSocket).', 'gauge', () => [
    { labels: {}, value: src.stats.load.openConnections },
  ]));
  add(new CollectedMetric(`${PREFIX}model_requests_in_flight`, 'Model requests received and not yet answered.', 'gauge', () => [
    { labels: {}, value: src.stats.load.modelRequestsInFlight },
  ]));
  // Resource-layer gauges: the newest reading of each series, if from a recent check.
  for (const def of catalogue.values()) {
    if (def.layer !== 'resource') continue;
    const { name, scale } = prometheusName(def.name);
    add(new CollectedMetric(name, `${def.help} (Monitor: ${def.name})`, 'gauge', () => {
      const fresh = src.freshSince();
      const out: Value[] = [];
      for (const s of src.store.find(def.name)) {
        const last = s.ring.last();
        if (last && last.t >= fresh) out.push({ labels: { ...s.labels }, value: last.v * scale });
      }
      return out;
    }));
  }

  add(new CollectedMetric(`${PREFIX}monitor_series`, 'Time series held by the Monitor store.', 'gauge', () => [
    { labels: {}, value: src.store.size },
  ]));
  add(new CollectedMetric(`${PREFIX}monitor_dropped_points_total`, 'Points refused because the series cap was reached.', 'counter', () => [
    { labels: {}, value: src.store.droppedPoints },
  ]));
  return registry;
}
