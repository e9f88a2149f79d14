// The six Monitor cards and the host strip, built from the series store: a pure
// function of (store, now). Each card carries its value, colour, the change against its
// baseline (TREND_RULE) and the last 5 minutes as a sparkline.
import { healthOf, metricDef, type Health, type Thresholds } from './catalogue.js';
import type { Point } from './ring-series.js';
import { staleBefore, type Labels, type SeriesStore } from './series-store.js';
import { ALL_MODEL_ENDPOINTS } from './service-collector.js';

export type Trend = 'up' | 'down' | 'flat';

/** [time ms, value] pairs, oldest first. */
export type Spark = Array<[number, number]>;

export interface Card {
  id: 'gpu_memory' | 'gpu_utilization' | 'latency' | 'rps' | 'connections' | 'error_rate';
  metric: string;
  labels: Labels;
  value: number | null;
  unit: string;
  status: Health | 'unavailable';
  trend: Trend | null;
  /** Signed percent change of the last minute against the baseline; null without one (or from 0). */
  changePercent: number | null;
  /** Mean of the baseline window the change is measured against. */
  baseline: number | null;
  /** Why there is no value (no GPU, no traffic yet). */
  reason?: string;
  /** What set the colour when it is not the value itself (the latency card's P95). */
  statusReason?: string;
  /** Time of the point shown. */
  at?: number;
  /** Extra numbers for the card's detail (e.g. each GPU, P95/P99). */
  detail?: Record<string, number | string | null>;
  /** The last 5 minutes of the card's series. */
  spark: Spark;
  /** More lines for the hover chart (the latency card's P95 and P99). */
  sparks?: Record<string, Spark>;
}

export interface HostItem {
  id: 'cpu' | 'memory' | 'io_wait' | 'load' | 'event_loop';
  metric: string;
  value: number | null;
  unit: string;
  status: Health | 'unavailable';
  trend: Trend | null;
  changePercent: number | null;
  detail?: Record<string, number | null>;
  /** The last 5 minutes, for the hover chart. */
  spark: Spark;
}

export interface Snapshot {
  at: number;
  intervalMs: number;
  windowMs: number;
  simulated: boolean;
  /** How trends are measured, so the UI can say it. */
  trendRule: TrendRule;
  cards: Card[];
  host: HostItem[];
}

export interface GpuStatus {
  available: boolean;
  /** Shown on the GPU cards when unavailable: no driver, library not found, GPU lost... */
  reason?: string;
  /** NVML's board name per GPU index, e.g. { "0": "NVIDIA H100 80GB HBM3" }. */
  names?: Record<string, string>;
  /** The GPUs are simulated (the demo): the cards say so. */
  simulated?: boolean;
}

/**
 * The trend rule: the mean of the last minute against the mean of the 10 minutes before
 * it, so an incident that lasts keeps its ↑ until it has become the new normal. Changes
 * within 5 % of the baseline are flat. A history shorter than the recent window plus
 * one check compares its newer half with its older half.
 */
export interface TrendRule {
  recentMs: number;
  baselineMs: number;
  flatPercent: number;
  /** How the baseline window is summed up: its mean (default) or its median. */
  baseline?: 'mean' | 'median';
  /** Changes smaller than this, in the metric's unit, are flat too (0.1 % → 0 % is not "↓ 100 %"). */
  minDelta?: number;
}
export const TREND_RULE: TrendRule = { recentMs: 60_000, baselineMs: 600_000, flatPercent: 5 };

/** Sparklines cover this long. */
export const SPARK_MS = 5 * 60_000;

/** The tutorial's anomaly signal: P95 above 5 s colours the latency card critical. */
export const P95_ANOMALY_MS = 5_000;

export interface Change {
  trend: Trend | null;
  changePercent: number | null;
  baseline: number | null;
}

const mean = (ps: readonly Point[]) => ps.reduce((a, p) => a + p.v, 0) / ps.length;
function median(ps: readonly Point[]): number {
  const vs = ps.map((p) => p.v).sort((a, b) => a - b);
  const mid = vs.length >> 1;
  return vs.length % 2 ? vs[mid]! : (vs[mid - 1]! + vs[mid]!) / 2;
}

export function changeOf(points: readonly Point[], rule: TrendRule = TREND_RULE): Change {
  if (points.length < 2) return { trend: null, changePercent: null, baseline: null };
  const end = points[points.length - 1]!.t;
  let recent = points.filter((p) => p.t > end - rule.recentMs);
  let earlier = points.filter((p) => p.t <= end - rule.recentMs && p.t > end - rule.recentMs - rule.baselineMs);
  if (earlier.length === 0) {
    const half = Math.floor(points.length / 2);
    earlier = points.slice(0, half);
    recent = points.slice(half);
  }
  const r = mean(recent);
  const e = rule.baseline === 'median' ? median(earlier) : mean(earlier);
  const delta = r - e;
  if (Math.abs(delta) <= Math.max((Math.abs(e) * rule.flatPercent) / 100, rule.minDelta ?? 0, 1e-9)) {
    return { trend: 'flat', changePercent: e === 0 ? 0 : (delta / Math.abs(e)) * 100, baseline: e };
  }
  return { trend: delta > 0 ? 'up' : 'down', changePercent: e === 0 ? null : (delta / Math.abs(e)) * 100, baseline: e };
}

/** The trend alone (kept for callers that only draw the arrow). */
export function trendOf(points: readonly Point[], rule: TrendRule = TREND_RULE): Trend | null {
  return changeOf(points, rule).trend;
}

interface SnapshotInput {
  store: SeriesStore;
  now: number;
  intervalMs: number;
  windowMs: number;
  gpu: GpuStatus;
  simulated?: boolean;
  /** CPUs the load average is measured against (colours the load). */
  cpuCount?: number;
}

/** Four significant digits are plenty for a 60-pixel line and keep the message small. */
const round4 = (v: number) => (v === 0 || !Number.isFinite(v) ? v : Number(v.toPrecision(4)));

export function sparkOf(points: readonly Point[], now: number): Spark {
  const out: Spark = [];
  for (const p of points) if (p.t > now - SPARK_MS) out.push([p.t, round4(p.v)]);
  return out;
}

/** Points of one series covering the trend rule's windows. */
function historyOf(input: SnapshotInput, metric: string, labels: Labels): Point[] {
  return (
    input.store
      .ring(metric, labels)
      ?.since(input.now - TREND_RULE.recentMs - TREND_RULE.baselineMs - input.intervalMs) ?? []
  );
}

/** A stale point (older than STALE_AFTER_CHECKS checks) gives no value rather than an old one. */
function freshValue(input: SnapshotInput, metric: string, labels: Labels): number | null {
  const p = input.store.latest(metric, labels);
  return p && p.t >= staleBefore(input.now, input.intervalMs) ? p.v : null;
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
  const points = historyOf(input, metric, labels);
  const last = points.at(-1);
  const spark = sparkOf(points, input.now);
  if (!last || last.t < staleBefore(input.now, input.intervalMs)) {
    const empty = unavailableCard(id, metric, unit, emptyReason, labels, spark);
    if (detail) empty.detail = detail;
    return empty;
  }
  const change = changeOf(points);
  const result: Card = {
    id,
    metric,
    labels,
    value: last.v,
    unit,
    status: healthOf(last.v, def?.thresholds),
    at: last.t,
    spark,
    ...change,
  };
  if (detail) result.detail = detail;
  return result;
}

/** A card with nothing to show, and why (the UI translates the reason). */
function unavailableCard(
  id: Card['id'],
  metric: string,
  unit: string,
  reason: string,
  labels: Labels = {},
  spark: Card['spark'] = [],
): Card {
  return {
    id,
    metric,
    labels,
    value: null,
    unit,
    status: 'unavailable',
    trend: null,
    changePercent: null,
    baseline: null,
    reason,
    spark,
  };
}

const RANK: Record<Card['status'], number> = { unavailable: -1, ok: 0, warn: 1, crit: 2 };
const worse = (a: Health, b: Health): Health => (RANK[a] >= RANK[b] ? a : b);

/** The GPU cards show the worst GPU, named; every GPU is in the detail. */
function gpuCard(input: SnapshotInput, id: 'gpu_memory' | 'gpu_utilization', metric: string): Card {
  const reason = input.gpu.reason ?? 'no NVIDIA GPU';
  const series = input.store.find(metric);
  const unit = metricDef(metric)?.unit ?? '%';
  if (!input.gpu.available || series.length === 0) {
    return unavailableCard(id, metric, unit, reason);
  }
  const detail: Record<string, number | string | null> = {};
  let worst: { labels: Labels; v: number } | undefined;
  for (const s of series) {
    const last = s.ring.last();
    // A GPU that answered GPU_IS_LOST at its last check shows no (stale) value.
    const lost = input.store.latest('gpu_available', { gpu: s.labels.gpu ?? '' })?.v === 0;
    const fresh = last && !lost && last.t >= staleBefore(input.now, input.intervalMs);
    detail[`gpu${s.labels.gpu ?? '?'}`] = fresh ? last.v : null;
    if (fresh && (!worst || last.v > worst.v)) worst = { labels: s.labels, v: last.v };
  }
  if (!worst) {
    return unavailableCard(id, metric, unit, 'no recent GPU reading');
  }
  const gpu = worst.labels.gpu ?? '?';
  detail.gpu = gpu;
  detail.gpuCount = series.length;
  const name = input.gpu.names?.[gpu];
  if (name) detail.gpuName = name;
  if (input.gpu.simulated) detail.simulated = 'simulated';
  if (id === 'gpu_memory') {
    // "14,280 / 24,576 MiB" under the fullest GPU's share.
    const used = freshValue(input, 'gpu_memory_used_mib', worst.labels);
    const total = freshValue(input, 'gpu_memory_total_mib', worst.labels);
    if (used !== null && total !== null) {
      detail.usedMiB = Math.round(used);
      detail.totalMiB = Math.round(total);
    }
  }
  return card(input, id, metric, worst.labels, reason, detail);
}

function latencyCard(input: SnapshotInput, noTraffic: string): Card {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  const p95 = freshValue(input, 'latency_ms_p95', all);
  const c = card(input, 'latency', 'latency_ms_p50', all, noTraffic, {
    p95,
    p99: freshValue(input, 'latency_ms_p99', all),
    avg: freshValue(input, 'latency_ms_avg', all),
  });
  c.sparks = {
    p95: sparkOf(historyOf(input, 'latency_ms_p95', all), input.now),
    p99: sparkOf(historyOf(input, 'latency_ms_p99', all), input.now),
  };
  // The median can look fine while one request in twenty waits for seconds.
  if (c.value !== null && p95 !== null && p95 > P95_ANOMALY_MS) {
    const s = worse(c.status as Health, 'crit');
    if (s !== c.status) c.statusReason = `P95 above ${P95_ANOMALY_MS / 1000} s`;
    c.status = s;
  }
  return c;
}

function rpsCard(input: SnapshotInput): Card {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  const count = (m: string) => freshValue(input, m, all);
  const [s2, s4, s5] = [count('http_status_2xx'), count('http_status_4xx'), count('http_status_5xx')];
  // One request in a minute is 0.02 req/s: the count says that something happened.
  const requests = s2 === null && s4 === null && s5 === null ? null : (s2 ?? 0) + (s4 ?? 0) + (s5 ?? 0);
  return card(input, 'rps', 'requests_per_second', all, 'no check has run yet', { requestsInWindow: requests });
}

function errorCard(input: SnapshotInput, noTraffic: string): Card {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  const s2 = freshValue(input, 'http_status_2xx', all);
  const s4 = freshValue(input, 'http_status_4xx', all);
  const s5 = freshValue(input, 'http_status_5xx', all);
  const total = (s2 ?? 0) + (s4 ?? 0) + (s5 ?? 0);
  return card(input, 'error_rate', 'error_rate_percent', all, noTraffic, {
    status2xx: s2,
    status4xx: s4,
    status5xx: s5,
    share4xxPercent: total > 0 ? ((s4 ?? 0) / total) * 100 : null,
  });
}

function connectionsCard(input: SnapshotInput): Card {
  return card(input, 'connections', 'active_connections', {}, 'no check has run yet', {
    websocket: freshValue(input, 'websocket_active_connections', {}),
    modelRequestsInFlight: freshValue(input, 'model_requests_in_flight', {}),
  });
}

/** The host's shares move by a point or two on their own: smaller changes are flat. */
const HOST_TREND: TrendRule = { ...TREND_RULE, minDelta: 1 };
const HOST_TRENDS: Partial<Record<HostItem['id'], TrendRule>> = {
  load: { ...TREND_RULE, minDelta: 0.25 },
  // An idle loop's worst delay moves between 0.1 and 5 ms: only a change people feel counts.
  event_loop: { ...TREND_RULE, minDelta: 50 },
};

/** How far back the event loop item remembers its worst stall. */
const STALL_MEMORY_MS = 10 * 60_000;

/**
 * The worst stall of the last 10 minutes, once it reached the warn threshold: the item
 * keeps saying when the server was blind after the next check has gone back to normal.
 */
function worstStall(input: SnapshotInput): HostItem['detail'] {
  const metric = 'event_loop_delay_max_ms';
  const warn = metricDef(metric)?.thresholds?.warn ?? 0;
  let worst: Point | undefined;
  for (const p of input.store.ring(metric, {})?.since(input.now - STALL_MEMORY_MS) ?? [])
    if (p.v >= warn && (!worst || p.v >= worst.v)) worst = p;
  return {
    p99Ms: freshValue(input, 'event_loop_delay_p99_ms', {}),
    worstMs: worst?.v ?? null,
    worstAt: worst?.t ?? null,
  };
}

function hostItem(
  input: SnapshotInput,
  id: HostItem['id'],
  metric: string,
  thresholds?: Thresholds,
  detail?: HostItem['detail'],
): HostItem {
  const def = metricDef(metric);
  const points = historyOf(input, metric, {});
  const last = points.at(-1);
  const unit = def?.unit ?? '';
  const spark = sparkOf(points, input.now);
  if (!last || last.t < staleBefore(input.now, input.intervalMs))
    return { id, metric, value: null, unit, status: 'unavailable', trend: null, changePercent: null, spark };
  const { trend, changePercent } = changeOf(points, HOST_TRENDS[id] ?? HOST_TREND);
  const item: HostItem = {
    id,
    metric,
    value: last.v,
    unit,
    status: healthOf(last.v, thresholds ?? def?.thresholds),
    trend,
    changePercent,
    spark,
  };
  if (detail) item.detail = detail;
  return item;
}

/** CPU load, host memory, disk IO wait, the load average (coloured per CPU) and the event loop. */
function hostStrip(input: SnapshotInput): HostItem[] {
  const cpus = input.cpuCount ?? 0;
  const f = (m: string) => freshValue(input, m, {});
  return [
    hostItem(input, 'cpu', 'cpu_load_percent'),
    hostItem(input, 'memory', 'memory_utilization_percent', undefined, {
      usedMiB: f('memory_used_mib'),
      totalMiB: f('memory_total_mib'),
    }),
    hostItem(input, 'io_wait', 'disk_io_wait_percent', undefined, { ioPressureSomeAvg10: f('io_pressure_some_avg10') }),
    // A load of one task per CPU keeps every CPU busy; two means work waits.
    hostItem(
      input,
      'load',
      'load_average_1m',
      cpus > 0 ? { direction: 'above', warn: cpus, crit: cpus * 2 } : undefined,
      {
        load5m: f('load_average_5m'),
        load15m: f('load_average_15m'),
        cpus: cpus > 0 ? cpus : null,
      },
    ),
    hostItem(input, 'event_loop', 'event_loop_delay_max_ms', undefined, worstStall(input)),
  ];
}

export function buildSnapshot(input: SnapshotInput): Snapshot {
  const noTraffic = 'no requests to the model endpoints in the window';
  return {
    at: input.now,
    intervalMs: input.intervalMs,
    windowMs: input.windowMs,
    simulated: input.simulated ?? false,
    trendRule: TREND_RULE,
    cards: [
      gpuCard(input, 'gpu_memory', 'gpu_memory_utilization_percent'),
      gpuCard(input, 'gpu_utilization', 'gpu_utilization_percent'),
      latencyCard(input, noTraffic),
      rpsCard(input),
      connectionsCard(input),
      errorCard(input, noTraffic),
    ],
    host: hostStrip(input),
  };
}
