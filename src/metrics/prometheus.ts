// The bridge to prom-client. The request hook and the pipeline keep their own counters
// (prom-client's observe() hashes label objects on every call); at scrape time they are
// read into prom-client metrics, so formatting stays prom-client's. Names follow
// Prometheus conventions: base units, _total counters, one prefix, except Node's and the
// process's default metrics, which keep their stock names for stock dashboards.
import client from 'prom-client';
import type { ModuleName, Stage } from './model-stats.js';
import type { ModelTotals } from './model-totals.js';
import { PREFIX } from './prometheus-names.js';
import { registerIdentity, type Sender } from './prometheus-identity.js';
import type { HistogramMetric } from './prometheus-histogram.js';
import { registerModelMetrics } from './prometheus-model.js';
import { registerReadingMetrics, type ReadingSources } from './prometheus-readings.js';
import { registerServiceMetrics, type ServiceSources } from './prometheus-service.js';

/**
 * prom-client's default metrics that are gauges named `_total` (what `promtool check
 * metrics` rejects); `sum(nodejs_active_handles)` and its siblings give the same numbers.
 */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface PrometheusSources extends ServiceSources, ReadingSources {
  model: ModelTotals<ModuleName, Stage>;
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
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
    if (src.identity) registerIdentity(registry, src.identity);

    this.histograms.push(...registerServiceMetrics(registry, src));
    new client.Counter({
      name: `${PREFIX}monitor_dropped_points_total`,
      help: 'Points refused because the series cap was reached.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(src.store.droppedPoints);
      },
    });
    new client.Gauge({
      name: `${PREFIX}monitor_series`,
      help: 'Time series held by the Monitor store.',
      registers: [registry],
      collect() {
        this.set(src.store.size);
      },
    });

    registerReadingMetrics(registry, src);
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
