// What a notice tells the operator beyond "it fired": the value against the threshold,
// the breaching checks, the last ERROR line of the alert's module (never the Monitor's
// own delivery errors) and the WARN lines before it, GPU temperatures, the top client of
// the last 5 minutes, a link to the Monitor, and, when asked, the recent model requests
// or the lowest-confidence OCR images. Reads the log, the store and the client stats;
// sends nothing.
import type { EventLog, LogLine } from '../log/event-log.js';
import { formatLine } from '../log/event-log.js';
import { englishSummary } from '../alert-summary.js';
import { metricDef } from '../metrics/catalogue.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { gpuTag } from '../probes/gpu-label.js';
import type { AlertInstance } from './evaluate.js';
import type { AlertContext, AlertPayload, TopClientLoad } from './notifier.js';
import type { Rule } from './rule-schema.js';

export interface OcrSampleSource {
  lowest(
    now: number,
    limit: number,
  ): Array<{ file: string; imageHash: string; confidence: number; lang: string | null; requestId: string; at: number }>;
  read(file: string): Promise<Buffer | null>;
  link(file: string, now: number): string;
}

export interface ContextSources {
  log: EventLog;
  store: SeriesStore;
  clients: ClientStats;
  monitorUrl: string;
  /** The lowest-confidence OCR images, attached to OCR alerts when kept (opt-in). */
  ocrSamples?: OcrSampleSource | undefined;
}

/** The top client's window: the last 5 minutes. */
const TOP_CLIENT_WINDOW_MINUTES = 5;

/** "classroom-3 (12.3 request-s, 41 requests in 5 min)": the top client as mail and webhooks print it. */
export function topClientText(t: TopClientLoad): string {
  const requests = `${t.requests} ${t.requests === 1 ? 'request' : 'requests'}`;
  return `${t.client} (${t.requestSeconds.toFixed(1)} request-s, ${requests} in ${t.windowMinutes} min)`;
}

/** Samples attached to an OCR alert: the few lowest, enough to see what went wrong. */
const SAMPLES_PER_ALERT = 3;
const MODEL_MODULES = new Set(['vlm', 'gui', 'ocr', 'video']);

/** The Monitor's own module: its lines are about notices (a channel down), never a service's cause. */
const OWN_MODULE = 'alert';
/** Log modules a metric's name starts with (`ocr_confidence_mean` → ocr). */
const METRIC_MODULES = new Set(['ocr', 'gui', 'video', 'gpu']);

/** The log module an alert is about: its `module` label, else its metric's prefix; undefined for the service as a whole. */
export function moduleOf(rule: Rule, labels: Record<string, string>): string | undefined {
  if (labels.module) return labels.module;
  const prefix = rule.metric.slice(0, rule.metric.indexOf('_'));
  return METRIC_MODULES.has(prefix) ? prefix : undefined;
}

/** How far back a module's own ERROR is looked for before another module's will do (kept lines). */
const OWN_LOOKBACK = 10_000;
/** How far before its ERROR a WARN line still counts as leading up to it (kept lines). */
const WARN_LOOKBACK = 200;

/**
 * The ERROR line that says most about an alert, and up to three WARN lines of the same
 * module before it: the last ERROR of the alert's own module; where that module has none
 * in the last OWN_LOOKBACK lines (or the alert has no module: latency, error rate), the
 * last ERROR of any module but the Monitor's own. A delivery failure ("alert delivery
 * failed", a channel not set up) is never the cause of an alert, so the alert module's
 * lines are never picked.
 */
export function errorContext(
  log: EventLog,
  module: string | undefined,
): { lastError?: LogLine; warningsBefore: LogLine[] } {
  let own: LogLine | undefined;
  let other: LogLine | undefined;
  let scanned = 0;
  for (const line of log.newestFirst()) {
    if (line.level === 'ERROR' && line.module !== OWN_MODULE) {
      if (line.module === module) {
        own = line;
        break;
      }
      other ??= line;
      if (module === undefined) break;
    }
    if (++scanned >= OWN_LOOKBACK && other) break;
  }
  const lastError = own ?? other;
  if (!lastError) return { warningsBefore: [] };
  const warningsBefore: LogLine[] = [];
  for (let seq = lastError.seq - 1; seq > lastError.seq - WARN_LOOKBACK && warningsBefore.length < 3; seq--) {
    const line = log.get(seq);
    if (!line) break;
    if (line.level === 'WARN' && line.module === lastError.module) warningsBefore.push(line);
  }
  return { lastError, warningsBefore };
}

/**
 * One alert as every channel receives it. `resolvedAt`: when a resolved alert ended (now
 * for a fresh resolve; the original time when it is sent again).
 */
export function alertPayload(
  src: ContextSources,
  rule: Rule,
  inst: Pick<AlertInstance, 'labels' | 'value' | 'andValue' | 'firingSince' | 'breachPoints'>,
  status: 'firing' | 'resolved',
  now: number,
  resolvedAt = now,
): AlertPayload {
  const { lastError, warningsBefore } = errorContext(src.log, moduleOf(rule, inst.labels));
  const gpuTemperatureCelsius: Record<string, number> = {};
  for (const s of src.store.find('gpu_temperature_celsius')) {
    const p = s.ring.last();
    if (p) gpuTemperatureCelsius[gpuTag(s.labels.gpu ?? '?')] = p.v;
  }
  const top = src.clients.top(now, TOP_CLIENT_WINDOW_MINUTES * 60_000, 1).byRequestSeconds[0];
  // Numbers for the browser, which says them in its language; English for the receivers.
  const topClientLoad: TopClientLoad | null = top
    ? {
        client: top.client,
        requestSeconds: Math.round(top.requestSeconds * 10) / 10,
        requests: top.requests,
        windowMinutes: TOP_CLIENT_WINDOW_MINUTES,
      }
    : null;
  const context: AlertContext = {
    value: inst.value,
    threshold: rule.threshold,
    op: rule.op,
    breachPoints: inst.breachPoints,
    lastError: lastError ? formatLine(lastError) : null,
    warningsBefore: warningsBefore.map(formatLine),
    gpuTemperatureCelsius,
    topClient: topClientLoad ? topClientText(topClientLoad) : null,
    topClientLoad,
    ...(rule.and
      ? {
          and: {
            metric: rule.and.metric,
            op: rule.and.op,
            threshold: rule.and.threshold,
            value: inst.andValue ?? null,
          },
        }
      : {}),
    ...(rule.surgeBaseline ? { surgeBaseline: rule.surgeBaseline } : {}),
    monitorUrl: src.monitorUrl,
  };
  // An alert about OCR shows what the model was reading when its confidence was lowest.
  const aboutOcr = rule.metric.startsWith('ocr_') || (rule.and?.metric.startsWith('ocr_') ?? false);
  if (aboutOcr && status === 'firing' && src.ocrSamples) {
    const samples = src.ocrSamples.lowest(now, SAMPLES_PER_ALERT);
    if (samples.length) {
      const link = src.ocrSamples.link.bind(src.ocrSamples);
      context.samples = samples.map((s) => ({
        file: s.file,
        imageHash: s.imageHash,
        confidence: Math.round(s.confidence * 1000) / 1000,
        lang: s.lang,
        requestId: s.requestId,
        at: new Date(s.at).toISOString(),
        url: link(s.file, now),
      }));
    }
  }
  if (rule.captureRequests && status === 'firing') {
    context.recentRequests = src.log
      .query({ limit: 200 })
      .filter((l) => MODEL_MODULES.has(l.module))
      .slice(0, 20)
      .map(formatLine);
  }
  return {
    ruleId: rule.id,
    ruleName: rule.name,
    severity: rule.severity,
    metric: rule.metric,
    labels: { ...inst.labels },
    status,
    startsAt: new Date(inst.firingSince ?? now).toISOString(),
    endsAt: status === 'resolved' ? new Date(resolvedAt).toISOString() : null,
    // The console's popup says the same sentence (alert-summary.ts), in the page's language.
    summary: englishSummary({
      metric: rule.metric,
      unit: metricDef(rule.metric)?.unit,
      value: inst.value,
      op: rule.op,
      threshold: rule.threshold,
      surgeBaseline: rule.surgeBaseline,
      resolved: status === 'resolved',
      and: context.and && { ...context.and, unit: metricDef(context.and.metric)?.unit },
    }),
    context,
  };
}
