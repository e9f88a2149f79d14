// "Why is it firing": what changed with an alert, ranked. The minutes since its breach
// began are compared with the normal before it (the cards' window: TREND_RULE's ten
// minutes) across every series the Monitor holds, and each change is measured in units of
// its own baseline's spread, so that a 3-point move in a steady series outranks a 30 % move
// in a noisy one; the log events whose rate rose at the breach are ranked the same way;
// and where it is concentrated (why-shares.ts: clients, image sizes, endpoints, GPUs,
// engines). Pure: why-keeper.ts decides when to ask (once when an alert starts, at most
// once a minute while it lasts).
import { z } from 'zod';
import type { LogLine } from '../log/event-log.js';
import { metricDef } from '../metrics/catalogue.js';
import type { Point, RingSeries } from '../metrics/ring-series.js';
import type { Labels, SeriesStore } from '../metrics/series-store.js';
import { ALL_MODEL_ENDPOINTS } from '../metrics/service-collector.js';
import { TREND_RULE } from '../metrics/snapshot.js';
import { WHY_DIMENSIONS_EN } from '../alert-summary.js';
import { formatValue } from '../value-format.js';
import {
  byGrowth,
  type ClientTotals,
  clientShares,
  imageSizeShares,
  type ShareChange,
  seriesShares,
  shareChangeSchema,
} from './why-shares.js';

const labels = z.record(z.string(), z.string());

export const signalChangeSchema = z.object({
  metric: z.string(),
  labels,
  now: z.number().describe('Mean since the breach began'),
  normal: z.number().describe('Median of the baseline before it'),
  change: z.number().describe('now − normal, in the metric’s unit'),
  score: z
    .number()
    .describe('|change| in units of the baseline’s spread (robust: 1.4826 × its median absolute deviation)'),
});
export type SignalChange = z.infer<typeof signalChangeSchema>;

export const eventChangeSchema = z.object({
  level: z.string(),
  module: z.string(),
  message: z.string(),
  countNow: z.number().int().describe('Lines kept since the breach began'),
  countNormal: z
    .number()
    .describe('Lines expected in as long a time at the baseline’s rate (kept lines: INFO is sampled)'),
  score: z.number().describe('(countNow − countNormal) / √(countNormal + 1)'),
});
export type EventChange = z.infer<typeof eventChangeSchema>;

export const whySchema = z.object({
  computedAt: z.number(),
  since: z.number().describe('When the breach began: the start of "now"'),
  baselineFrom: z.number().describe('The start of the normal it is compared with (it ends at `since`)'),
  changes: z.array(signalChangeSchema).describe('Series that changed most, ranked by score'),
  concentration: z
    .array(shareChangeSchema)
    .describe('Where the alert and the changes with it are concentrated, the share that grew most first'),
  events: z.array(eventChangeSchema).describe('Log events whose rate rose at the breach'),
  order: z
    .array(z.object({ kind: z.enum(['change', 'share', 'event']), index: z.number().int() }))
    .describe(
      'The order the console, notices and mail show the lines in: the top change, where it is concentrated, the log event that started with it, then the rest; each names a line of `changes`, `concentration` or `events`',
    ),
});
export type Why = z.infer<typeof whySchema>;

/** The Monitor's own log module: its lines are about alerts and notices. */
const OWN_MODULE = 'alert';
/** A change of fewer baseline spreads than this is not one. */
export const MIN_SCORE = 3;
const MAX_CHANGES = 10;
const MAX_EVENTS = 5;
/** Fewer baseline points than this give no normal. */
const MIN_BASELINE_POINTS = 3;
/**
 * The least spread a baseline is given, in its unit, so that a flat line moving by a
 * rounding step is not an infinite change: what the page shows a step of.
 */
const UNIT_STEP: Readonly<Record<string, number>> = {
  '%': 0.5,
  ratio: 0.005,
  ms: 1,
  s: 0.01,
  MiB: 1,
  // Counts move by whole steps: a queue of 0 that reads 1 now and then is not a change.
  requests: 1,
  tasks: 1,
  connections: 1,
  errors: 1,
  images: 1,
  preemptions: 1,
};
/** And at least this share of the values compared (0.5 %). */
const RELATIVE_STEP = 0.005;

function median(vs: number[]): number {
  vs.sort((a, b) => a - b);
  const mid = vs.length >> 1;
  const upper = vs[mid];
  if (upper === undefined) return Number.NaN;
  const lower = vs[mid - 1];
  return vs.length % 2 || lower === undefined ? upper : (lower + upper) / 2;
}

/** One series' change since `since` against the `baseline` points before it; null without a normal or a change. */
export function seriesChange(
  points: readonly Point[],
  since: number,
  baselineFrom: number,
  unit: string,
): Omit<SignalChange, 'metric' | 'labels'> | null {
  const base: number[] = [];
  let sumNow = 0;
  let nNow = 0;
  for (const p of points) {
    if (p.t >= since) {
      sumNow += p.v;
      nNow++;
    } else if (p.t >= baselineFrom) base.push(p.v);
  }
  return changeFrom(base, nNow ? sumNow / nNow : null, unit);
}

/** The same, read from the ring itself (no point objects; the older points are not looked at). */
function ringChange(ring: RingSeries, since: number, baselineFrom: number, unit: string) {
  return changeFrom(ring.valuesBetween(baselineFrom, since), ring.meanBetween(since, Number.POSITIVE_INFINITY), unit);
}

function changeFrom(base: number[], now: number | null, unit: string): Omit<SignalChange, 'metric' | 'labels'> | null {
  if (now === null || base.length < MIN_BASELINE_POINTS) return null;
  const normal = median(base);
  const spread = 1.4826 * median(base.map((v) => Math.abs(v - normal)));
  const floor = Math.max(UNIT_STEP[unit] ?? 0, RELATIVE_STEP * Math.max(Math.abs(normal), Math.abs(now)), 1e-9);
  const change = now - normal;
  const score = Math.abs(change) / Math.max(spread, floor);
  return { now, normal, change, score };
}

export interface WhyInput {
  store: SeriesStore;
  log: Iterable<LogLine>;
  /** Requests or input tokens per client of the alert's module; null without client stats. */
  clientTotals: ClientTotals | null;
  /** The alert's own series: not a cause of itself. */
  own: { metric: string; labels: Labels };
  /**
   * The model endpoints' routes. A series of another endpoint (the Monitor's own API, the
   * page's files, health probes) is the operator's traffic, never a cause: an operator's
   * page loads stopping once ranked first in a notice ("0 req/s, normally 0.03").
   */
  modelEndpoints: ReadonlySet<string>;
  /** The model module the alert is about, if any (its clients' shares are compared). */
  module: string | undefined;
  since: number;
  now: number;
  /** The check interval: log lines and requests count from at least one check before the breach. */
  intervalMs: number;
  baselineMs?: number;
}

/** Whether a series is about the service's users: no endpoint, all model endpoints ('*'), or one of them. */
const usersTraffic =
  (modelEndpoints: ReadonlySet<string>) =>
  (labels: Labels): boolean =>
    labels.endpoint === undefined || labels.endpoint === ALL_MODEL_ENDPOINTS || modelEndpoints.has(labels.endpoint);

const sameLabels = (a: Labels, b: Labels) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

export function explainWhy(input: WhyInput): Why {
  const { store, since, now } = input;
  const baselineMs = input.baselineMs ?? TREND_RULE.baselineMs;
  const baselineFrom = since - baselineMs;
  // Log lines and requests count from a minute before the breach (the cards' recent
  // minute, at least a check): a rule on a windowed figure (a mean over minutes, errors a
  // minute) breaches a check or several after its cause began, and what began with the
  // cause must not be taken for its normal.
  const eventsSince = since - Math.max(input.intervalMs, TREND_RULE.recentMs);
  const eventsBaselineFrom = eventsSince - baselineMs;
  const lines = linesBetween(input.log, eventsBaselineFrom, now);
  const users = usersTraffic(input.modelEndpoints);
  const changes: SignalChange[] = [];
  for (const s of store.list()) {
    if (s.metric === input.own.metric && sameLabels(s.labels, input.own.labels)) continue;
    if (!users(s.labels)) continue;
    const ring = store.ring(s.metric, s.labels);
    if (!ring) continue;
    const c = ringChange(ring, since, baselineFrom, metricDef(s.metric)?.unit ?? '');
    if (c && c.score >= MIN_SCORE) changes.push({ metric: s.metric, labels: { ...s.labels }, ...c });
  }
  changes.sort((a, b) => b.score - a.score);
  const ranked = distinct(changes).slice(0, MAX_CHANGES);
  const { clientTotals, module } = input;
  const concentration = [
    ...(clientTotals && module ? clientShares(clientTotals, module, 'requests', eventsSince, now, baselineMs) : []),
    ...(clientTotals && module ? clientShares(clientTotals, module, 'inputTokens', eventsSince, now, baselineMs) : []),
    ...(module ? imageSizeShares(lines, module, eventsSince) : []),
    ...seriesShares(store, [input.own.metric, ...ranked.map((c) => c.metric)], since, baselineFrom, users),
  ].sort(byGrowth);
  const events = eventChanges(lines, eventsSince, now, eventsBaselineFrom);
  return {
    computedAt: now,
    since,
    baselineFrom,
    changes: ranked,
    concentration,
    events,
    order: showOrder(ranked.length, concentration.length, events.length),
  };
}

/**
 * The order lines are shown in: the first of each kind (the top change, where it is
 * concentrated, the log event that started with it), then the rest of the changes, shares
 * and events. Worked out here once; the console follows `order` as it comes.
 */
function showOrder(changes: number, shares: number, events: number): Why['order'] {
  const kinds = [
    ['change', changes],
    ['share', shares],
    ['event', events],
  ] as const;
  const firsts = kinds.filter(([, n]) => n > 0).map(([kind]) => ({ kind, index: 0 }));
  const rests = kinds.flatMap(([kind, n]) =>
    Array.from({ length: Math.max(n - 1, 0) }, (_, i) => ({ kind, index: i + 1 })),
  );
  return [...firsts, ...rests];
}

const near = (a: number, b: number) => Math.abs(a - b) <= 0.001 * Math.max(Math.abs(a), Math.abs(b));

/**
 * Changes less the ones that repeat a higher-ranked one's figures (the same now and normal):
 * one figure kept under two names (a stage's time as inference_duration_ms and
 * request_stage_ms) or an endpoint that is all of the traffic (its P95 and the all-endpoint
 * P95) says nothing twice.
 */
function distinct(ranked: SignalChange[]): SignalChange[] {
  const out: SignalChange[] = [];
  for (const c of ranked) if (!out.some((o) => near(o.now, c.now) && near(o.normal, c.normal))) out.push(c);
  return out;
}

/** The log lines of the two windows, newest first: the log is read once. */
function linesBetween(log: Iterable<LogLine>, from: number, to: number): LogLine[] {
  const out: LogLine[] = [];
  for (const line of log) {
    if (line.t < from) break; // newest first
    if (line.t <= to) out.push(line);
  }
  return out;
}

/** Log events (level, module, event) kept more often since the breach than before it. */
export function eventChanges(
  lines: readonly LogLine[],
  since: number,
  now: number,
  baselineFrom: number,
): EventChange[] {
  const counts = new Map<string, { line: LogLine; now: number; before: number }>();
  for (const line of lines) {
    // The Monitor's own lines (an alert firing, a notice not delivered) are never a cause.
    if (line.module === OWN_MODULE) continue;
    const key = `${line.level}\u0000${line.module}\u0000${line.event}`;
    let c = counts.get(key);
    if (!c) {
      c = { line, now: 0, before: 0 };
      counts.set(key, c);
    }
    if (line.t >= since) c.now++;
    else c.before++;
  }
  const scale = Math.max(now - since, 1) / Math.max(since - baselineFrom, 1);
  const out: EventChange[] = [];
  for (const { line, now: n, before } of counts.values()) {
    const expected = before * scale;
    const score = (n - expected) / Math.sqrt(expected + 1);
    if (n > expected && score >= 2)
      out.push({
        level: line.level,
        module: line.module,
        message: line.event,
        countNow: n,
        countNormal: expected,
        score,
      });
  }
  return out.sort((a, b) => b.score - a.score).slice(0, MAX_EVENTS);
}

/** One line of "why", by kind; the console, the notices and mail show them in this order. */
export type WhyItem =
  | { kind: 'change'; change: SignalChange }
  | { kind: 'share'; share: ShareChange }
  | { kind: 'event'; event: EventChange };

/** The lines in the order they are shown (`why.order`). */
export function whyItems(why: Why): WhyItem[] {
  return why.order.flatMap(({ kind, index }): WhyItem[] => {
    if (kind === 'change') return why.changes[index] ? [{ kind, change: why.changes[index] }] : [];
    if (kind === 'share') return why.concentration[index] ? [{ kind, share: why.concentration[index] }] : [];
    return why.events[index] ? [{ kind, event: why.events[index] }] : [];
  });
}

/** As the page prints it (src/value-format.ts), in English. */
const shownValue = (v: number, metric: string) => formatValue(v, metricDef(metric)?.unit ?? '', 'en');
/** The console's English words for a dimension (`why.dimension.*`, src/alert-summary.ts). */
const dimensionWords: Partial<Record<string, string>> = WHY_DIMENSIONS_EN;
const labelText = (labels: Record<string, string>) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
};
const percent = (share: number) => `${Math.round(share * 100)} %`;
const shareOf = (s: ShareChange) =>
  s.dimension === 'clientInputTokens'
    ? `${s.module} input tokens`
    : s.module !== undefined
      ? `${s.module} requests`
      : (s.metric ?? '');

/** The first `limit` lines in English, as mail, webhooks and Alertmanager print them. */
export function whyLines(why: Why, limit = 3): string[] {
  return whyItems(why)
    .slice(0, limit)
    .map((item) => {
      if (item.kind === 'change') {
        const c = item.change;
        return `${c.metric}${labelText(c.labels)}: ${shownValue(c.now, c.metric)} (normally ${shownValue(c.normal, c.metric)})`;
      }
      if (item.kind === 'share') {
        const s = item.share;
        const normal = s.shareNormal === null ? 'none' : percent(s.shareNormal);
        const shares = `${percent(s.shareNow)} of ${shareOf(s)} now, ${normal} normally`;
        if (s.dimension === 'imageSize') return `images of ${s.value}: ${shares}`;
        if (s.dimension === 'client' || s.dimension === 'clientInputTokens') return `client ${s.value}: ${shares}`;
        return `${dimensionWords[`why.dimension.${s.dimension}`] ?? s.dimension} ${s.value}: ${shares}`;
      }
      const e = item.event;
      return `${e.level} ${e.module} "${e.message}": ${e.countNow} since it began (normally ${Math.round(e.countNormal)})`;
    });
}
