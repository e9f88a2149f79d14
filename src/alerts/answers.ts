// What the alert API answers, besides rules, silences and history (whose schemas live with
// them): declared once here, they type the handlers and describe the answers in /docs/json.
import { z } from 'zod';
import { pointPair } from '../metrics/ring-series.js';
import { historyEntrySchema } from './history.js';
import { ruleAnswerSchema } from './rule-schema.js';
import { whySchema } from './why.js';

const labels = z.record(z.string(), z.string());

/** A pending or firing alert, as GET /api/monitor/alerts/active lists it. */
export const activeAlertSchema = z.object({
  ruleId: z.string(),
  ruleName: z.string(),
  severity: z.string(),
  labels: labels.describe('The label set of the series it watches'),
  state: z.enum(['pending', 'firing']),
  breaches: z.number().int().describe('Consecutive breaching checks so far'),
  breachSince: z.number().nullable().describe('When the breach began (ms since the epoch)'),
  firingSince: z.number().nullable(),
  lastBreachAt: z.number().nullable(),
  value: z.number().nullable(),
  andValue: z.number().nullable().optional().describe("An AND rule's second condition: its value at the last check"),
  breachPoints: z.array(pointPair).describe('[time ms, value] of the breaching checks, newest last'),
  lastNotifiedAt: z.number().nullable(),
  suppressed: z.boolean().describe('A notice is held back by a silence'),
  acknowledgedBy: z.string().optional(),
  why: whySchema
    .optional()
    .describe('What changed with it, ranked (worked out when it starts, again at most once a minute)'),
});
export type ActiveAlert = z.infer<typeof activeAlertSchema>;

/** A preset, and where it stands against the rules and channels set up. */
export const presetAnswerSchema = z.object({
  id: z.string(),
  description: z.string(),
  rule: ruleAnswerSchema.omit({ id: true }).describe('The rule an import adds, as preset:<id>'),
  imported: z.boolean(),
  channelsNotSetUp: z.array(z.string()).describe('Channels it names that are not set up: an import leaves them out'),
  channelsLeftOut: z
    .array(z.string())
    .describe('Channels its imported rule lacks: import again to add those set up since'),
});

export const presetImportSchema = z.object({
  rule: ruleAnswerSchema,
  channelsNotSetUp: z.array(z.string()),
});

export const channelTestSchema = z.object({
  channel: z.string(),
  delivered: z.boolean(),
  attempts: z.array(historyEntrySchema),
});

export const ackBodySchema = z.strictObject({
  ruleId: z.string().min(1),
  labels: labels.default({}),
  by: z.string().max(100).default('operator'),
  /** A per-request notice: the request it is about (it is dismissed, not acknowledged). */
  requestId: z.string().min(1).max(200).optional(),
});

export const ackAnswerSchema = z.union([
  z.object({ acknowledged: z.literal(true) }),
  z.object({ dismissed: z.literal(true) }),
]);
