// Pure rule evaluation, after Prometheus' AlertingRule.Eval: a function of (rules, the
// series store, the previous states, now) that returns the new states and the changes.
// No timers, no I/O, no argument changed: the scheduler calls it after each check and keeps
// what it returns; tests call it directly.
import { parseDuration } from '../duration.js';
import { pastLine } from '../value-range.js';
import { STALE_AFTER_CHECKS, type Labels, type SeriesStore } from '../metrics/series-store.js';
import { sampleRuns, type OngoingRun, type UtilSample } from '../metrics/sample-runs.js';

import type { Condition, Rule } from './rule-schema.js';

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface AlertInstance {
  ruleId: string;
  /** Label set of the series this instance watches. */
  labels: Labels;
  state: AlertState;
  /** Consecutive breaching checks so far. */
  breaches: number;
  breachSince: number | null;
  firingSince: number | null;
  /** Last time the condition held (for keepFiringFor). */
  lastBreachAt: number | null;
  value: number | null;
  /**
   * An AND rule's second condition: its value at the last check (the breaching series', or
   * else the first one's), which a notice gives beside the first.
   */
  andValue?: number | null;
  /** Values of the checks that breached, newest last (at most 20). */
  breachPoints: Array<[number, number]>;
  lastNotifiedAt: number | null;
  /** A firing notice was held back by a silence: send it once the silence ends. */
  suppressed: boolean;
  /** Who acknowledged the firing alert in the console (cleared when it resolves). */
  acknowledgedBy?: string;
  /** Sample-based rules: the run still holding at the last NVML sample, carried to the next check. */
  sampleRun?: OngoingRun | null;
}

export interface StateChange {
  ruleId: string;
  labels: Labels;
  from: AlertState;
  to: AlertState;
  at: number;
  value: number | null;
  /** An AND rule's second condition's value at the same check. */
  andValue?: number | null;
}

/** Alert instances by instanceKey: what evaluate() returns is never changed afterwards (a new map replaces it). */
export type States = ReadonlyMap<string, Readonly<AlertInstance>>;

export const instanceKey = (ruleId: string, labels: Labels) =>
  `${ruleId}|${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')}`;

/** A condition's comparison: the one every line and summary judges by (value-range.ts). */
export const compare: (v: number, op: Condition['op'], t: number) => boolean = pastLine;

/** A rule's durations in milliseconds: parsed once per rule, not at every check. */
interface RuleTimings {
  forMs: number | null;
  andForMs: number | null;
  keepFiringMs: number;
  surgeBaselineMs: number | null;
  /** How often a still-firing alert is notified again. */
  repeatMs: number;
}
const timingsByRule = new WeakMap<Rule, RuleTimings>();

/** Rules are immutable once loaded (a change makes a new object), so a WeakMap is a safe cache. */
export function ruleTimings(rule: Rule): RuleTimings {
  let t = timingsByRule.get(rule);
  if (!t) {
    const ms = (d: string | undefined) => (d === undefined ? null : parseDuration(d));
    t = {
      forMs: ms(rule.for),
      andForMs: ms(rule.and?.for),
      keepFiringMs: ms(rule.keepFiringFor) ?? 0,
      surgeBaselineMs: ms(rule.surgeBaseline),
      repeatMs: ms(rule.repeatInterval) ?? 4 * 3_600_000,
    };
    timingsByRule.set(rule, t);
  }
  return t;
}

/** The AND condition's own progress, per alert instance. */
export type AndStates = ReadonlyMap<string, { breaches: number; since: number | null }>;

interface Ctx {
  store: SeriesStore;
  now: number;
  intervalMs: number;
  samples?: SampleSource;
}

/** NVML utilisation samples since the previous check, by GPU label. */
export type SampleSource = (gpu: string) => readonly UtilSample[] | undefined;

/** The value a series has at this check: its point from within half an interval. */
function currentValue(ctx: Ctx, metric: string, labels: Labels): number | null {
  const p = ctx.store.latest(metric, labels);
  return p && p.t >= ctx.now - ctx.intervalMs / 2 ? p.v : null;
}

/** Percent change of the current value against the mean of the baseline window before it. */
function surgePercent(ctx: Ctx, metric: string, labels: Labels, value: number, baselineMs: number): number | null {
  const ring = ctx.store.ring(metric, labels);
  if (!ring) return null;
  const mean = ring.meanBetween(ctx.now - baselineMs, ctx.now - ctx.intervalMs / 2);
  if (mean === null) return null;
  if (mean === 0) return value > 0 ? Infinity : 0;
  return ((value - mean) / Math.abs(mean)) * 100;
}

/** Whether a condition's duration is met, given consecutive breaches and breach start. */
function durationMet(c: Condition, forMs: number | null, breaches: number, since: number | null, now: number): boolean {
  if (forMs !== null) return since !== null && now - since >= forMs;
  return breaches >= (c.consecutiveChecks ?? 1);
}

/**
 * The second (AND) condition, on the series of its metric that share the label values
 * both conditions have in common, with its own duration: its progress goes into `next`.
 */
function andHolds(
  ctx: Ctx,
  c: Condition,
  forMs: number | null,
  labels: Labels,
  prev: AndStates,
  next: Map<string, { breaches: number; since: number | null }>,
  key: string,
): { holds: boolean; value: number | null } {
  // Series of the second metric that agree with this instance on every label they share.
  const candidates = ctx.store.findAgreeing(c.metric, c.labels, labels);
  const s = prev.get(key) ?? { breaches: 0, since: null };
  let value: number | null = null;
  let breaching = false;
  for (const series of candidates) {
    const v = currentValue(ctx, c.metric, series.labels);
    if (v === null) continue;
    value ??= v;
    if (compare(v, c.op, c.threshold)) {
      value = v;
      breaching = true;
      break;
    }
  }
  const progress = breaching ? { breaches: s.breaches + 1, since: s.since ?? ctx.now } : { breaches: 0, since: null };
  next.set(key, progress);
  return { holds: breaching && durationMet(c, forMs, progress.breaches, progress.since, ctx.now), value };
}

export interface EvaluationInput {
  rules: readonly Rule[];
  store: SeriesStore;
  /** The states the previous evaluation returned (empty at first). */
  states: States;
  /** The AND conditions' progress the previous evaluation returned (empty at first). */
  andStates: AndStates;
  now: number;
  intervalMs: number;
  /** NVML utilisation samples since the previous check, for sample-based rules. */
  samples?: SampleSource | undefined;
}

export interface EvaluationResult {
  states: States;
  andStates: AndStates;
  changes: StateChange[];
}

export function evaluate(input: EvaluationInput): EvaluationResult {
  const { rules, store, states: prev, now, intervalMs } = input;
  const ctx: Ctx = { store, now, intervalMs, ...(input.samples ? { samples: input.samples } : {}) };
  const states = new Map<string, AlertInstance>();
  const andStates = new Map<string, { breaches: number; since: number | null }>();
  const changes: StateChange[] = [];
  // Earlier instances by rule, indexed once (not scanned once per rule).
  const prevByRule = new Map<string, Array<[string, AlertInstance]>>();
  for (const entry of prev) {
    const list = prevByRule.get(entry[1].ruleId);
    if (list) list.push(entry);
    else prevByRule.set(entry[1].ruleId, [entry]);
  }
  for (const rule of rules) {
    if (!rule.enabled || rule.perRequest) continue;
    const series = store.find(rule.metric, rule.labels);
    // Instances: every matching series, plus earlier instances whose series went quiet.
    const labelSets = new Map<string, Labels>(series.map((s) => [instanceKey(rule.id, s.labels), s.labels]));
    for (const [key, inst] of prevByRule.get(rule.id) ?? []) if (!labelSets.has(key)) labelSets.set(key, inst.labels);
    if (labelSets.size === 0 && rule.noData === 'alert') labelSets.set(instanceKey(rule.id, rule.labels), rule.labels);

    for (const [key, labels] of labelSets) {
      const old = prev.get(key);
      const inst: AlertInstance = old
        ? { ...old, breachPoints: [...old.breachPoints] }
        : {
            ruleId: rule.id,
            labels,
            state: 'inactive',
            breaches: 0,
            breachSince: null,
            firingSince: null,
            lastBreachAt: null,
            value: null,
            breachPoints: [],
            lastNotifiedAt: null,
            suppressed: false,
          };
      const timings = ruleTimings(rule);
      let value = currentValue(ctx, rule.metric, labels);
      if (value !== null && timings.surgeBaselineMs !== null)
        value = surgePercent(ctx, rule.metric, labels, value, timings.surgeBaselineMs);
      let sampleBreaching: boolean | null = null;
      if (rule.sampleSeconds !== undefined) {
        const samples = ctx.samples?.(labels.gpu ?? '');
        if (samples?.length) {
          const runs = sampleRuns(samples, (v) => compare(v, rule.op, rule.threshold), old?.sampleRun ?? null);
          sampleBreaching = runs.longestSeconds >= rule.sampleSeconds;
          inst.sampleRun = runs.ongoing;
        } else {
          value = null;
        }
      }
      inst.value = value;

      let breaching: boolean;
      if (sampleBreaching !== null) {
        breaching = sampleBreaching;
      } else if (value === null) {
        // `keep` rides out a missing check or two, but not a series that is gone: past the
        // point where the Monitor itself calls a series stale (its cards show no value), the
        // alert resolves, as Prometheus resolves the exported rule once the series is stale.
        // A figure a check found empty (no requests in the window: no error rate) is gone at
        // once, as the exported rule's 0/0 is in Prometheus; no check missed.
        const emptied = store.ring(rule.metric, labels)?.emptySince != null;
        const gone =
          emptied || (inst.lastBreachAt !== null && now - inst.lastBreachAt >= intervalMs * STALE_AFTER_CHECKS);
        if (rule.noData === 'keep' && !gone) {
          states.set(key, inst);
          continue;
        }
        breaching = rule.noData === 'alert';
      } else if (inst.state === 'firing' && rule.recoverThreshold !== undefined) {
        // Hysteresis: stay firing until the value crosses the recovery threshold.
        const above = rule.op === '>' || rule.op === '>=';
        breaching = above ? value > rule.recoverThreshold : value < rule.recoverThreshold;
      } else {
        breaching = compare(value, rule.op, rule.threshold);
      }
      // The second condition is evaluated at every check, so its own duration counts its
      // own breaches, not only those of checks where the first condition also held.
      if (rule.and) {
        const second = andHolds(ctx, rule.and, timings.andForMs, labels, input.andStates, andStates, key);
        breaching = breaching && second.holds;
        inst.andValue = second.value;
      }

      const from = inst.state;
      if (breaching) {
        inst.breaches++;
        inst.breachSince ??= now;
        inst.lastBreachAt = now;
        if (value !== null) inst.breachPoints = [...inst.breachPoints, [now, value] as [number, number]].slice(-20);
        if (inst.state !== 'firing')
          inst.state = durationMet(rule, timings.forMs, inst.breaches, inst.breachSince, now) ? 'firing' : 'pending';
        if (inst.state === 'firing' && from !== 'firing') inst.firingSince = now;
      } else {
        const stillKept =
          inst.state === 'firing' && inst.lastBreachAt !== null && now - inst.lastBreachAt < timings.keepFiringMs;
        inst.breaches = 0;
        inst.breachSince = null;
        if (!stillKept) {
          // firingSince stays: the resolve notice says when the alert began (Alertmanager's
          // startsAt); it is set anew when the alert fires again.
          inst.state = 'inactive';
          inst.breachPoints = [];
          delete inst.acknowledgedBy;
        }
      }
      if (inst.state !== from)
        changes.push({
          ruleId: rule.id,
          labels,
          from,
          to: inst.state,
          at: now,
          value,
          ...(rule.and ? { andValue: inst.andValue ?? null } : {}),
        });
      // Quiet, inactive instances of vanished series are dropped: states stay bounded (one
      // that resolves now is kept for this check, so its resolve notice has its start).
      if (inst.state === 'inactive' && from === 'inactive' && !series.some((s) => s.labels === labels)) continue;
      states.set(key, inst);
    }
  }
  // AND-condition trackers of instances that no longer exist (deleted rules, gone series).
  for (const key of andStates.keys()) if (!states.has(key)) andStates.delete(key);
  return { states, andStates, changes };
}
