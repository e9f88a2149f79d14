// "Where is it concentrated": for an alert and the changes found with it, which client,
// image size, endpoint, GPU, engine, module or error code carries it, as its share now
// against its share normally. Shares are of sums, so only what adds up is split this way
// (requests, errors, MiB, …; a P95 or a percentage does not add up across endpoints).
// Pure, like why.ts, which calls it.
import { z } from 'zod';
import type { LogLine } from '../log/event-log.js';
import { metricDef } from '../metrics/catalogue.js';
import type { Labels, SeriesStore } from '../metrics/series-store.js';

/** Label names a series' sum is split by, in the order they are tried. */
export const SERIES_DIMENSIONS = ['endpoint', 'gpu', 'engine', 'module', 'code'] as const;

export const shareChangeSchema = z.object({
  dimension: z
    .enum(['client', 'clientInputTokens', 'imageSize', ...SERIES_DIMENSIONS])
    .describe(
      'client: a client’s share of the module’s requests; clientInputTokens: of their input tokens (both from every request); imageSize: an image size’s share of the module’s log lines that name one; endpoint, gpu, engine, module, code: that label value’s share of the sum of `metric` over its series',
    ),
  value: z.string().describe('The client, image size or label value (an endpoint with its method: "POST /api/ocr")'),
  module: z.string().optional().describe('The module whose requests are split (client, clientInputTokens, imageSize)'),
  metric: z.string().optional().describe('The metric whose sum is split (endpoint, gpu, engine, module, code)'),
  shareNow: z.number().describe('Share since the breach began, 0…1'),
  shareNormal: z
    .number()
    .nullable()
    .describe(
      'Share in the baseline before it; null when the baseline had none of it at all (no requests, an empty queue)',
    ),
  countNow: z
    .number()
    .describe('What is behind the share now: requests, input tokens, log lines, or the mean of the series'),
});
export type ShareChange = z.infer<typeof shareChangeSchema>;

/** A share must grow by this much (10 points) to be where a change is concentrated… */
const MIN_GROWTH = 0.1;
/**
 * …or, split among many (8 GPUs, 20 endpoints), by half of itself and at least 5 points:
 * one GPU of eight doubling its memory moves its share from 12.5 % to 22 %.
 */
const MIN_RELATIVE_GROWTH = 0.5;
const MIN_POINTS_GROWTH = 0.05;
const MAX_SHARES = 3;
/** Lines needed before a size is said to carry a module's requests: fewer say nothing. */
const MIN_SIZED_LINES = 3;
/** Units whose values add up across the series of one metric. */
const ADDITIVE_UNITS: ReadonlySet<string> = new Set([
  'req/s',
  'requests',
  'errors',
  'per minute',
  'MiB',
  'KiB/s',
  'preemptions',
]);

const growth = (s: ShareChange) => s.shareNow - (s.shareNormal ?? 0);
/** Shares whose growth is largest first: the order the concentration is listed in. */
export const byGrowth = (a: ShareChange, b: ShareChange) => growth(b) - growth(a);

/** Values whose share of the total grew by MIN_GROWTH or more, most first. */
function grown(
  now: ReadonlyMap<string, number>,
  before: ReadonlyMap<string, number>,
  make: (value: string, shareNow: number, shareNormal: number | null, n: number) => ShareChange,
  relative = false,
): ShareChange[] {
  const total = (m: ReadonlyMap<string, number>) => {
    let sum = 0;
    for (const v of m.values()) sum += v;
    return sum;
  };
  const nowTotal = total(now);
  const beforeTotal = total(before);
  if (nowTotal <= 0) return [];
  const out: ShareChange[] = [];
  for (const [value, n] of now) {
    const shareNow = n / nowTotal;
    // A share of nothing is no share: an empty queue before has no normal to compare with.
    const shareNormal = beforeTotal > 0 ? (before.get(value) ?? 0) / beforeTotal : null;
    const g = shareNow - (shareNormal ?? 0);
    const enough =
      g >= MIN_GROWTH ||
      (relative && g >= MIN_POINTS_GROWTH && shareNow >= (1 + MIN_RELATIVE_GROWTH) * (shareNormal ?? 0));
    if (enough) out.push(make(value, shareNow, shareNormal, n));
  }
  return out.sort(byGrowth).slice(0, MAX_SHARES);
}

/**
 * Requests or input tokens per client of a module over the whole minutes that touch
 * [end − windowMs, end] (ClientStats keeps one-minute buckets).
 */
export type ClientTotals = (what: 'requests' | 'inputTokens', end: number, windowMs: number) => Map<string, number>;
/** ClientStats' bucket: the normal ends in the minute before the one `since` falls in, so no minute counts twice. */
const CLIENT_MINUTE = 60_000;

/** Clients whose share of the module's requests (or of their input tokens) grew most since `since`. */
export function clientShares(
  totals: ClientTotals,
  module: string,
  what: 'requests' | 'inputTokens',
  since: number,
  now: number,
  baselineMs: number,
): ShareChange[] {
  return grown(
    totals(what, now, Math.max(now - since, 1)),
    totals(what, since - CLIENT_MINUTE, baselineMs),
    (value, shareNow, shareNormal, countNow) => ({
      dimension: what === 'requests' ? 'client' : 'clientInputTokens',
      value,
      module,
      shareNow,
      shareNormal,
      countNow,
    }),
  );
}

/**
 * Image sizes whose share of the module's log lines that name a size (every WARN and ERROR
 * line of a request, the kept INFO lines) grew since `since`.
 */
export function imageSizeShares(lines: readonly LogLine[], module: string, since: number): ShareChange[] {
  const now = new Map<string, number>();
  const before = new Map<string, number>();
  let nowTotal = 0;
  for (const line of lines) {
    const dims = line.module === module ? line.params.dimensions : undefined;
    if (typeof dims !== 'string') continue;
    const size = dims.replaceAll('x', '×');
    const into = line.t >= since ? now : before;
    into.set(size, (into.get(size) ?? 0) + 1);
    if (line.t >= since) nowTotal++;
  }
  if (nowTotal < MIN_SIZED_LINES) return [];
  return grown(now, before, (value, shareNow, shareNormal, countNow) => ({
    dimension: 'imageSize',
    value,
    module,
    shareNow,
    shareNormal,
    countNow,
  }));
}

/** A series' value of a dimension: an endpoint with its method, as the endpoint table lists it. */
const labelValue = (dimension: string, labels: Readonly<Record<string, string>>) =>
  dimension === 'endpoint' && labels.method ? `${labels.method} ${labels.endpoint}` : labels[dimension];

/**
 * For each metric that adds up, the label value whose share of its sum grew most since
 * `since`, by every dimension its series are labelled with. Aggregate series ("*") are
 * left out, and a dimension with a single value says nothing (its share is always 1).
 */
export function seriesShares(
  store: SeriesStore,
  metrics: readonly string[],
  since: number,
  baselineFrom: number,
  /** Which series count (why.ts: the users' traffic, not the operator's). */
  counts: (labels: Labels) => boolean,
): ShareChange[] {
  const out: ShareChange[] = [];
  for (const metric of new Set(metrics)) {
    if (!ADDITIVE_UNITS.has(metricDef(metric)?.unit ?? '')) continue;
    const series = store.find(metric).filter((s) => !Object.values(s.labels).includes('*') && counts(s.labels));
    const means = series.map((s) => ({
      labels: s.labels,
      now: s.ring.meanBetween(since, Number.POSITIVE_INFINITY) ?? 0,
      before: s.ring.meanBetween(baselineFrom, since) ?? 0,
    }));
    for (const dimension of SERIES_DIMENSIONS) {
      const now = new Map<string, number>();
      const before = new Map<string, number>();
      for (const m of means) {
        const value = labelValue(dimension, m.labels);
        if (value === undefined) continue;
        now.set(value, (now.get(value) ?? 0) + m.now);
        before.set(value, (before.get(value) ?? 0) + m.before);
      }
      if (now.size < 2) continue;
      // Series are means over minutes, steadier than counts of a few requests: a share that
      // grew by half of itself is a move here.
      const [top] = grown(
        now,
        before,
        (value, shareNow, shareNormal, countNow) => ({ dimension, value, metric, shareNow, shareNormal, countNow }),
        true,
      );
      if (top) out.push(top);
    }
  }
  return out.sort(byGrowth).slice(0, MAX_SHARES);
}
