// Which routes /metrics times with histograms (latency: 81 series, response size: 15, per
// route and method): the model endpoints, always, and the routes the operator names in
// METRICS_HISTOGRAM_ROUTES. Every other route (health checks, the Monitor's API, admin,
// static files) is counted by status class only. The Monitor itself times every route
// either way: this decides what a scrape carries, nothing else.
import type { ModuleGroup } from './service-stats.js';

/** Whether a route's latency and response sizes go to /metrics as histograms. */
export type HistogramRoutes = (endpoint: string, group: ModuleGroup) => boolean;

/**
 * The policy for the operator's patterns: a route pattern as Fastify registers it
 * (`/healthz`, `/api/monitor/series`, `/v1/*`) names that route; one ending in `*` also names
 * every route under it (`/api/monitor/*`).
 */
export function histogramRoutes(patterns: readonly string[]): HistogramRoutes {
  const exact = new Set(patterns);
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (endpoint, group) =>
    group === 'model' || exact.has(endpoint) || prefixes.some((prefix) => endpoint.startsWith(prefix));
}
