// The service layer on /metrics: requests by route, method and status class for every
// route; latency and response-size histograms only for the routes HistogramRoutes names
// (the model endpoints and the operator's list); time to first token; tokens; who is
// connected. Read at scrape time from ServiceStats (running totals since start).
import client from 'prom-client';
import type { HistogramRoutes } from './histogram-routes.js';
import { PREFIX } from './prometheus-names.js';
import { histogramMetric, type HistogramMetric } from './prometheus-histogram.js';
import type { CumulativeHistogram, EndpointStats, ServiceStats } from './service-stats.js';

/** By the status's first digit, as EndpointStats.statusTotals counts them (0, any other: not exported). */
const STATUS_CLASSES = ['', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/**
 * A model route's answers that exist from the first scrape, at 0: what error-rate queries
 * divide and rate() needs a first sample of (Prometheus' advice for label sets known in
 * advance). 1xx and 3xx a model route never answers; other routes' classes come with use.
 */
const MODEL_STATUS_CLASSES = ['2xx', '4xx', '5xx'] as const;

export interface ServiceSources {
  stats: ServiceStats;
  histogramRoutes: HistogramRoutes;
  websocketConnections: () => number;
  /** Model requests waiting for a connection to the model server. */
  upstreamWaiting?: () => number;
}

/** Registers the service layer's counters and gauges; returns its histograms, read at each scrape. */
export function registerServiceMetrics(registry: client.Registry, src: ServiceSources): Array<() => HistogramMetric> {
  const { stats } = src;
  new client.Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests finished, by route pattern and status class (model routes: 2xx, 4xx and 5xx from the start, at 0).',
    labelNames: ['endpoint', 'method', 'status_class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const ep of stats.all()) {
        const labels = (statusClass: string) => ({
          endpoint: ep.endpoint,
          method: ep.method,
          status_class: statusClass,
        });
        if (ep.group === 'model') for (const cls of MODEL_STATUS_CLASSES) this.inc(labels(cls), 0);
        for (const [i, cls] of STATUS_CLASSES.entries()) {
          const n = ep.statusTotals[i] ?? 0;
          if (cls && n > 0) this.inc(labels(cls), n);
        }
      }
    },
  });

  // Histograms of the timed routes only, each appearing with its first observation.
  const timed = (pick: (ep: EndpointStats) => CumulativeHistogram) => () =>
    stats
      .all()
      .filter((ep) => src.histogramRoutes(ep.endpoint, ep.group))
      .map((ep): [Record<string, string>, CumulativeHistogram] => [
        { endpoint: ep.endpoint, method: ep.method },
        pick(ep),
      ]);
  const histograms = [
    histogramMetric(
      `${PREFIX}http_request_duration_seconds`,
      'HTTP response time of the model endpoints and METRICS_HISTOGRAM_ROUTES, by route pattern (78 buckets from 5 ms to 600 s, 12 % apart from 50 ms to 100 s).',
      timed((ep) => ep.durations),
    ),
    histogramMetric(
      `${PREFIX}http_response_size_bytes`,
      "Size of the answers' bodies (Content-Length, or the bytes a stream sent) of the model endpoints and METRICS_HISTOGRAM_ROUTES, by route pattern. (Monitor: response_bytes)",
      timed((ep) => ep.responseSizes),
    ),
    histogramMetric(
      `${PREFIX}chat_time_to_first_token_seconds`,
      'Time to first token of streamed chat completions.',
      () => [[{}, stats.chat.ttft]],
    ),
  ];

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
    () => stats.chat.promptTokensTotal,
  );
  total(
    'chat_completion_tokens_total',
    'Completion tokens reported by the upstream usage.',
    () => stats.chat.completionTokensTotal,
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
    () => stats.load.activeConnections(src.websocketConnections()),
  );
  gauge(
    'http_open_connections',
    'Open client sockets, idle keep-alive ones included (not users: see qwen3vl_active_connections).',
    () => stats.load.openConnections,
  );
  gauge(
    'model_requests_in_flight',
    'Model requests received and not yet answered.',
    () => stats.load.modelRequestsInFlight,
  );
  gauge(
    'model_streams_in_flight',
    'Model answers being streamed (server-sent events); part of model_requests_in_flight.',
    () => stats.load.streamsInFlight,
  );
  gauge(
    'model_requests_waiting_upstream',
    'Model requests waiting for a connection to the model server (all UPSTREAM_MAX_CONNECTIONS busy); part of model_requests_in_flight.',
    () => src.upstreamWaiting?.() ?? 0,
  );
  return histograms;
}
