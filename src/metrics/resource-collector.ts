// Once per check: the probes' readings become points of the resource-layer series.
// A field a probe could not read gets no point (absent, never 0).
import type { EventLoopReading } from '../probes/event-loop.js';
import type { GpuPollResult } from '../probes/gpu-poller.js';
import { gpuLabel } from '../probes/gpu-label.js';
import type { HostReading } from '../probes/host.js';
import type { GpuIdentity } from './prometheus-readings.js';
import type { EngineReading } from '../probes/upstream-metrics.js';
import type { SeriesStore } from './series-store.js';

/**
 * Each GPU's fields under its `gpu` label: NVML's index, or `<host>/<index>` for a GPU read
 * from a DCGM exporter. A lost GPU, or one whose host stopped giving it, reads
 * `gpu_available` 0.
 */
export function recordGpuSeries(store: SeriesStore, r: GpuPollResult, now: number): void {
  for (const g of r.readings) {
    const labels = { gpu: gpuLabel(g) };
    const put = (metric: string, v: number | undefined) => {
      if (v !== undefined) store.record(metric, labels, now, v);
    };
    put('gpu_available', 1);
    put('gpu_memory_used_mib', g.memoryUsedMiB);
    put('gpu_memory_total_mib', g.memoryTotalMiB);
    put('gpu_memory_utilization_percent', g.memoryUtilizationPercent);
    put('gpu_utilization_percent', g.utilizationPercent);
    put('gpu_memory_bandwidth_utilization_percent', g.memoryBandwidthUtilizationPercent);
    put('gpu_utilization_peak_percent', g.samples?.peakPercent);
    put('gpu_utilization_mean_percent', g.samples?.meanPercent);
    put('gpu_utilization_high_seconds', g.samples?.secondsAbove);
    put('gpu_temperature_celsius', g.temperatureCelsius);
    put('gpu_power_watts', g.powerWatts);
    put('gpu_power_limit_watts', g.powerLimitWatts);
    put('gpu_sm_clock_mhz', g.smClockMHz);
    put('gpu_memory_clock_mhz', g.memoryClockMHz);
    put('gpu_fan_percent', g.fanPercent);
    put('gpu_ecc_uncorrected_volatile', g.eccUncorrectedVolatile);
    put('gpu_pcie_tx_kibps', g.pcieTxKiBps);
    put('gpu_pcie_rx_kibps', g.pcieRxKiBps);
  }
  for (const lost of r.lost) store.record('gpu_available', { gpu: String(lost) }, now, 0);
  for (const gone of r.missing ?? []) store.record('gpu_available', { gpu: gone }, now, 0);
}

/**
 * Remembers what each GPU index is (NVML's uuid and name) for /metrics' `uuid` and
 * `model_name` labels. A GPU lost since keeps its entry, so its gpu_available 0 names it;
 * a field one check could not read keeps the last value, so the series' labels stay put.
 */
export function rememberGpuIdentities(known: Map<string, GpuIdentity>, r: GpuPollResult): void {
  for (const g of r.readings) {
    const key = String(g.index);
    known.set(key, {
      ...known.get(key),
      ...(g.uuid === undefined ? {} : { uuid: g.uuid }),
      ...(g.name === undefined ? {} : { name: g.name }),
    });
  }
}

/** Records each defined field as a label-less point; undefined fields get none. */
function recordFields(store: SeriesStore, now: number, fields: Record<string, number | undefined>): void {
  for (const [metric, v] of Object.entries(fields)) if (v !== undefined) store.record(metric, {}, now, v);
}

export function recordHostSeries(store: SeriesStore, h: HostReading, now: number): void {
  recordFields(store, now, {
    cpu_load_percent: h.cpuLoadPercent,
    disk_io_wait_percent: h.ioWaitPercent,
    memory_utilization_percent: h.memoryUtilizationPercent,
    memory_used_mib: h.memoryUsedMiB,
    memory_total_mib: h.memoryTotalMiB,
    io_pressure_some_avg10: h.ioPressureSomeAvg10,
    load_average_1m: h.loadAverage1m,
    load_average_5m: h.loadAverage5m,
    load_average_15m: h.loadAverage15m,
  });
}

export function recordEventLoopSeries(store: SeriesStore, r: EventLoopReading, now: number): void {
  recordFields(store, now, { event_loop_delay_max_ms: r.maxMs, event_loop_delay_p99_ms: r.p99Ms });
}

/**
 * The engine's gauges, one series per engine or rank (label `engine`): never a sum, so two
 * engines at 40 % and 60 % KV-cache are two series, the fuller one what a rule sees at 60 %.
 */
export function recordEngineSeries(store: SeriesStore, e: EngineReading, now: number): void {
  for (const engine of e.engines ?? []) {
    const put = (metric: string, v: number | undefined) => {
      if (v !== undefined) store.record(metric, { engine: engine.id }, now, v);
    };
    put('upstream_requests_running', engine.requestsRunning);
    put('upstream_requests_waiting', engine.requestsWaiting);
    put('upstream_kv_cache_usage_percent', engine.kvCacheUsagePercent);
    put('upstream_prefix_cache_hit_rate_percent', engine.prefixCacheHitRatePercent);
    put('upstream_mm_cache_hit_rate_percent', engine.mmCacheHitRatePercent);
    put('upstream_preemptions', engine.preemptions);
  }
}
