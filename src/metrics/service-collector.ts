// Once per check: turn the sliding windows into points of the service-layer series.
// Pure apart from writing into the store it is given.
import type { WindowSummary } from './sliding-window.js';
import type { SeriesStore, Labels } from './series-store.js';
import type { ServiceStats } from './service-stats.js';

/** Label value of the series that merge every model endpoint (what the cards show). */
export const ALL_MODEL_ENDPOINTS = '*';

/**
 * A point where the window has a value; none where it held no requests, and the series is
 * marked empty: its last point (a minute-old 100 % error rate) is not the value now.
 */
function recordKnown(store: SeriesStore, metric: string, labels: Labels, now: number, v: number | null): void {
  if (v !== null) store.record(metric, labels, now, v);
  else store.recordEmpty(metric, labels, now);
}

function recordSummary(store: SeriesStore, labels: Labels, s: WindowSummary, now: number): void {
  store.record('requests_per_second', labels, now, s.perSecond);
  store.record('http_status_2xx', labels, now, s.status2xx);
  store.record('http_status_4xx', labels, now, s.status4xx);
  store.record('http_status_5xx', labels, now, s.status5xx);
  // No requests, no latency: the series gets no point rather than a made-up 0.
  recordKnown(store, 'error_rate_percent', labels, now, s.errorRatePercent);
  recordKnown(store, 'error_rate_5xx_percent', labels, now, s.errorRate5xxPercent);
  recordKnown(store, 'latency_ms_avg', labels, now, s.mean);
  recordKnown(store, 'latency_ms_p50', labels, now, s.p50);
  recordKnown(store, 'latency_ms_p95', labels, now, s.p95);
  recordKnown(store, 'latency_ms_p99', labels, now, s.p99);
}

export interface ServiceCollectInput {
  stats: ServiceStats;
  store: SeriesStore;
  windowMs: number;
  websocketConnections: number;
  /** Model requests waiting for a connection to the model server. */
  upstreamWaiting?: number;
  now: number;
}

export function collectServiceSeries({
  stats,
  store,
  windowMs,
  websocketConnections,
  upstreamWaiting = 0,
  now,
}: ServiceCollectInput): void {
  for (const ep of stats.all()) {
    // Endpoints that have never been called stay out of the store (and its series cap).
    if (ep.durations.count === 0) continue;
    const labels: Labels = ep.method === '*' ? { endpoint: ep.endpoint } : { endpoint: ep.endpoint, method: ep.method };
    recordSummary(store, labels, ep.window.summarize(windowMs, now), now);
    const size = ep.responseBytes.summarize(windowMs, now);
    if (size.mean !== null) store.record('response_bytes', labels, now, size.mean);
  }
  recordSummary(store, { endpoint: ALL_MODEL_ENDPOINTS }, stats.modelSummary(windowMs, now), now);
  store.record('websocket_active_connections', {}, now, websocketConnections);
  store.record('active_connections', {}, now, stats.load.activeConnections(websocketConnections));
  store.record('model_requests_in_flight', {}, now, stats.load.modelRequestsInFlight);
  store.record('model_streams_in_flight', {}, now, stats.load.streamsInFlight);
  store.record('model_requests_waiting_upstream', {}, now, upstreamWaiting);

  const chat = { endpoint: '/v1/chat/completions' };
  const ttft = stats.chat.ttftWindow.summarize(windowMs, now);
  recordKnown(store, 'ttft_ms', chat, now, ttft.p50);
  const tps = stats.chat.tokensPerSecondWindow.summarize(windowMs, now);
  recordKnown(store, 'tokens_per_second', chat, now, tps.p50);
}
