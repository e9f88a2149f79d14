// The six Monitor cards, built from the series store: a pure function of (store, now).
import { healthOf, metricDef, type Health } from './catalogue.js';
import type { Point } from './ring-series.js';
import type { Labels, SeriesStore } from './series-store.js';
import { ALL_MODEL_ENDPOINTS } from './service-collector.js';

export type Trend = 'up' | 'down' | 'flat';

export interface Card {
  id: 'gpu_memory' | 'gpu_utilization' | 'latency' | 'rps' | 'connections' | 'error_rate';
  metric: string;
  labels: Labels;
  value: number | null;
  unit: string;
  status: Health | 'unavailable';
  trend: Trend | null;
  /** Why there is no value (no GPU, no traffic yet). */
  reason?: string;
  /** Time of the point shown. */
  at?: number;
  /** Extra numbers for the expanded view (e.g. each GPU, P95/P99). */
  detail?: Record<string, number | string | null>;
}

export interface Snapshot {
  at: number;
  intervalMs: number;
  windowMs: number;
  simulated: boolean;
  cards: Card[];
}

export interface GpuStatus {
  available: boolean;
  /** Shown on the GPU cards when unavailable: no driver, library not found, GPU lost... */
  reason?: string;
}

/**
 * Trend from the last six points: the mean of the newest three against the three
 * before. Changes under 5 % of the earlier mean count as flat, so noise does not blink.
 */
export function trendOf(points: readonly Point[]): Trend | null {
  if (points.length < 2) return null;
  const recent = points.slice(-3);
  const earlier = points.slice(-6, -3);
  if (earlier.length === 0) earlier.push(points[0]!);
  const mean = (ps: readonly Point[]) => ps.reduce((a, p) => a + p.v, 0) / ps.length;
  const r = mean(recent);
  const e = mean(earlier);
  const delta = r - e;
  if (Math.abs(delta) <= Math.max(Math.abs(e) * 0.05, 1e-9)) return 'flat';
  return delta > 0 ? 'up' : 'down';
}

interface SnapshotInput {
  store: SeriesStore;
  now: number;
  intervalMs: number;
  windowMs: number;
  gpu: GpuStatus;
  simulated?: boolean;
}

function card(
  input: SnapshotInput,
  id: Card['id'],
  metric: string,
  labels: Labels,
  emptyReason: string,
  detail?: Card['detail'],
): Card {
  const def = metricDef(metric);
  const unit = def?.unit ?? '';
  const series = input.store.find(metric, labels).find((s) => sameLabels(s.labels, labels));
  // A point older than three checks is stale: show no value rather than an old one.
  const recent = series?.ring.since(input.now - input.intervalMs * 6) ?? [];
  const last = recent.at(-1);
  if (!last || last.t < input.now - input.intervalMs * 3) {
    return { id, metric, labels, value: null, unit, status: 'unavailable', trend: null, reason: emptyReason };
  }
  const result: Card = {
    id, metric, labels, value: last.v, unit, status: healthOf(last.v, def?.thresholds), trend: trendOf(recent), at: last.t,
  };
  if (detail) result.detail = detail;
  return result;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The GPU card shows the worst GPU; every GPU is listed in the detail. */
function gpuCard(input: SnapshotInput, id: 'gpu_memory' | 'gpu_utilization', metric: string): Card {
  const reason = input.gpu.reason ?? 'no NVIDIA GPU';
  const series = input.store.find(metric);
  if (!input.gpu.available || series.length === 0) {
    return { id, metric, labels: {}, value: null, unit: metricDef(metric)?.unit ?? '%', status: 'unavailable', trend: null, reason };
  }
  const detail: Record<string, number | null> = {};
  let worst: { labels: Labels; v: number } | undefined;
  for (const s of series) {
    const last = s.ring.last();
    // A GPU that answered GPU_IS_LOST at its last check shows no (stale) value.
    const lost = input.store.latest('gpu_available', { gpu: s.labels.gpu ?? '' })?.v === 0;
    const fresh = last && !lost && last.t >= input.now - input.intervalMs * 3;
    detail[`gpu${s.labels.gpu ?? '?'}`] = fresh ? last.v : null;
    if (fresh && (!worst || last.v > worst.v)) worst = { labels: s.labels, v: last.v };
  }
  if (!worst) {
    return { id, metric, labels: {}, value: null, unit: '%', status: 'unavailable', trend: null, reason: 'no recent GPU reading' };
  }
  const c = card(input, id, metric, worst.labels, reason, detail);
  if (id === 'gpu_memory') {
    // What the card prints: "14,280 / 24,576 MiB (58 %)" for the fullest GPU.
    const used = input.store.latest('gpu_memory_used_mib', worst.labels);
    const total = input.store.latest('gpu_memory_total_mib', worst.labels);
    if (used && total) c.detail = { ...c.detail, usedMiB: Math.round(used.v), totalMiB: Math.round(total.v) };
  }
  return c;
}

export function buildSnapshot(input: SnapshotInput): Snapshot {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  const latest = (m: string) => input.store.latest(m, all)?.v ?? null;
  const noTraffic = 'no requests to the model endpoints in the window';
  return {
    at: input.now,
    intervalMs: input.intervalMs,
    windowMs: input.windowMs,
    simulated: input.simulated ?? false,
    cards: [
      gpuCard(input, 'gpu_memory', 'gpu_memory_utilization_percent'),
      gpuCard(input, 'gpu_utilization', 'gpu_utilization_percent'),
      card(input, 'latency', 'latency_ms_p50', all, noTraffic, {
        avg: latest('latency_ms_avg'),
        p95: latest('latency_ms_p95'),
        p99: latest('latency_ms_p99'),
      }),
      card(input, 'rps', 'requests_per_second', all, 'no check has run yet'),
      card(input, 'connections', 'websocket_active_connections', {}, 'no check has run yet'),
      card(input, 'error_rate', 'error_rate_percent', all, noTraffic, {
        status4xx: latest('http_status_4xx'),
        status5xx: latest('http_status_5xx'),
      }),
    ],
  };
}
