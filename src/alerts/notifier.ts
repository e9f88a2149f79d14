// One interface for every way an alert leaves the server (after Alertmanager's
// notifiers): each notifier formats and sends; whether to retry is its call; queueing,
// backoff and history live once, in delivery.ts.
import { z } from 'zod';
import { type ReasonPart, wordReason } from '../reasons.js';
import { SEVERITIES } from './rule-schema.js';
import { whySchema } from './why.js';

/** The top client as numbers, for the browser to say in its language. */
export const topClientLoadSchema = z.object({
  client: z.string(),
  /** Seconds its requests spent in inference in the window, added up. */
  requestSeconds: z.number(),
  requests: z.number(),
  windowMinutes: z.number(),
});
export type TopClientLoad = z.infer<typeof topClientLoadSchema>;

export const ocrSampleRefSchema = z.object({
  file: z.string(),
  imageHash: z.string(),
  confidence: z.number(),
  lang: z.string().nullable(),
  requestId: z.string(),
  at: z.string(),
  /** A signed link to the thumbnail (absolute when PUBLIC_URL is set), valid 24 h. */
  url: z.string(),
});
export type OcrSampleRef = z.infer<typeof ocrSampleRefSchema>;

// What a notice carries, as schemas: the stream's API description (stream-hub.ts) shows
// them, and the types every channel formats from are theirs.
export const alertContextSchema = z.object({
  value: z.number().nullable(),
  threshold: z.number(),
  op: z.string(),
  /** [time, value] of the checks that breached, newest last. */
  // (Described as a pair of numbers: OpenAPI 3.0 has no tuples, and the two-item anyOf it would write repeats itself.)
  breachPoints: z.array(
    z.tuple([z.number(), z.number()]).meta({ items: { type: 'number' }, minItems: 2, maxItems: 2 }),
  ),
  lastError: z.string().nullable(),
  warningsBefore: z.array(z.string()),
  gpuTemperatureCelsius: z.record(z.string(), z.number()),
  /** The top client in English, as mail, webhooks and Alertmanager print it. */
  topClient: z.string().nullable(),
  /** The same as numbers, for the browser to say in its language. */
  topClientLoad: topClientLoadSchema.nullable(),
  /** An AND rule's second condition, and its value at the check (a notice gives both). */
  and: z.object({ metric: z.string(), op: z.string(), threshold: z.number(), value: z.number().nullable() }).optional(),
  /** Surge rules: the baseline window the change is against (e.g. "10m"). */
  surgeBaseline: z.string().optional(),
  monitorUrl: z.string(),
  /** Recent model-request log lines, for rules with captureRequests. */
  recentRequests: z.array(z.string()).optional(),
  /** Per-request alerts: the request that triggered it. */
  request: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
  /** OCR alerts: the lowest-confidence images of the last hour (OCR_LOW_CONFIDENCE_SAMPLES). */
  samples: z.array(ocrSampleRefSchema).optional(),
  /** What changed with it, as numbers (why.ts), for the browser to say in its language. */
  why: whySchema.optional(),
  /** The same, its first three lines in English, as mail, webhooks and Alertmanager print them. */
  whyLines: z.array(z.string()).optional(),
});
export type AlertContext = z.infer<typeof alertContextSchema>;

export const alertPayloadSchema = z.object({
  ruleId: z.string(),
  ruleName: z.string(),
  severity: z.enum(SEVERITIES),
  metric: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(['firing', 'resolved']),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  summary: z.string(),
  context: alertContextSchema,
});
export type AlertPayload = z.infer<typeof alertPayloadSchema>;

/** An acknowledgement, or a per-request notice dismissed (with its requestId): every tab closes the notice. */
export const alertAckSchema = z.object({
  ruleId: z.string(),
  labels: z.record(z.string(), z.string()),
  requestId: z.string().optional(),
  by: z.string(),
  at: z.number(),
});
export type AlertAck = z.infer<typeof alertAckSchema>;

export const notificationSchema = z.object({
  id: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(alertPayloadSchema),
  /** A test notification from the UI. */
  test: z.boolean().optional(),
  /** Only alerts already notified, sent again because the receiver expects it (Alertmanager). */
  resend: z.boolean().optional(),
});
export type Notification = z.infer<typeof notificationSchema>;

/** `detailParts`: the detail as codes (src/reasons.ts), which the history words in the page's language. */
export type SendResult =
  | { ok: true; detail?: string; detailParts?: ReasonPart[] }
  | { ok: false; retry: boolean; error: string };

/** A delivery that worked, its detail in English and as codes. */
export const delivered = (...parts: ReasonPart[]): SendResult => ({
  ok: true,
  detail: wordReason(parts),
  detailParts: parts,
});

export interface Notifier {
  /** The channel type (console, email, webhook, alertmanager). */
  readonly kind: string;
  send(n: Notification, signal: AbortSignal): Promise<SendResult>;
}
