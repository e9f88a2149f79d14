// The lines a card colours by. For each of warning and critical: the enabled alert rule
// watching the metric where there is one, else the catalogue's default. One number per
// line, so the Overview card, the Model Metrics card, the rule and the log's WARN agree.
// Pure; the rules are read through WatchingRule, which alerts/rule-schema.ts's Rule fits
// (metrics never import alerts).
import { z } from 'zod';
import { metricDef, pastLine, type Comparison, type Health, type Thresholds } from './catalogue.js';
import type { Labels, SeriesStore } from './series-store.js';

/** A condition of a rule, as far as lines go. */
export interface WatchCondition {
  metric: string;
  labels: Readonly<Record<string, string>>;
  op: Comparison;
  threshold: number;
}

export interface WatchingRule extends WatchCondition {
  id: string;
  name: string;
  severity: string;
  enabled: boolean;
  perRequest?: boolean | undefined;
  surgeBaseline?: string | undefined;
  and?: WatchCondition | undefined;
}

/** The comparisons a line may make (catalogue.ts's Comparison). */
const COMPARISONS = ['>', '>=', '<', '<='] as const satisfies readonly Comparison[];

/** One line a value is coloured by. */
export const lineSchema = z.object({
  op: z.enum(COMPARISONS).describe("'>=' puts a value that reaches the line past it, '>' only one beyond it"),
  value: z.number(),
  rule: z
    .object({ id: z.string(), name: z.string() })
    .nullable()
    .describe("The rule that set it; null: the default (the catalogue's, or the configured one)"),
});
export type Line = z.infer<typeof lineSchema>;

/** A figure's warning and critical lines (a line may be absent: null). */
export const linesSchema = z.object({
  direction: z.enum(['above', 'below']).describe("'above': higher is worse; 'below': lower is worse"),
  warn: lineSchema.nullable(),
  crit: lineSchema.nullable(),
});
export type Lines = z.infer<typeof linesSchema>;

/**
 * Whether a condition holds now on the series that agree with `labels`: an AND rule's
 * condition is a line only while its other condition holds (alone it fires nothing).
 */
export type HoldsNow = (c: WatchCondition, labels: Labels) => boolean;

/** The lines of a metric's series, as buildSnapshot and buildModelSnapshot ask for them. */
export type LinesOf = (metric: string, labels: Labels) => Lines | null;

/**
 * A rule's severity decides which line it sets: critical the critical line, warning the
 * warning line; an info rule is news, not a colour, and sets none.
 */
const LEVEL: Readonly<Record<string, 'warn' | 'crit'>> = { warning: 'warn', critical: 'crit' };

const directionOf = (op: Comparison): Lines['direction'] => (op === '>' || op === '>=' ? 'above' : 'below');

/** How far towards "worse" a line lies; equal values: the op that counts the line itself first. */
function worseness(line: Line, direction: Lines['direction']): number {
  return direction === 'above' ? line.value : -line.value;
}
/** Whether `a` fires before `b` as the value gets worse. */
function firesBefore(a: Line, b: Line, direction: Lines['direction']): boolean {
  const wa = worseness(a, direction);
  const wb = worseness(b, direction);
  if (wa !== wb) return wa < wb;
  return (a.op === '>=' || a.op === '<=') && (b.op === '>' || b.op === '<');
}

/** A condition's labels pick out this series: every label it names has this value. */
function watches(c: WatchCondition, metric: string, labels: Labels): boolean {
  if (c.metric !== metric) return false;
  for (const [k, v] of Object.entries(c.labels)) if (labels[k] !== v) return false;
  return true;
}

/**
 * The lines of one series. Among several enabled rules setting the same line, the one that
 * fires first sets it (the card names it). A default line the rules' lines contradict (a
 * critical line at or before the rule's warning line, a warning line at or beyond the rule's
 * critical line) is dropped: the rule decided what that value means.
 */
export function linesFor(
  metric: string,
  labels: Labels,
  rules: readonly WatchingRule[],
  defaults: Thresholds | undefined = metricDef(metric)?.thresholds,
  holdsNow: HoldsNow = () => true,
): Lines | null {
  const found: Array<{ level: 'warn' | 'crit'; line: Line }> = [];
  for (const r of rules) {
    const level = LEVEL[r.severity];
    // Per-request rules judge single requests, surge rules a change: neither is a value line.
    if (!r.enabled || !level || r.perRequest || r.surgeBaseline !== undefined) continue;
    // An AND rule's condition colours its card only while the other one holds too: alone,
    // past its line, it fires nothing, and the card would be red beside an empty firing list.
    const conditions: Array<[WatchCondition, WatchCondition | null]> = r.and
      ? [
          [r, r.and],
          [r.and, r],
        ]
      : [[r, null]];
    for (const [c, other] of conditions) {
      if (watches(c, metric, labels) && (other === null || holdsNow(other, labels)))
        found.push({ level, line: { op: c.op, value: c.threshold, rule: { id: r.id, name: r.name } } });
    }
  }
  // The metric's own direction; without one, the most severe rule's.
  const mostSevere = found.find((f) => f.level === 'crit') ?? found[0];
  const direction = defaults?.direction ?? (mostSevere ? directionOf(mostSevere.line.op) : undefined);
  if (!direction) return null;
  const best = (level: 'warn' | 'crit') => {
    let out: Line | null = null;
    for (const f of found) {
      if (f.level !== level || directionOf(f.line.op) !== direction) continue;
      if (!out || firesBefore(f.line, out, direction)) out = f.line;
    }
    return out;
  };
  const ruleWarn = best('warn');
  const ruleCrit = best('crit');
  const def = (value: number | null, op: Comparison): Line | null =>
    value === null ? null : { op, value, rule: null };
  let warn = ruleWarn ?? def(defaults?.warn ?? null, defaults?.warnOp ?? (direction === 'above' ? '>=' : '<='));
  let crit = ruleCrit ?? def(defaults?.crit ?? null, defaults?.critOp ?? (direction === 'above' ? '>=' : '<='));
  if (ruleWarn && !ruleCrit && crit && !firesBefore(ruleWarn, crit, direction)) crit = null;
  if (ruleCrit && !ruleWarn && warn && !firesBefore(warn, ruleCrit, direction)) warn = null;
  return warn || crit ? { direction, warn, crit } : null;
}

/** The colour of a value against its lines; no lines, always ok. */
export function healthBy(value: number, lines: Lines | null): Health {
  if (!lines) return 'ok';
  if (lines.crit && pastLine(value, lines.crit.op, lines.crit.value)) return 'crit';
  if (lines.warn && pastLine(value, lines.warn.op, lines.warn.value)) return 'warn';
  return 'ok';
}

/** Defaults that configuration moves (OCR_CONFIDENCE_THRESHOLD is the confidence's warning line). */
export type DefaultOverrides = Readonly<Record<string, Partial<Pick<Thresholds, 'warn' | 'crit'>>>>;

/** The lines of every series, from the rules as they are at each call and the defaults. */
export class ThresholdBook {
  private readonly holdsNow: HoldsNow;

  /** store: where an AND rule's other condition is read (its series' latest values); without one, it always holds. */
  constructor(
    private readonly rules: () => readonly WatchingRule[] = () => [],
    private readonly overrides: DefaultOverrides = {},
    store?: SeriesStore,
  ) {
    this.holdsNow = store
      ? (c, labels) =>
          store.findAgreeing(c.metric, c.labels, labels).some((s) => {
            const p = s.ring.last();
            return p !== undefined && pastLine(p.v, c.op, c.threshold);
          })
      : () => true;
  }

  readonly lines: LinesOf = (metric, labels) =>
    linesFor(metric, labels, this.rules(), this.defaults(metric), this.holdsNow);

  private defaults(metric: string): Thresholds | undefined {
    const def = metricDef(metric)?.thresholds;
    const o = this.overrides[metric];
    return def && o ? { ...def, ...o } : def;
  }

  /**
   * The confidence below which an OCR answer is logged "Low-confidence OCR" (WARN): the
   * confidence card's first line, so the log, the card and the rule say the same number.
   */
  ocrLowConfidence(): number | null {
    // The rule's line whether or not an AND's other condition holds now: the log's WARN stays put.
    const l = linesFor('ocr_confidence_mean', {}, this.rules(), this.defaults('ocr_confidence_mean'));
    return (l?.warn ?? l?.crit)?.value ?? null;
  }
}
