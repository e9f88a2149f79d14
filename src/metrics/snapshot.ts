// The six Monitor cards and the host strip, built from the series store: a pure
// function of (store, now, the rules' lines, when alerts were restless). Each card carries
// its value, its lines and the colour they give, the change against its calm normal
// (change.ts) and the last 5 minutes as a sparkline.
import { z } from 'zod';
import { pointPair, type Point } from './ring-series.js';
import { healthOf, metricDef, type Thresholds } from './catalogue.js';
import {
  changeAgainstNormal,
  changeSchema,
  NO_CHANGE,
  spansOf,
  trendRuleSchema,
  type Change,
  type Spans,
  type TrendRule,
} from './change.js';
import { staleBefore, type Labels, type SeriesStore } from './series-store.js';
import { ALL_MODEL_ENDPOINTS } from './service-collector.js';
import { healthBy, linesFor, linesSchema, type Lines, type LinesOf } from './thresholds.js';
import { gpuTag } from '../probes/gpu-label.js';
import { reasonPartsSchema } from '../reason-schema.js';
import { because, type ReasonPart } from '../reasons.js';

export type { Trend, TrendRule } from './change.js';

/** [time ms, value] pairs, oldest first. */
export const sparkSchema = z.array(pointPair).describe('[time ms, value] pairs, oldest first');
export type Spark = z.infer<typeof sparkSchema>;

/** A card's or a host item's colour: its health, or unavailable (no value). */
export const cardStatusSchema = z.enum(['ok', 'warn', 'crit', 'unavailable']);

const labelsSchema = z.record(z.string(), z.string());

export const cardSchema = z.object({
  id: z.enum(['gpu_memory', 'gpu_utilization', 'latency', 'rps', 'connections', 'error_rate']),
  metric: z.string(),
  labels: labelsSchema,
  value: z.number().nullable(),
  unit: z.string(),
  status: cardStatusSchema,
  lines: linesSchema
    .nullable()
    .describe("The lines of the card's own figure, each with the rule that set it (null: the default)"),
  beside: z
    .object({ metric: z.string(), value: z.number().nullable(), lines: linesSchema.nullable() })
    .optional()
    .describe(
      "The figure beside the value that can colour the card too (the latency's P95, the 5xx share), with its lines",
    ),
  statusBy: z
    .object({ metric: z.string(), value: z.number(), lines: linesSchema.nullable() })
    .optional()
    .describe(
      "When the figure beside the value set the card's colour: that figure, its value and its lines. The change shown is then that figure's",
    ),
  trendMetric: z.string().describe("The figure whose change `trend` and `changePercent` are: `metric`, or statusBy's"),
  ...changeSchema.shape,
  baseline: z.number().nullable().describe('The calm normal the change is measured against'),
  noCalmBaseline: z
    .boolean()
    .describe('History enough, but no calm normal in it (every minute restless): the card says so'),
  reason: z.string().optional().describe('Why there is no value (no GPU, no traffic yet), in English'),
  reasonParts: reasonPartsSchema.optional(),
  at: z.number().optional().describe('Time of the point shown'),
  detail: z
    .record(z.string(), z.union([z.number(), z.string(), z.null()]))
    .optional()
    .describe("Extra numbers for the card's detail (e.g. each GPU, P95/P99)"),
  spark: sparkSchema.describe("The last 5 minutes of the card's series"),
  sparks: z
    .record(z.string(), sparkSchema)
    .optional()
    .describe("More lines for the hover chart (the latency card's P95 and P99)"),
});
export type Card = z.infer<typeof cardSchema>;

export const hostItemSchema = z.object({
  id: z.enum(['cpu', 'memory', 'io_wait', 'load', 'event_loop']),
  metric: z.string(),
  value: z.number().nullable(),
  unit: z.string(),
  status: cardStatusSchema,
  ...changeSchema.shape,
  trendRule: trendRuleSchema.describe(
    "How this item's change is measured: its own minDelta (a smaller change is flat)",
  ),
  detail: z.record(z.string(), z.number().nullable()).optional(),
  spark: sparkSchema.describe('The last 5 minutes, for the hover chart'),
});
export type HostItem = z.infer<typeof hostItemSchema>;

/** The six Monitor cards and the host strip (GET /api/monitor/snapshot, and the stream's snapshot). */
export const snapshotSchema = z.object({
  at: z.number(),
  intervalMs: z.number(),
  windowMs: z.number(),
  simulated: z.boolean(),
  trendRule: trendRuleSchema.describe('How trends are measured, so the UI can say it'),
  cards: z.array(cardSchema),
  host: z.array(hostItemSchema),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export interface GpuStatus {
  available: boolean;
  /** Shown on the GPU cards when unavailable: no driver, library not found, GPU lost... */
  reason?: string;
  /** The same as codes (src/reasons.ts); the cards use these when given. */
  reasonParts?: ReasonPart[];
  /** NVML's board name per GPU index, e.g. { "0": "NVIDIA H100 80GB HBM3" }. */
  names?: Record<string, string>;
  /** The GPUs are simulated (the demo): the cards say so. */
  simulated?: boolean;
  /** Where the readings come from: NVML on this machine, or DCGM exporters' pages (GPU_METRICS_URL). */
  source?: 'nvml' | 'dcgm';
  /** The host and index of each GPU read from a DCGM exporter, by its `gpu` label. */
  hosts?: Record<string, { host: string; index: number }>;
}

/**
 * The cards' trend rule: the value shown against the mean of the calm minutes among the 10
 * before the last minute, so an incident that lasts keeps its ↑ (its minutes, alerted, never
 * join the normal). Changes within 5 % of the normal are flat.
 */
export const TREND_RULE: TrendRule = { recentMs: 60_000, baselineMs: 600_000, flatPercent: 5, minCalmMinutes: 3 };

/** Users come and go one at a time: a change of less than one is flat (0 against a normal of 0.04 is no "↓ 100 %"). */
const CARD_TRENDS: Partial<Record<Card['id'], TrendRule>> = { connections: { ...TREND_RULE, minDelta: 1 } };

/** Sparklines cover this long. */
export const SPARK_MS = 5 * 60_000;

/**
 * The metrics whose alerts make a card's minutes restless: the card's figures, and what is
 * measured alongside them (an alert on P95 is an incident for the P50 card too).
 */
const CARD_FAMILY: Record<Card['id'], readonly string[]> = {
  gpu_memory: ['gpu_memory_utilization_percent', 'gpu_memory_used_mib'],
  gpu_utilization: [
    'gpu_utilization_percent',
    'gpu_utilization_peak_percent',
    'gpu_utilization_mean_percent',
    'gpu_utilization_high_seconds',
  ],
  latency: ['latency_ms_p50', 'latency_ms_p95', 'latency_ms_p99', 'latency_ms_avg'],
  rps: ['requests_per_second'],
  connections: ['active_connections', 'model_requests_in_flight', 'websocket_active_connections'],
  error_rate: ['error_rate_percent', 'error_rate_5xx_percent', 'http_status_4xx', 'http_status_5xx'],
};

interface SnapshotInput {
  store: SeriesStore;
  /** Each series' lines (rules and defaults); the catalogue's defaults alone when absent. */
  lines?: LinesOf;
  /** When an alert watching each metric was pending or firing, over the last 11 minutes at least. */
  unrest?: ReadonlyMap<string, Spans> | undefined;
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

const linesOf = (input: SnapshotInput, metric: string, labels: Labels): Lines | null =>
  input.lines ? input.lines(metric, labels) : linesFor(metric, labels, []);

/** A figure's change against its calm normal: its lines, and the restless minutes of its card. */
function changeOfFigure(
  input: SnapshotInput,
  id: Card['id'],
  metric: string,
  points: readonly Point[],
  lines: Lines | null,
): Change {
  return changeAgainstNormal({
    points,
    unit: metricDef(metric)?.unit ?? '',
    rule: CARD_TRENDS[id] ?? TREND_RULE,
    unrest: spansOf(input.unrest, CARD_FAMILY[id]),
    lines,
    historyStart: input.store.historyStart,
  });
}

/** A figure beside the card's own that can colour it (the latency card's P95). */
interface Beside {
  metric: string;
}

function card(
  input: SnapshotInput,
  id: Card['id'],
  metric: string,
  labels: Labels,
  emptyReason: ReasonPart[],
  detail?: Card['detail'],
  beside?: Beside,
): Card {
  const def = metricDef(metric);
  const unit = def?.unit ?? '';
  const points = historyOf(input, metric, labels);
  // The newest point as every reader takes it: none once a check found the figure empty.
  const last = input.store.latest(metric, labels);
  const spark = sparkOf(points, input.now);
  const lines = linesOf(input, metric, labels);
  if (!last || last.t < staleBefore(input.now, input.intervalMs)) {
    const empty = unavailableCard(id, metric, unit, emptyReason, labels, spark, lines);
    if (detail) empty.detail = detail;
    return empty;
  }
  const result: Card = {
    id,
    metric,
    labels,
    value: last.v,
    unit,
    status: healthBy(last.v, lines),
    lines,
    trendMetric: metric,
    at: last.t,
    spark,
    ...changeOfFigure(input, id, metric, points, lines),
  };
  if (beside) colourBy(input, result, beside.metric);
  if (detail) result.detail = detail;
  return result;
}

/**
 * The figure beside the value colours the card when it is worse (a median can look fine
 * while one request in twenty waits for seconds); the change shown is then that figure's,
 * so the arrow speaks of what made the card red.
 */
function colourBy(input: SnapshotInput, c: Card, metric: string): void {
  const points = historyOf(input, metric, c.labels);
  const last = input.store.latest(metric, c.labels);
  const lines = linesOf(input, metric, c.labels);
  const fresh = last && last.t >= staleBefore(input.now, input.intervalMs);
  c.beside = { metric, value: fresh ? last.v : null, lines };
  if (!fresh) return;
  const status = healthBy(last.v, lines);
  if (RANK[status] <= RANK[c.status]) return;
  c.status = status;
  c.statusBy = { metric, value: last.v, lines };
  c.trendMetric = metric;
  Object.assign(c, changeOfFigure(input, c.id, metric, points, lines));
}

/** A card with nothing to show, and why (the UI words the reason's codes in its language). */
function unavailableCard(
  id: Card['id'],
  metric: string,
  unit: string,
  reason: ReasonPart[],
  labels: Labels = {},
  spark: Card['spark'] = [],
  lines: Lines | null = null,
): Card {
  return {
    id,
    metric,
    labels,
    value: null,
    unit,
    status: 'unavailable',
    lines,
    trendMetric: metric,
    ...NO_CHANGE,
    ...because(...reason),
    spark,
  };
}

const RANK: Record<Card['status'], number> = { unavailable: -1, ok: 0, warn: 1, crit: 2 };

/** The GPU cards show the worst GPU, named; every GPU is in the detail. */
function gpuCard(input: SnapshotInput, id: 'gpu_memory' | 'gpu_utilization', metric: string): Card {
  const reason: ReasonPart[] =
    input.gpu.reasonParts ??
    (input.gpu.reason === undefined
      ? [{ code: 'NO_NVIDIA_GPU' }]
      : [{ code: 'TEXT', params: { text: input.gpu.reason } }]);
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
    detail[gpuTag(s.labels.gpu ?? '?')] = fresh ? last.v : null;
    if (fresh && (!worst || last.v > worst.v)) worst = { labels: s.labels, v: last.v };
  }
  if (!worst) {
    return unavailableCard(id, metric, unit, [{ code: 'NO_GPU_READING' }]);
  }
  const gpu = worst.labels.gpu ?? '?';
  detail.gpu = gpu;
  detail.gpuCount = series.length;
  const name = input.gpu.names?.[gpu];
  if (name) detail.gpuName = name;
  if (input.gpu.simulated) detail.simulated = 'simulated';
  // Where the shown GPU was read: NVML here, or the DCGM exporter of its host.
  detail.source = input.gpu.source ?? 'nvml';
  const at = input.gpu.hosts?.[gpu];
  if (at) {
    detail.host = at.host;
    detail.gpuIndex = at.index;
  }
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

function latencyCard(input: SnapshotInput, noTraffic: ReasonPart[]): Card {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  const c = card(
    input,
    'latency',
    'latency_ms_p50',
    all,
    noTraffic,
    {
      p95: freshValue(input, 'latency_ms_p95', all),
      p99: freshValue(input, 'latency_ms_p99', all),
      avg: freshValue(input, 'latency_ms_avg', all),
    },
    { metric: 'latency_ms_p95' },
  );
  c.sparks = {
    p95: sparkOf(historyOf(input, 'latency_ms_p95', all), input.now),
    p99: sparkOf(historyOf(input, 'latency_ms_p99', all), input.now),
  };
  return c;
}

function rpsCard(input: SnapshotInput): Card {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  const count = (m: string) => freshValue(input, m, all);
  const [s2, s4, s5] = [count('http_status_2xx'), count('http_status_4xx'), count('http_status_5xx')];
  // One request in a minute is 0.02 req/s: the count says that something happened.
  const requests = s2 === null && s4 === null && s5 === null ? null : (s2 ?? 0) + (s4 ?? 0) + (s5 ?? 0);
  return card(input, 'rps', 'requests_per_second', all, [{ code: 'NO_CHECK_YET' }], { requestsInWindow: requests });
}

/** The tutorial's error rate, (4xx + 5xx) / all, with the split and the 5xx-only share under it. */
function errorCard(input: SnapshotInput, noTraffic: ReasonPart[]): Card {
  const all = { endpoint: ALL_MODEL_ENDPOINTS };
  return card(
    input,
    'error_rate',
    'error_rate_percent',
    all,
    noTraffic,
    {
      status2xx: freshValue(input, 'http_status_2xx', all),
      status4xx: freshValue(input, 'http_status_4xx', all),
      status5xx: freshValue(input, 'http_status_5xx', all),
      share5xxPercent: freshValue(input, 'error_rate_5xx_percent', all),
    },
    // A rule on the 5xx share (the 'error-rate' preset) colours the card too.
    { metric: 'error_rate_5xx_percent' },
  );
}

/** Users connected now, and what they are: open streams, other requests in flight, WebSockets. */
function connectionsCard(input: SnapshotInput): Card {
  const f = (m: string) => freshValue(input, m, {});
  const inFlight = f('model_requests_in_flight');
  const streams = f('model_streams_in_flight');
  return card(input, 'connections', 'active_connections', {}, [{ code: 'NO_CHECK_YET' }], {
    streams,
    otherRequestsInFlight: inFlight === null ? null : Math.max(0, inFlight - (streams ?? 0)),
    websocket: f('websocket_active_connections'),
    waitingForUpstream: f('model_requests_waiting_upstream'),
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
  const trendRule = HOST_TRENDS[id] ?? HOST_TREND;
  if (!last || last.t < staleBefore(input.now, input.intervalMs))
    return { id, metric, value: null, unit, status: 'unavailable', ...NO_CHANGE, trendRule, spark };
  const change = changeAgainstNormal({
    points,
    unit,
    rule: trendRule,
    lines: linesFor(metric, {}, [], thresholds ?? def?.thresholds),
    historyStart: input.store.historyStart,
  });
  const item: HostItem = {
    id,
    metric,
    value: last.v,
    unit,
    status: healthOf(last.v, thresholds ?? def?.thresholds),
    ...change,
    trendRule,
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
      cpus > 0 ? { direction: 'above', warn: cpus, crit: cpus * 2, warnOp: '>=', critOp: '>=' } : undefined,
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
  const noTraffic: ReasonPart[] = [{ code: 'NO_MODEL_REQUESTS' }];
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
