// An alert rule as the API takes it and the rules file stores it: validated with zod,
// the one source of the Rule type. Users edit rules in the UI, never as YAML. The API's
// schema is strict (a misspelt key is an error naming it); the file's drops keys it does
// not know, so a file another version wrote is still read.
import { z } from 'zod';
import { channelName } from './channel-type.js';
import { parseDuration } from '../duration.js';
import { catalogue } from '../metrics/catalogue.js';
import { SERIES_RETENTION_MS } from '../metrics/series-store.js';

const durationText = z.string().refine(
  (s) => {
    const ms = parseDuration(s);
    return ms !== null && ms > 0;
  },
  { message: 'expected a duration such as 30s, 2m or 1h' },
);

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

const conditionShape = {
  metric: metricName,
  labels: z.record(z.string(), z.string()).default({}),
  op: z.enum(OPS, { message: `expected one of ${OPS.join(', ')}` }),
  threshold: z.number({ message: 'expected a number' }),
  /** Fire at the Nth consecutive breaching check (check = MONITOR_INTERVAL_MS). */
  consecutiveChecks: z.number().int().min(1).max(10_000).optional(),
  /** Or: fire once the condition has held this long (Prometheus `for`). */
  for: durationText.optional(),
};
export const conditionSchema = z.strictObject(conditionShape);

const ruleShape = {
  ...conditionShape,
  name: z.string().min(1).max(200),
  and: conditionSchema.optional(),
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
  keepFiringFor: durationText.optional(),
  /**
   * Surge form: compare the percent change of the value against its mean over this
   * baseline window (e.g. RPS up 300 % against its 10-minute mean) with op/threshold.
   */
  surgeBaseline: durationText
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
  repeatInterval: durationText
    .refine((s) => (parseDuration(s) ?? Infinity) >= 60_000, {
      message: 'expected at least 1m: a still-firing alert is sent again at most once a minute',
    })
    .default(RULE_DEFAULTS.repeatInterval),
  /** On firing: keep every INFO log line for this many minutes. */
  boostLogMinutes: z.number().min(0).max(1440).optional(),
  /** On firing: attach the most recent model-request log lines to the notice. */
  captureRequests: z.boolean().default(false),
};

type RuleShape = z.infer<z.ZodObject<typeof ruleShape>>;

function checkRule(r: RuleShape, ctx: z.RefinementCtx): void {
  const conditions: Array<{ c: { consecutiveChecks?: number | undefined; for?: string | undefined }; path: string[] }> =
    [{ c: r, path: [] }];
  if (r.and) conditions.push({ c: r.and, path: ['and'] });
  for (const { c, path } of conditions) {
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

export const ruleInputSchema = z.strictObject(ruleShape).superRefine(checkRule);
/** As the rules file holds a rule: with its id. */
export const storedRuleSchema = z
  .object({ ...ruleShape, and: z.object(conditionShape).optional(), id: z.string() })
  .superRefine(checkRule);

export type RuleInput = z.input<typeof ruleInputSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type Rule = z.infer<typeof ruleInputSchema> & { id: string };
export type Severity = (typeof SEVERITIES)[number];
