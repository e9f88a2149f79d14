// An alert rule as the API takes it and the rules file stores it: validated with zod,
// the one source of the Rule type. Users edit rules in the UI, never as YAML. The API's
// schema is strict (a misspelt key is an error naming it); the file's drops keys it does
// not know, so a file another version wrote is still read. A rule saved before today's
// limits (RULE_LIMITS) is read as it was: it still evaluates, and the Prometheus export
// says it must be edited first.
import { z } from 'zod';
import { channelName } from './channel-type.js';
import { MAX_DURATION_CHARS, parseDuration } from '../duration.js';
import { catalogue, metricDef } from '../metrics/catalogue.js';
import { SERIES_RETENTION_MS } from '../metrics/series-store.js';
import { validationError } from '../validation.js';

/** The longest duration a rule takes: a year is past any hold, baseline or repeat that means something. */
export const MAX_RULE_DURATION_MS = 365 * 86_400_000;

const DURATION_EXAMPLES = 'a duration such as 30s, 2m, 1h or 1h30m';

/** A positive duration of at most MAX_DURATION_CHARS characters, at most `maxMs` long. */
const duration = (maxMs: number, maxText: string) =>
  z
    .string()
    .max(MAX_DURATION_CHARS, { message: `expected at most ${MAX_DURATION_CHARS} characters: ${DURATION_EXAMPLES}` })
    .refine(
      (s) => {
        const ms = parseDuration(s);
        return ms !== null && ms > 0 && ms <= maxMs;
      },
      { message: `expected ${DURATION_EXAMPLES}, at most ${maxText}` },
    );

/**
 * What one rule may hold, so that a rule stays a few kilobytes in alert-rules.json, in every
 * evaluation and in the Prometheus export (a rule with one 40 MiB label, or 300 000 labels,
 * was once accepted). The catalogue's metrics carry at most three labels and their values
 * are route patterns, GPU indices and error codes: 16 matchers of 256 characters leave room.
 */
export const RULE_LIMITS = {
  labels: 16,
  labelNameChars: 64,
  labelValueChars: 256,
  nameChars: 200,
} as const;

/** Prometheus' label names; names starting with __ are its own. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A lone UTF-16 surrogate: no character at all, not writable as UTF-8 (the export, the file). */
const LONE_SURROGATE = /\p{Cs}/u;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);
const TEXT_MESSAGE = 'expected text (a lone UTF-16 surrogate is not a character)';

const labelName = z
  .string()
  .max(RULE_LIMITS.labelNameChars, {
    message: `expected a label name of at most ${RULE_LIMITS.labelNameChars} characters`,
  })
  .regex(LABEL_NAME, {
    message: 'expected a Prometheus label name: letters, digits and _, not starting with a digit',
  })
  .refine((k) => !k.startsWith('__'), { message: 'label names starting with __ are reserved by Prometheus' });

const labelValue = z
  .string()
  // An empty value names no series: the form's "gpu" without "=0" saved a rule that never fired.
  .min(1, { message: 'expected a value: name=value picks those series (leave the label out for all of them)' })
  .max(RULE_LIMITS.labelValueChars, {
    message: `expected a label value of at most ${RULE_LIMITS.labelValueChars} characters`,
  })
  .refine(wellFormed, { message: TEXT_MESSAGE });

/**
 * Label matchers (a rule's, a silence's): Prometheus label names, non-empty values. Counted
 * before each label is checked: 300 000 labels took zod 0.8 s to refuse one by one.
 */
export const labelMatchers = z.preprocess(
  (labels, ctx) => {
    const n = labels !== null && typeof labels === 'object' ? Object.keys(labels).length : 0;
    if (n <= RULE_LIMITS.labels) return labels;
    ctx.addIssue({ code: 'custom', message: `expected at most ${RULE_LIMITS.labels} labels (got ${n})` });
    return z.NEVER;
  },
  z.record(labelName, labelValue),
);

/** What a stored rule's text was held to before RULE_LIMITS: any labels, any name, any positive duration. */
const LENIENT = {
  labels: z.record(z.string(), z.string()),
  name: z.string().min(1),
  duration: duration(Number.MAX_SAFE_INTEGER, 'about 285 000 years'),
};
const STRICT = {
  labels: labelMatchers,
  name: z
    .string()
    .min(1)
    .max(RULE_LIMITS.nameChars, { message: `expected a name of at most ${RULE_LIMITS.nameChars} characters` })
    .refine(wellFormed, { message: TEXT_MESSAGE }),
  duration: duration(MAX_RULE_DURATION_MS, '1y (365d)'),
};
type Limits = typeof STRICT | typeof LENIENT;

const metricName = z
  .string()
  .refine((m) => catalogue.has(m), { message: 'unknown metric; GET /api/monitor/catalogue lists them' });

/** The comparisons a condition takes; the UI's pickers read this list from GET /api/monitor/catalogue. */
export const OPS = ['>', '>=', '<', '<='] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
/** What a missing value means: keep the state, count as OK, or as breaching. */
export const NO_DATA = ['keep', 'ok', 'alert'] as const;
/** The metric each special form of rule works on. */
export const SAMPLE_METRIC = 'gpu_utilization_percent';
export const PER_REQUEST_METRIC = 'input_token_count';
/** What a rule gets when a field is left out (the form starts from these). */
export const RULE_DEFAULTS = {
  severity: 'warning',
  noData: 'keep',
  repeatInterval: '4h',
  channels: ['console'],
} as const;

const conditionShapeOf = (limits: Limits) => ({
  metric: metricName,
  labels: limits.labels.default({}),
  op: z.enum(OPS, { message: `expected one of ${OPS.join(', ')}` }),
  threshold: z.number({ message: 'expected a number' }),
  /** Fire at the Nth consecutive breaching check (check = MONITOR_INTERVAL_MS). */
  consecutiveChecks: z.number().int().min(1).max(10_000).optional(),
  /** Or: fire once the condition has held this long (Prometheus `for`). */
  for: limits.duration.optional(),
});
const conditionShape = conditionShapeOf(STRICT);
export const conditionSchema = z.strictObject(conditionShape);

const ruleShapeOf = (limits: Limits) => ({
  ...conditionShapeOf(limits),
  name: limits.name,
  severity: z
    .enum(SEVERITIES, { message: `expected ${SEVERITIES.slice(0, -1).join(', ')} or ${SEVERITIES.at(-1)}` })
    .default(RULE_DEFAULTS.severity),
  /** Channel names: console (built in) and those configured (GET /api/monitor/alerts/channels). */
  channels: z
    .array(channelName)
    .min(1)
    .max(20)
    .default([...RULE_DEFAULTS.channels]),
  enabled: z.boolean().default(true),
  noData: z.enum(NO_DATA).default(RULE_DEFAULTS.noData),
  /** Hysteresis: once firing, resolve only when the value crosses this instead of the threshold. */
  recoverThreshold: z.number().optional(),
  /** Stay firing this long after the condition clears (anti-flap). */
  keepFiringFor: limits.duration.optional(),
  /**
   * Surge form: compare the percent change of the value against its mean over this
   * baseline window (e.g. RPS up 300 % against its 10-minute mean) with op/threshold.
   */
  surgeBaseline: limits.duration
    .refine((s) => (parseDuration(s) ?? 0) <= SERIES_RETENTION_MS, {
      message: `expected at most ${SERIES_RETENTION_MS / 60_000}m: the baseline must lie within the history the Monitor keeps`,
    })
    .optional(),
  /**
   * Sample form (gpu_utilization_percent only): the condition holds at a check when NVML's
   * own samples since the previous check kept it for at least this many seconds in a row,
   * e.g. "> 98 % lasting more than 5 s" inside a 10 s interval.
   */
  sampleSeconds: z.number().positive().max(3600).optional(),
  /** Per-request form: evaluated on each request event (input_token_count) instead of checks. */
  perRequest: z.boolean().default(false),
  /** Notify again while still firing, this often. */
  repeatInterval: limits.duration
    .refine((s) => (parseDuration(s) ?? Infinity) >= 60_000, {
      message: 'expected at least 1m: a still-firing alert is sent again at most once a minute',
    })
    .default(RULE_DEFAULTS.repeatInterval),
  /** On firing: keep every INFO log line for this many minutes. */
  boostLogMinutes: z.number().min(0).max(1440).optional(),
  /** On firing: attach the most recent model-request log lines to the notice. */
  captureRequests: z.boolean().default(false),
});
const ruleShape = { ...ruleShapeOf(STRICT), and: conditionSchema.optional() };

type RuleShape = z.infer<z.ZodObject<typeof ruleShape>>;

/** A rule's conditions with where each sits in the body: the rule itself, and its `and`. */
const conditionsOf = (r: RuleShape) => [
  { c: r, path: [] as string[] },
  ...(r.and ? [{ c: r.and, path: ['and'] }] : []),
];

function checkRule(r: RuleShape, ctx: z.RefinementCtx): void {
  for (const { c, path } of conditionsOf(r)) {
    if (c.consecutiveChecks !== undefined && c.for !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'for'],
        message: 'consecutiveChecks and for are alternatives: give one',
      });
    }
  }
  if (r.sampleSeconds !== undefined && r.metric !== SAMPLE_METRIC) {
    ctx.addIssue({
      code: 'custom',
      path: ['sampleSeconds'],
      message: `sample-based rules work on ${SAMPLE_METRIC} (NVML's utilisation samples)`,
    });
  }
  if (r.perRequest && r.metric !== PER_REQUEST_METRIC) {
    ctx.addIssue({ code: 'custom', path: ['perRequest'], message: `per-request rules work on ${PER_REQUEST_METRIC}` });
  }
  if (r.recoverThreshold !== undefined) {
    const above = r.op === '>' || r.op === '>=';
    if (above ? r.recoverThreshold > r.threshold : r.recoverThreshold < r.threshold) {
      ctx.addIssue({
        code: 'custom',
        path: ['recoverThreshold'],
        message: `expected a value on the healthy side of the threshold (${above ? '≤' : '≥'} ${r.threshold})`,
      });
    }
  }
}

/**
 * A label the metric does not have matches none of its series: such a rule is saved and
 * never fires, silently. Asked of what the API takes; a stored rule is loaded as it is.
 */
function checkLabels(r: RuleShape, ctx: z.RefinementCtx): void {
  for (const { c, path } of conditionsOf(r)) {
    const has = metricDef(c.metric)?.labels;
    if (!has) continue;
    for (const name of Object.keys(c.labels ?? {})) {
      if (has.includes(name)) continue;
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'labels', name],
        message: `${c.metric} has no label ${name} (${has.length ? `its labels: ${has.join(', ')}` : 'it has none'})`,
      });
    }
  }
}

export const ruleInputSchema = z.strictObject(ruleShape).superRefine(checkRule).superRefine(checkLabels);
const storedShape = { ...ruleShapeOf(LENIENT), and: z.object(conditionShapeOf(LENIENT)).optional(), id: z.string() };
/** As the rules file holds a rule: with its id. */
export const storedRuleSchema = z.object(storedShape).superRefine(checkRule);
/**
 * A rule as the API answers it: the parsed input, defaults filled in, with its id; a rule
 * saved by an earlier version may lie outside today's limits (outsideRuleLimits says so).
 */
export const ruleAnswerSchema = z.object(storedShape);

/**
 * Why a stored rule is outside the limits the API holds rules to today (a rule saved by an
 * earlier version), or null: what the Prometheus export checks before writing a rule.
 */
export function outsideRuleLimits(rule: Rule): string | null {
  const { id: _id, ...input } = rule;
  const r = ruleInputSchema.safeParse(input);
  return r.success ? null : validationError(r.error, input).message;
}

export type RuleInput = z.input<typeof ruleInputSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type Rule = z.infer<typeof ruleInputSchema> & { id: string };
export type Severity = (typeof SEVERITIES)[number];
