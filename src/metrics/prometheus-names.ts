// Monitor names → Prometheus names. Prometheus wants base units (bytes, seconds, ratios
// 0–1) named in a suffix; the catalogue's unit decides, never the Monitor name's own
// ending: `io_pressure_some_avg10` is in percent and becomes `…_avg10_ratio`, 0–1.
import { metricDef } from './catalogue.js';

export const PREFIX = 'qwen3vl_';

interface BaseUnit {
  suffix: string;
  scale: number;
}

/** Catalogue unit → the Prometheus base unit and the factor to it. */
const BASE_UNITS: Readonly<Record<string, BaseUnit>> = {
  MiB: { suffix: '_bytes', scale: 1024 * 1024 },
  '%': { suffix: '_ratio', scale: 0.01 },
  'KiB/s': { suffix: '_bytes_per_second', scale: 1024 },
  MHz: { suffix: '_hertz', scale: 1e6 },
  ms: { suffix: '_seconds', scale: 0.001 },
  s: { suffix: '_seconds', scale: 1 },
  '°C': { suffix: '_celsius', scale: 1 },
  W: { suffix: '_watts', scale: 1 },
};

/** Unit words a Monitor name may end with; they give way to the base unit's suffix. */
const UNIT_WORD = /_(percent|mib|kibps|mhz|ms|seconds|celsius|watts)$/;

/**
 * Readings that are running counts (NVML's count of uncorrected ECC errors since the driver
 * loaded): exported as counters, `_total`, so rate() and increase() apply (a driver reload
 * that restarts the count is a counter reset to Prometheus).
 */
const COUNTER_READINGS: Readonly<Record<string, string>> = {
  gpu_ecc_uncorrected_volatile: 'gpu_ecc_uncorrected_errors_total',
};

export interface PrometheusName {
  name: string;
  /** Multiply a Monitor value by this to get the Prometheus value. */
  scale: number;
  type: 'gauge' | 'counter';
}

/**
 * The exported name of a catalogue metric, e.g. gpu_memory_used_mib →
 * qwen3vl_gpu_memory_used_bytes (× 1 048 576), gpu_utilization_percent →
 * qwen3vl_gpu_utilization_ratio (× 0.01). Units without a base unit (W, tasks, requests)
 * keep the name; running counts become `_total` counters.
 */
export function prometheusName(monitorName: string): PrometheusName {
  const def = metricDef(monitorName);
  if (!def) throw new Error(`${monitorName} is not in the metric catalogue`);
  const counter = COUNTER_READINGS[monitorName];
  if (counter) return { name: PREFIX + counter, scale: 1, type: 'counter' };
  const base = BASE_UNITS[def.unit];
  if (!base) return { name: PREFIX + monitorName, scale: 1, type: 'gauge' };
  return { name: PREFIX + monitorName.replace(UNIT_WORD, '') + base.suffix, scale: base.scale, type: 'gauge' };
}
