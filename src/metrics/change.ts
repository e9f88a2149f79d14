// The change of a figure against its normal: the value shown against the mean (or median)
// of the calm minutes before the last one. Minutes in which an alert on the figure was
// pending or firing are not calm, nor are values past the figure's own lines while they
// are the fewer, and a value past a line is never measured against a normal as bad as
// itself: an incident cannot become "normal". Both sides are rounded as
// the page prints them before the percentage is taken, so the arrow and the figures beside
// it always agree. Pure.
import { z } from 'zod';
import type { Point } from './ring-series.js';
import { roundShown } from './shown.js';
import { healthBy, type Lines } from './thresholds.js';

export const trendSchema = z.enum(['up', 'down', 'flat']);
export type Trend = z.infer<typeof trendSchema>;

/**
 * How a change is measured: the value shown against the `baseline` (mean or median) of the
 * `baselineMs` before the last `recentMs`. Changes within `flatPercent` of the normal (or
 * `minDelta` in the metric's unit) are flat. A history shorter than the recent window plus
 * one check compares its newest value with its older half.
 */
export const trendRuleSchema = z.object({
  recentMs: z.number(),
  baselineMs: z.number(),
  flatPercent: z.number(),
  baseline: z
    .enum(['mean', 'median'])
    .optional()
    .describe('How the baseline window is summed up: its mean (default) or its median'),
  minDelta: z
    .number()
    .optional()
    .describe('Changes smaller than this, in the metric\'s unit, are flat too (0.1 % → 0 % is not "↓ 100 %")'),
  minCalmMinutes: z
    .number()
    .describe('Once restless minutes are left out, fewer calm minutes than this give no normal'),
});
export type TrendRule = z.infer<typeof trendRuleSchema>;

/** A figure's change against its calm normal. */
export const changeSchema = z.object({
  trend: trendSchema
    .nullable()
    .describe(
      "The change's direction: flat when it is within the rule's flat band (flatPercent of the normal, or minDelta in the figure's unit), whatever changePercent says (IO wait 0.5 → 0.6 % is +20 % and flat); null without a normal",
    ),
  changePercent: z
    .number()
    .nullable()
    .describe('Signed percent change of the value shown against the normal shown; null without one (or from 0)'),
  baseline: z.number().nullable().describe('The normal the change is measured against, unrounded'),
  noCalmBaseline: z
    .boolean()
    .describe('There is history, but no calm normal in it (every minute restless): "no calm baseline yet"'),
});
export type Change = z.infer<typeof changeSchema>;

/** [start, end) times, ms. */
export type Spans = ReadonlyArray<readonly [number, number]>;

export const NO_CHANGE: Change = { trend: null, changePercent: null, baseline: null, noCalmBaseline: false };
const NOT_CALM: Change = { ...NO_CHANGE, noCalmBaseline: true };

const MINUTE = 60_000;
const SEVERITY = { ok: 0, warn: 1, crit: 2 } as const;

/** Whether the minute of `t` overlaps a span. */
function restless(t: number, spans: Spans): boolean {
  const from = Math.floor(t / MINUTE) * MINUTE;
  const to = from + MINUTE;
  for (const [s, e] of spans) if (s < to && e > from) return true;
  return false;
}

/** How many distinct minutes the points fall in. */
const minutesOf = (ps: readonly Point[]) => new Set(ps.map((p) => Math.floor(p.t / MINUTE))).size;

const mean = (ps: readonly Point[]) => ps.reduce((a, p) => a + p.v, 0) / ps.length;
function median(ps: readonly Point[]): number {
  const vs = ps.map((p) => p.v).sort((a, b) => a - b);
  const mid = vs.length >> 1;
  const upper = vs[mid];
  if (upper === undefined) return Number.NaN;
  const lower = vs[mid - 1];
  return vs.length % 2 || lower === undefined ? upper : (lower + upper) / 2;
}

export interface ChangeInput {
  /** The figure's history, oldest first; its last point is the value shown. */
  points: readonly Point[];
  /** The catalogue unit, for rounding as shown. */
  unit: string;
  rule: TrendRule;
  /** When an alert watching the figure was pending or firing. */
  unrest?: Spans | undefined;
  /** The figure's lines: a value past one is not compared with a normal past it too. */
  lines?: Lines | null | undefined;
  /**
   * When the server's history began (its first check). A figure with nothing in the
   * baseline window is compared with its own older half only while the server is younger
   * than the recent window; on an older server such a figure is new (a first video after
   * an hour of chat), and seconds of its own first requests are no normal.
   */
  historyStart?: number | null | undefined;
}

export function changeAgainstNormal({
  points,
  unit,
  rule,
  unrest = [],
  lines = null,
  historyStart = null,
}: ChangeInput): Change {
  const last = points.at(-1);
  if (!last || points.length < 2) return NO_CHANGE;
  let earlier = points.filter((p) => p.t <= last.t - rule.recentMs && p.t > last.t - rule.recentMs - rule.baselineMs);
  const pastFirstMinute = historyStart !== null && last.t - historyStart > rule.recentMs;
  if (earlier.length === 0) {
    if (pastFirstMinute) return NO_CHANGE;
    earlier = points.slice(0, Math.floor(points.length / 2));
  } else if (pastFirstMinute && minutesOf(earlier) < rule.minCalmMinutes) {
    // A figure first seen a minute or two ago: its first seconds are no normal yet.
    return NOT_CALM;
  }
  // Values past the figure's own lines are not calm either while they are the fewer: a card
  // no rule watches (GPU utilisation at 99 % for three minutes of ten) took its incident for
  // the normal after it. Past a line most of the time, that is the figure's usual level (an
  // OCR latency always a little over its warning line measures a worse one against it).
  const past = new Set(lines ? earlier.filter((p) => healthBy(p.v, lines) !== 'ok') : []);
  const incident = past.size > 0 && past.size * 2 < earlier.length;
  if (unrest.length || incident) {
    const calm = earlier.filter((p) => !restless(p.t, unrest) && !(incident && past.has(p)));
    if (calm.length < earlier.length) {
      if (minutesOf(calm) < rule.minCalmMinutes) return NOT_CALM;
      earlier = calm;
    }
  }
  const base = rule.baseline === 'median' ? median(earlier) : mean(earlier);
  // A warning (or critical) value against a normal at least as bad: that normal is an incident.
  const now = healthBy(last.v, lines);
  if (now !== 'ok' && SEVERITY[healthBy(base, lines)] >= SEVERITY[now]) return NOT_CALM;
  const v = roundShown(last.v, unit);
  const b = roundShown(base, unit);
  const delta = v - b;
  const changePercent = b === 0 ? null : (delta / Math.abs(b)) * 100;
  if (Math.abs(delta) <= Math.max((Math.abs(b) * rule.flatPercent) / 100, rule.minDelta ?? 0, 1e-9)) {
    return { trend: 'flat', changePercent: changePercent ?? 0, baseline: base, noCalmBaseline: false };
  }
  return { trend: delta > 0 ? 'up' : 'down', changePercent, baseline: base, noCalmBaseline: false };
}

/** The spans of every metric named, together. */
export function spansOf(unrest: ReadonlyMap<string, Spans> | undefined, metrics: readonly string[]): Spans {
  if (!unrest) return [];
  return metrics.flatMap((m) => unrest.get(m) ?? []);
}
