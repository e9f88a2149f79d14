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
import type { HistogramMetric } from './prometheus-histogram.js';
import { registerModelMetrics } from './prometheus-model.js';
import { registerServiceMetrics, type ServiceSources } from './prometheus-service.js';
import type { SeriesStore } from './series-store.js';

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

export interface PrometheusSources extends ServiceSources {
  model: ModelTotals<ModuleName, Stage>;
  store: SeriesStore;
  /** Readings older than this time are not exported (three check intervals ago). */
  freshSince: () => number;
}

export class PrometheusExporter {
  readonly contentType = client.Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new client.Registry();
  private readonly histograms: Array<() => HistogramMetric> = [];

  constructor(src: PrometheusSources) {
    const registry = this.registry;
    client.collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);

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
