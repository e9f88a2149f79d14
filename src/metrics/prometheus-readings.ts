// The check's readings on /metrics (GPUs, host, the model server's gauges): the newest
// point of each Monitor series, if from a recent check, in base units; a series without
// one is absent, never 0. GPU series also carry the board's `uuid` and `model_name`, the
// values NVIDIA's DCGM exporter puts in its `UUID` and `modelName` labels, so the two join.
import client from 'prom-client';
import { catalogue } from './catalogue.js';
import { prometheusName } from './prometheus-names.js';
import type { SeriesStore } from './series-store.js';

/** Model-layer readings the check stores as series and /metrics exports as they are. */
const MODEL_READINGS = new Set([
  'upstream_up',
  'upstream_requests_running',
  'upstream_requests_waiting',
  'upstream_kv_cache_usage_percent',
]);
/** Catalogue metrics exported as readings (gauges, or counters for running counts). */
export const EXPORTED_READINGS: ReadonlySet<string> = new Set(
  [...catalogue.values()].filter((d) => d.layer === 'resource' || MODEL_READINGS.has(d.name)).map((d) => d.name),
);

/** What NVML says a GPU is, by its index (the `gpu` label). */
export interface GpuIdentity {
  uuid?: string;
  name?: string;
}

export interface ReadingSources {
  store: SeriesStore;
  /** Readings older than this time are not exported (three check intervals ago). */
  freshSince: () => number;
  /** The board behind a `gpu` label, as last read (a lost GPU keeps it). */
  gpuIdentity: (gpu: string) => GpuIdentity | undefined;
}

/** The labels a GPU series gains: those NVML knows, none it does not. */
function identityLabels(identity: GpuIdentity | undefined): Record<string, string> {
  return {
    ...(identity?.uuid ? { uuid: identity.uuid } : {}),
    ...(identity?.name ? { model_name: identity.name } : {}),
  };
}

export function registerReadingMetrics(registry: client.Registry, src: ReadingSources): void {
  for (const def of catalogue.values()) {
    if (!EXPORTED_READINGS.has(def.name)) continue;
    const { name, scale, type } = prometheusName(def.name);
    const perGpu = def.labels.includes('gpu');
    const config = {
      name,
      help:
        type === 'counter'
          ? `${def.help} NVML's running count, as a counter (a driver reload restarts it: a counter reset). (Monitor: ${def.name})`
          : `${def.help} (Monitor: ${def.name})`,
      labelNames: perGpu ? [...def.labels, 'uuid', 'model_name'] : [...def.labels],
      registers: [registry],
    };
    /** The newest fresh point of each series, with its labels for Prometheus. */
    const fresh = function* (): Generator<[Record<string, string>, number]> {
      const since = src.freshSince();
      for (const s of src.store.find(def.name)) {
        const last = s.ring.last();
        if (!last || last.t < since) continue;
        const labels = perGpu
          ? { ...s.labels, ...identityLabels(src.gpuIdentity(s.labels.gpu ?? '')) }
          : { ...s.labels };
        yield [labels, last.v * scale];
      }
    };
    if (type === 'counter')
      new client.Counter({
        ...config,
        collect() {
          this.reset();
          for (const [labels, v] of fresh()) this.inc(labels, v);
        },
      });
    else
      new client.Gauge({
        ...config,
        collect() {
          this.reset();
          let any = false;
          for (const [labels, v] of fresh()) {
            this.set(labels, v);
            any = true;
          }
          if (!any && def.labels.length === 0) this.remove();
        },
      });
  }
}
