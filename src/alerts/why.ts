// "Why is it firing": what changed with an alert, ranked. The minutes since its breach
// began are compared with the normal before it (the cards' window: TREND_RULE's ten
// minutes) across every series the Monitor holds, and each change is measured in units of
// its own baseline's spread, so that a 3-point move in a steady series outranks a 30 % move
// in a noisy one; the log events whose rate rose at the breach are ranked the same way;
// and the clients whose share of the alert's module moved. Pure: the manager decides when
// to ask (once when an alert starts, at most once a minute while it lasts).
import { z } from 'zod';
import type { LogLine } from '../log/event-log.js';
import { metricDef } from '../metrics/catalogue.js';
import { roundShown } from '../metrics/shown.js';
import type { Point } from '../metrics/ring-series.js';
import type { Labels, SeriesStore } from '../metrics/series-store.js';
import { TREND_RULE } from '../metrics/snapshot.js';

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

export const shareChangeSchema = z.object({
  dimension: z
    .enum(['client', 'clientInputTokens', 'imageSize'])
    .describe(
      'client: a client’s share of the module’s requests; clientInputTokens: of their input tokens (both from every request); imageSize: an image size’s share of the module’s log lines that name one',
    ),
  value: z.string(),
  module: z.string(),
  shareNow: z.number().describe('Share of the module’s requests since the breach began, 0…1'),
  shareNormal: z.number().describe('Share in the baseline before it'),
  countNow: z.number().describe('Requests, input tokens or log lines behind the share now'),
});
export type ShareChange = z.infer<typeof shareChangeSchema>;

export const whySchema = z.object({
  computedAt: z.number(),
  since: z.number().describe('When the breach began: the start of "now"'),
  baselineFrom: z.number().describe('The start of the normal it is compared with (it ends at `since`)'),
  changes: z.array(signalChangeSchema).describe('Series that changed most, ranked by score'),
  concentration: z.array(shareChangeSchema).describe('Where the alert’s module’s requests moved'),
  events: z.array(eventChangeSchema).describe('Log events whose rate rose at the breach'),
});
export type Why = z.infer<typeof whySchema>;

/** The Monitor's own log module: its lines are about alerts and notices. */
const OWN_MODULE = 'alert';
/** A change of fewer baseline spreads than this is not one. */
export const MIN_SCORE = 3;
const MAX_CHANGES = 10;
const MAX_EVENTS = 5;
const MAX_SHARES = 3;
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
  return vs.length % 2 ? vs[mid]! : (vs[mid - 1]! + vs[mid]!) / 2;
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
  if (nNow === 0 || base.length < MIN_BASELINE_POINTS) return null;
  const now = sumNow / nNow;
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
  /** Requests or input tokens per client of the alert's module over a window ending at a time; null without client stats. */
  clientTotals: ((what: 'requests' | 'inputTokens', end: number, windowMs: number) => Map<string, number>) | null;
  /** The alert's own series: not a cause of itself. */
  own: { metric: string; labels: Labels };
  /** The model module the alert is about, if any (its clients' shares are compared). */
  module: string | undefined;
  since: number;
  now: number;
  /** The check interval: log lines and requests count from at least one check before the breach. */
  intervalMs: number;
  baselineMs?: number;
}

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
  const changes: SignalChange[] = [];
  for (const s of store.list()) {
    if (s.metric === input.own.metric && sameLabels(s.labels, input.own.labels)) continue;
    const ring = store.ring(s.metric, s.labels);
    if (!ring) continue;
    const c = seriesChange(ring.since(baselineFrom), since, baselineFrom, metricDef(s.metric)?.unit ?? '');
    if (c && c.score >= MIN_SCORE) changes.push({ metric: s.metric, labels: { ...s.labels }, ...c });
  }
  changes.sort((a, b) => b.score - a.score);
  return {
    computedAt: now,
    since,
    baselineFrom,
    changes: distinct(changes).slice(0, MAX_CHANGES),
    concentration: [
      ...(input.clientTotals && input.module ? clientShares(input, eventsSince, baselineMs, 'requests') : []),
      ...(input.clientTotals && input.module ? clientShares(input, eventsSince, baselineMs, 'inputTokens') : []),
      ...(input.module ? imageSizeShares(lines, input.module, eventsSince) : []),
    ].sort((a, b) => b.shareNow - b.shareNormal - (a.shareNow - a.shareNormal)),
    events: eventChanges(lines, eventsSince, now, eventsBaselineFrom),
  };
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

/** Lines needed before a size is said to carry a module's requests: fewer say nothing. */
const MIN_SIZED_LINES = 3;

/**
 * Image sizes whose share of the module's log lines that name a size (every WARN and ERROR
 * line of a request, the kept INFO lines) grew by 10 points or more since the breach.
 */
function imageSizeShares(lines: readonly LogLine[], module: string, since: number): ShareChange[] {
  const now = new Map<string, number>();
  const before = new Map<string, number>();
  let nowTotal = 0;
  let beforeTotal = 0;
  for (const line of lines) {
    const dims = line.module === module ? line.params.dimensions : undefined;
    if (typeof dims !== 'string') continue;
    const size = dims.replaceAll('x', '×');
    const into = line.t >= since ? now : before;
    into.set(size, (into.get(size) ?? 0) + 1);
    if (line.t >= since) nowTotal++;
    else beforeTotal++;
  }
  if (nowTotal < MIN_SIZED_LINES) return [];
  const out: ShareChange[] = [];
  for (const [size, n] of now) {
    const shareNow = n / nowTotal;
    const shareNormal = beforeTotal ? (before.get(size) ?? 0) / beforeTotal : 0;
    if (shareNow - shareNormal >= 0.1)
      out.push({ dimension: 'imageSize', value: size, module, shareNow, shareNormal, countNow: n });
  }
  return out.sort((a, b) => b.shareNow - b.shareNormal - (a.shareNow - a.shareNormal)).slice(0, MAX_SHARES);
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

/** Clients whose share of the module's requests (or of their input tokens) grew most since the breach. */
function clientShares(
  input: WhyInput,
  since: number,
  baselineMs: number,
  what: 'requests' | 'inputTokens',
): ShareChange[] {
  const totals = input.clientTotals!;
  const now = totals(what, input.now, Math.max(input.now - since, 1));
  const before = totals(what, since - 1, baselineMs);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const nowTotal = total(now);
  const beforeTotal = total(before);
  if (nowTotal === 0) return [];
  const out: ShareChange[] = [];
  for (const [client, n] of now) {
    const shareNow = n / nowTotal;
    const shareNormal = beforeTotal ? (before.get(client) ?? 0) / beforeTotal : 0;
    if (shareNow - shareNormal >= 0.1)
      out.push({
        dimension: what === 'requests' ? 'client' : 'clientInputTokens',
        value: client,
        module: input.module!,
        shareNow,
        shareNormal,
        countNow: n,
      });
  }
  return out.sort((a, b) => b.shareNow - b.shareNormal - (a.shareNow - a.shareNormal)).slice(0, MAX_SHARES);
}

/** One line of "why", by kind; the console, the notices and mail show them in this order. */
export type WhyItem =
  | { kind: 'change'; change: SignalChange }
  | { kind: 'share'; share: ShareChange }
  | { kind: 'event'; event: EventChange };

/**
 * The lines in the order they are shown: the first of each kind (the top change, where it
 * is concentrated, the log event that started with it), then the rest of the changes,
 * shares and events. public/js/monitor/why.js follows the same order.
 */
export function whyItems(why: Why): WhyItem[] {
  const changes = why.changes.map((change) => ({ kind: 'change' as const, change }));
  const shares = why.concentration.map((share) => ({ kind: 'share' as const, share }));
  const events = why.events.map((event) => ({ kind: 'event' as const, event }));
  const firsts = [changes.shift(), shares.shift(), events.shift()].filter((i) => i !== undefined);
  return [...firsts, ...changes, ...shares, ...events];
}

const shownValue = (v: number, metric: string) => {
  const unit = metricDef(metric)?.unit ?? '';
  const n = roundShown(v, unit);
  return unit === '%' ? `${n} %` : unit && unit !== 'ratio' ? `${n} ${unit}` : String(n);
};
const labelText = (labels: Record<string, string>) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
};
const percent = (share: number) => `${Math.round(share * 100)} %`;

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
        const who = s.dimension === 'imageSize' ? `images of ${s.value}` : `client ${s.value}`;
        const of = s.dimension === 'clientInputTokens' ? 'input tokens' : 'requests';
        return `${who}: ${percent(s.shareNow)} of ${s.module} ${of} now, ${percent(s.shareNormal)} normally`;
      }
      const e = item.event;
      return `${e.level} ${e.module} "${e.message}": ${e.countNow} since it began (normally ${Math.round(e.countNormal)})`;
    });
}
