// Once per check: the probes' readings become points of the resource-layer series.
// A field a probe could not read gets no point (absent, never 0).
import type { EventLoopReading } from '../probes/event-loop.js';
import type { GpuPollResult } from '../probes/gpu-poller.js';
import type { HostReading } from '../probes/host.js';
import type { GpuIdentity } from './prometheus-readings.js';
import type { EngineReading } from '../probes/upstream-metrics.js';
import type { SeriesStore } from './series-store.js';

export function recordGpuSeries(store: SeriesStore, r: GpuPollResult, now: number): void {
  const put = (metric: string, gpu: number, v: number | undefined) => {
    if (v !== undefined) store.record(metric, { gpu: String(gpu) }, now, v);
  };
  for (const g of r.readings) {
    put('gpu_available', g.index, 1);
    put('gpu_memory_used_mib', g.index, g.memoryUsedMiB);
    put('gpu_memory_total_mib', g.index, g.memoryTotalMiB);
    put('gpu_memory_utilization_percent', g.index, g.memoryUtilizationPercent);
    put('gpu_utilization_percent', g.index, g.utilizationPercent);
    put('gpu_memory_bandwidth_utilization_percent', g.index, g.memoryBandwidthUtilizationPercent);
    put('gpu_utilization_peak_percent', g.index, g.samples?.peakPercent);
    put('gpu_utilization_mean_percent', g.index, g.samples?.meanPercent);
    put('gpu_utilization_high_seconds', g.index, g.samples?.secondsAbove);
    put('gpu_temperature_celsius', g.index, g.temperatureCelsius);
    put('gpu_power_watts', g.index, g.powerWatts);
    put('gpu_power_limit_watts', g.index, g.powerLimitWatts);
    put('gpu_sm_clock_mhz', g.index, g.smClockMHz);
    put('gpu_memory_clock_mhz', g.index, g.memoryClockMHz);
    put('gpu_fan_percent', g.index, g.fanPercent);
    put('gpu_ecc_uncorrected_volatile', g.index, g.eccUncorrectedVolatile);
    put('gpu_pcie_tx_kibps', g.index, g.pcieTxKiBps);
    put('gpu_pcie_rx_kibps', g.index, g.pcieRxKiBps);
  }
  for (const lost of r.lost) put('gpu_available', lost, 0);
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
