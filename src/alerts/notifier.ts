// One interface for every way an alert leaves the server (after Alertmanager's
// notifiers): each notifier formats and sends; whether to retry is its call; queueing,
// backoff and history live once, in delivery.ts.
import type { Severity } from './rule-schema.js';
import type { Why } from './why.js';

export interface AlertContext {
  value: number | null;
  threshold: number;
  op: string;
  /** [time, value] of the checks that breached, newest last. */
  breachPoints: Array<[number, number]>;
  lastError: string | null;
  warningsBefore: string[];
  gpuTemperatureCelsius: Record<string, number>;
  /** The top client in English, as mail, webhooks and Alertmanager print it. */
  topClient: string | null;
  /** The same as numbers, for the browser to say in its language. */
  topClientLoad: TopClientLoad | null;
  /** Surge rules: the baseline window the change is against (e.g. "10m"). */
  surgeBaseline?: string;
  monitorUrl: string;
  /** Recent model-request log lines, for rules with captureRequests. */
  recentRequests?: string[];
  /** Per-request alerts: the request that triggered it. */
  request?: Record<string, string | number | null>;
  /** OCR alerts: the lowest-confidence images of the last hour (OCR_LOW_CONFIDENCE_SAMPLES). */
  samples?: OcrSampleRef[];
  /** What changed with it, as numbers (why.ts), for the browser to say in its language. */
  why?: Why;
  /** The same, its first three lines in English, as mail, webhooks and Alertmanager print them. */
  whyLines?: string[];
}

export interface TopClientLoad {
  client: string;
  /** Seconds its requests spent in inference in the window, added up. */
  requestSeconds: number;
  requests: number;
  windowMinutes: number;
}

export interface OcrSampleRef {
  file: string;
  imageHash: string;
  confidence: number;
  lang: string | null;
  requestId: string;
  at: string;
  /** A signed link to the thumbnail (absolute when PUBLIC_URL is set), valid 24 h. */
  url: string;
}

export interface AlertPayload {
  ruleId: string;
  ruleName: string;
  severity: Severity;
  metric: string;
  labels: Record<string, string>;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt: string | null;
  summary: string;
  context: AlertContext;
}

/** An acknowledgement, or a per-request notice dismissed (with its requestId): every tab closes the notice. */
export interface AlertAck {
  ruleId: string;
  labels: Record<string, string>;
  requestId?: string;
  by: string;
  at: number;
}

export interface Notification {
  id: string;
  status: 'firing' | 'resolved';
  alerts: AlertPayload[];
  /** A test notification from the UI. */
  test?: boolean;
  /** Only alerts already notified, sent again because the receiver expects it (Alertmanager). */
  resend?: boolean;
}

export type SendResult = { ok: true; detail?: string } | { ok: false; retry: boolean; error: string };

export interface Notifier {
  /** The channel type (console, email, webhook, alertmanager). */
  readonly kind: string;
  send(n: Notification, signal: AbortSignal): Promise<SendResult>;
}
