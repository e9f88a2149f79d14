// The alert engine's state and its edges: rules and channels persisted under DATA_DIR,
// evaluation after every check (pure evaluate()), one notification per state change
// (grouped per check and channel, repeated while firing at the rule's repeatInterval),
// per-request rules, context for the operator, delivery queues and history.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import type { EventLog } from '../log/event-log.js';
import { formatLine } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { RequestEvent } from '../metrics/model-stats.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { ChannelQueue, type Attempt } from './delivery.js';
import { compare, evaluate, instanceKey, ruleTimings, type AlertInstance, type AndStates, type SampleSource, type StateChange, type States } from './evaluate.js';
import { AppError } from '../errors.js';
import { JsonFile, type FileIo } from './json-file.js';
import { looksMasked, maskUrl } from './mask-url.js';
import type { AlertContext, AlertPayload, Notification, Notifier } from './notifier.js';
import { consoleNotifier } from './notifiers/console.js';
import { emailNotifier } from './notifiers/email.js';
import { webhookNotifier } from './notifiers/webhook.js';
import { WEBHOOK_FORMATS } from './notifiers/webhook-formats.js';
import { PRESETS } from './presets.js';
import { ruleInputSchema, type Rule, type RuleInput } from './rule-schema.js';
import { silencedBy, silenceInputSchema, type Silence } from './silence.js';

const HISTORY_SAVE_MS = 60_000;

const storedRule = ruleInputSchema.and(z.object({ id: z.string() }));
const rulesFileSchema = z.array(storedRule);
const silencesFileSchema = z.array(silenceInputSchema.and(z.object({ id: z.string(), createdAt: z.number() })));
const historyFileSchema = z.array(z.looseObject({ at: z.number(), kind: z.enum(['state', 'delivery', 'silenced']) }));

const webhookUrl = z.string().url({ message: 'expected an http(s) URL' }).refine((u) => /^https?:\/\//.test(u), { message: 'expected an http(s) URL' });
const webhookFields = {
  format: z.enum(WEBHOOK_FORMATS, { message: `expected one of ${WEBHOOK_FORMATS.join(', ')}` }).default('generic'),
  /** Write-only: never returned by the API. null clears it; absent keeps it. */
  secret: z.string().min(1).nullable().optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
};

/** Channels as stored. */
export const channelsSchema = z.object({
  email: z
    .object({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(587),
      secure: z.boolean().default(false),
      user: z.string().min(1).optional(),
      /** Write-only: never returned by the API. null clears it; absent keeps it. */
      password: z.string().min(1).nullable().optional(),
      from: z.string().email({ message: 'expected an email address' }),
      to: z.array(z.string().email({ message: 'expected an email address' })).min(1, { message: 'expected at least one recipient' }),
      timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
      allowSelfSigned: z.boolean().default(false),
    })
    .nullable()
    .optional(),
  webhook: z.object({ url: webhookUrl, ...webhookFields }).nullable().optional(),
});

/** Channels as a PUT takes them: the webhook URL, like a secret, may be left out (or sent back masked) to keep it. */
const channelsInputSchema = channelsSchema.extend({
  webhook: z.object({ url: webhookUrl.optional(), ...webhookFields }).nullable().optional(),
});
type Channels = z.infer<typeof channelsSchema>;

export interface HistoryEntry {
  at: number;
  kind: 'state' | 'delivery' | 'silenced';
  ruleId?: string;
  severity?: string;
  labels?: Record<string, string>;
  from?: string;
  to?: string;
  value?: number | null;
  channel?: string;
  ok?: boolean;
  detail?: string;
  attempt?: number;
  /** Per-request alerts: the request that raised it. */
  requestId?: string;
  client?: string;
}

export interface AlertManagerOptions {
  dataDir: string;
  /** How state files are written (tests inject a full or read-only disk). */
  io?: FileIo;
  /** Rules at most (ALERT_RULES_MAX). */
  maxRules?: number;
  store: SeriesStore;
  intervalMs: number;
  clock: () => number;
  log: EventLog;
  clients: ClientStats;
  broadcast: (n: Notification) => void;
  broadcastAck: (ack: { ruleId: string; labels: Record<string, string>; by: string; at: number }) => void;
  monitorUrl: string;
  sleep?: (ms: number) => Promise<void>;
  historyLimit?: number;
  /** NVML utilisation samples since the previous check, for sample-based rules. */
  gpuSamples?: SampleSource;
  /** Messages a minute per email or webhook channel. */
  perMinute?: number;
  /** The lowest-confidence OCR images, attached to OCR alerts when kept (opt-in). */
  ocrSamples?: OcrSampleSource;
}

export interface OcrSampleSource {
  lowest(now: number, limit: number): Array<{ file: string; imageHash: string; confidence: number; lang: string | null; requestId: string; at: number }>;
  read(file: string): Promise<Buffer | null>;
  link(file: string, now: number): string;
}

/** Samples attached to an OCR alert: the few lowest, enough to see what went wrong. */
const SAMPLES_PER_ALERT = 3;

export class AlertManager {
  rules: Rule[] = [];
  private channels: Channels = {};
  private states: States = new Map();
  private andStates: AndStates = new Map();
  private readonly history: HistoryEntry[] = [];
  private readonly rulesFile: JsonFile<typeof rulesFileSchema>;
  private readonly silencesFile: JsonFile<typeof silencesFileSchema>;
  private readonly historyFile: JsonFile<typeof historyFileSchema>;
  private historyDirty = false;
  private historySavedAt = 0;
  silences: Silence[] = [];
  private readonly channelsFile: JsonFile<typeof channelsSchema>;
  private readonly queues = new Map<string, ChannelQueue>();
  private emailTransport: ReturnType<typeof emailNotifier> | undefined;

  constructor(private readonly opts: AlertManagerOptions) {
    const io = opts.io ? { io: opts.io } : {};
    this.rulesFile = new JsonFile(join(opts.dataDir, 'alert-rules.json'), rulesFileSchema, () => [], io);
    this.channelsFile = new JsonFile(join(opts.dataDir, 'alert-channels.json'), channelsSchema, () => ({}), io);
    this.silencesFile = new JsonFile(join(opts.dataDir, 'alert-silences.json'), silencesFileSchema, () => [], io);
    this.historyFile = new JsonFile(join(opts.dataDir, 'alert-history.json'), historyFileSchema, () => [], io);
    this.queues.set('console', this.queue(consoleNotifier(opts.broadcast)));
  }

  /** Reads rules and channels; a damaged file is reported, set aside, never overwritten. */
  load(): string[] {
    const problems: string[] = [];
    const rules = this.rulesFile.load(this.opts.clock());
    this.rules = rules.value as Rule[];
    if (rules.problem) problems.push(rules.problem);
    const channels = this.channelsFile.load(this.opts.clock());
    this.setChannelsInternal(channels.value);
    if (channels.problem) problems.push(channels.problem);
    const silences = this.silencesFile.load(this.opts.clock());
    this.silences = silences.value;
    if (silences.problem) problems.push(silences.problem);
    const history = this.historyFile.load(this.opts.clock());
    this.history.push(...(history.value as unknown as HistoryEntry[]));
    if (history.problem) problems.push(history.problem);
    for (const p of problems) this.opts.log.error('alert', 'alert state file unreadable', { problem: p });
    return problems;
  }

  private queue(n: Notifier): ChannelQueue {
    return new ChannelQueue(n, {
      clock: this.opts.clock,
      // Console popups are local; mail and webhooks are rate-limited so a storm cannot flood a team.
      ...(n.kind === 'console' ? {} : { perMinute: this.opts.perMinute ?? 20 }),
      ...(this.opts.sleep ? { sleep: this.opts.sleep } : {}),
      onAttempt: (a) => this.recordAttempt(a),
    });
  }

  private recordAttempt(a: Attempt): void {
    this.pushHistory({ at: a.at, kind: 'delivery', channel: a.channel, ok: a.ok, detail: a.detail, attempt: a.attempt });
    if (!a.ok && a.final) this.opts.log.error('alert', 'alert delivery failed', { channel: a.channel, attempts: a.attempt, detail: a.detail, notification: a.notificationId });
    else if (!a.ok) this.opts.log.warn('alert', 'alert delivery attempt failed', { channel: a.channel, attempt: a.attempt, detail: a.detail });
  }

  private pushHistory(e: HistoryEntry): void {
    this.historyDirty = true;
    this.history.push(e);
    const limit = this.opts.historyLimit ?? 5_000;
    if (this.history.length > limit) this.history.splice(0, this.history.length - limit);
  }

  // ---- rules ----
  // All or nothing: each change is written first and applied only once it is on disk; a
  // failed save throws NOT_SAVED (disk full, read-only, ...) and leaves everything as it was.

  private saveRules(next: Rule[]): void {
    this.rulesFile.save(next);
    this.rules = next;
  }

  private forgetStates(ruleId: string): void {
    for (const [k, s] of this.states) if (s.ruleId === ruleId) this.states.delete(k);
  }

  addRule(input: unknown, id: string = randomUUID()): Rule {
    const rule = { id, ...ruleInputSchema.parse(input) } as Rule;
    const max = this.opts.maxRules ?? 500;
    if (this.rules.length >= max && !this.rules.some((r) => r.id === id)) {
      throw new AppError('LIMIT_REACHED', `There are ${this.rules.length} alert rules, the most allowed (ALERT_RULES_MAX=${max}); delete one first`);
    }
    this.saveRules([...this.rules.filter((r) => r.id !== id), rule]);
    return rule;
  }

  updateRule(id: string, input: unknown): Rule | undefined {
    if (!this.rules.some((r) => r.id === id)) return undefined;
    const rule = { id, ...ruleInputSchema.parse(input) } as Rule;
    this.saveRules(this.rules.map((r) => (r.id === id ? rule : r)));
    // A changed rule starts its states afresh.
    this.forgetStates(id);
    return rule;
  }

  deleteRule(id: string): boolean {
    const next = this.rules.filter((r) => r.id !== id);
    if (next.length === this.rules.length) return false;
    this.saveRules(next);
    this.forgetStates(id);
    return true;
  }

  importPreset(presetId: string): Rule | undefined {
    const preset = PRESETS.find((p) => p.id === presetId);
    return preset ? this.addRule(preset.rule as RuleInput, `preset:${preset.id}`) : undefined;
  }

  // ---- silences ----

  private saveSilences(next: Silence[]): void {
    this.silencesFile.save(next);
    this.silences = next;
  }

  addSilence(input: unknown): Silence {
    const silence: Silence = { id: randomUUID(), createdAt: this.opts.clock(), ...silenceInputSchema.parse(input) };
    this.saveSilences([...this.silences, silence]);
    return silence;
  }

  deleteSilence(id: string): boolean {
    const next = this.silences.filter((s) => s.id !== id);
    if (next.length === this.silences.length) return false;
    this.saveSilences(next);
    return true;
  }

  // ---- channels ----

  /** What the API shows: never a secret, only whether one is set. */
  channelsView(): unknown {
    const w = this.channels.webhook;
    const e = this.channels.email;
    return {
      console: { enabled: true },
      webhook: w ? { url: maskUrl(w.url), format: w.format, timeoutMs: w.timeoutMs, secretSet: Boolean(w.secret) } : null,
      email: e ? { host: e.host, port: e.port, secure: e.secure, user: e.user ?? null, from: e.from, to: e.to, timeoutMs: e.timeoutMs, allowSelfSigned: e.allowSelfSigned, passwordSet: Boolean(e.password) } : null,
    };
  }

  setChannels(input: unknown): void {
    const parsed = channelsInputSchema.parse(input);
    const stored = this.channels;
    let webhook: Channels['webhook'] = parsed.webhook === null ? null : undefined;
    if (parsed.webhook) {
      // A URL left out, or sent back as the API showed it (masked), keeps the stored one.
      const keep = parsed.webhook.url === undefined || (stored.webhook !== null && stored.webhook !== undefined && parsed.webhook.url === maskUrl(stored.webhook.url));
      const url = keep ? stored.webhook?.url : parsed.webhook.url;
      if (url === undefined) throw new AppError('VALIDATION_FAILED', "webhook.url: required: the receiver's http(s) URL", { field: 'webhook.url' });
      if (!keep && looksMasked(url)) throw new AppError('VALIDATION_FAILED', 'webhook.url: this is a masked URL (…); send the full URL', { field: 'webhook.url' });
      webhook = { ...parsed.webhook, url };
    }
    const next: Channels = { ...(parsed.email !== undefined ? { email: parsed.email } : {}), ...(webhook !== undefined ? { webhook } : {}) };
    // An omitted secret keeps the stored one; null clears it.
    if (next.webhook && next.webhook.secret === undefined && stored.webhook?.secret) {
      next.webhook.secret = stored.webhook.secret;
    }
    if (next.email && next.email.password === undefined && stored.email?.password) {
      next.email.password = stored.email.password;
    }
    this.channelsFile.save(next);
    this.setChannelsInternal(next);
  }

  private setChannelsInternal(c: Channels): void {
    this.channels = c;
    for (const kind of ['webhook', 'email']) {
      this.queues.get(kind)?.close();
      this.queues.delete(kind);
    }
    this.emailTransport?.close();
    this.emailTransport = undefined;
    if (c.email) {
      const e = c.email;
      const samples = this.opts.ocrSamples;
      this.emailTransport = emailNotifier({
        host: e.host, port: e.port, secure: e.secure, user: e.user, password: e.password ?? undefined, from: e.from, to: e.to, timeoutMs: e.timeoutMs, allowSelfSigned: e.allowSelfSigned,
        ...(samples ? { readSample: (file: string) => samples.read(file) } : {}),
      });
      this.queues.set('email', this.queue(this.emailTransport));
    }
    if (c.webhook) {
      this.queues.set('webhook', this.queue(webhookNotifier({ url: c.webhook.url, format: c.webhook.format, secret: c.webhook.secret ?? undefined, timeoutMs: c.webhook.timeoutMs })));
    }
  }

  /**
   * Sends a test notification on one channel: one attempt, straight to the notifier (not
   * behind queued notices, rate limits or retries), so the answer comes within the
   * channel's own deadline. Resolves with the attempt, which the history records too.
   */
  async testChannel(kind: string): Promise<HistoryEntry[]> {
    const q = this.queues.get(kind);
    if (!q) throw new Error(`channel ${kind} is not configured`);
    const n: Notification = { id: randomUUID(), status: 'firing', test: true, alerts: [this.payload(
      { id: 'test', name: 'Test notification', severity: 'info', metric: 'none', op: '>', threshold: 0 } as unknown as Rule,
      { labels: {}, value: null, firingSince: this.opts.clock(), breachPoints: [] } as unknown as AlertInstance, 'firing')] };
    const start = this.history.length;
    let result;
    try {
      result = await q.notifier.send(n, new AbortController().signal);
    } catch (err) {
      result = { ok: false as const, retry: false, error: (err as Error).message };
    }
    this.recordAttempt({ at: this.opts.clock(), channel: kind, notificationId: n.id, attempt: 1, ok: result.ok, detail: result.ok ? (result.detail ?? 'sent') : result.error, final: true });
    return this.history.slice(start).filter((h) => h.kind === 'delivery' && h.channel === kind);
  }

  // ---- evaluation ----

  /** After each check: evaluate, notify on changes, repeat still-firing alerts when due. */
  onCheck(now: number): StateChange[] {
    const { states, andStates, changes } = evaluate({
      rules: this.rules, store: this.opts.store, states: this.states, andStates: this.andStates, now, intervalMs: this.opts.intervalMs, samples: this.opts.gpuSamples,
    });
    this.states = states;
    this.andStates = andStates;
    const ruleById = new Map(this.rules.map((r) => [r.id, r]));
    const outgoing: Array<{ rule: Rule; inst: AlertInstance; status: 'firing' | 'resolved' }> = [];
    for (const c of changes) {
      const rule = ruleById.get(c.ruleId)!;
      this.pushHistory({ at: now, kind: 'state', ruleId: c.ruleId, severity: rule.severity, labels: { ...c.labels }, from: c.from, to: c.to, value: c.value });
      const inst = states.get(instanceKey(c.ruleId, c.labels)) ?? ({ labels: c.labels, value: c.value, firingSince: null, breachPoints: [] } as unknown as AlertInstance);
      if (c.to === 'firing') {
        outgoing.push({ rule, inst, status: 'firing' });
        if (rule.boostLogMinutes) this.opts.log.boost(now + rule.boostLogMinutes * 60_000);
        this.opts.log.warn('alert', 'Alert firing', { rule: rule.name, severity: rule.severity, value: c.value, labels: JSON.stringify(c.labels) });
      } else if (c.from === 'firing') {
        outgoing.push({ rule, inst, status: 'resolved' });
        this.opts.log.info('alert', 'Alert resolved', { rule: rule.name, labels: JSON.stringify(c.labels) });
      }
    }
    for (const inst of states.values()) {
      const rule = ruleById.get(inst.ruleId)!;
      const repeatMs = ruleTimings(rule).repeatMs;
      if (inst.state === 'firing' && inst.lastNotifiedAt !== null && now - inst.lastNotifiedAt >= repeatMs) outgoing.push({ rule, inst, status: 'firing' });
    }
    // A notice held back by a silence goes out once, when the silence has ended.
    for (const inst of states.values()) {
      if (inst.state !== 'firing' || !inst.suppressed) continue;
      const rule = ruleById.get(inst.ruleId)!;
      if (!silencedBy(this.silences, { ruleId: rule.id, severity: rule.severity, labels: inst.labels }, now) && !outgoing.some((o) => o.inst === inst)) {
        outgoing.push({ rule, inst, status: 'firing' });
      }
    }
    const sent = outgoing.filter((o) => {
      const silence = silencedBy(this.silences, { ruleId: o.rule.id, severity: o.rule.severity, labels: o.inst.labels }, now);
      if (silence) {
        // Recorded, not notified.
        o.inst.suppressed = o.status === 'firing';
        this.pushHistory({ at: now, kind: 'silenced', ruleId: o.rule.id, severity: o.rule.severity, labels: { ...o.inst.labels }, detail: `${o.status} notice held back by silence ${silence.id}${silence.comment ? ` (${silence.comment})` : ''}` });
        return false;
      }
      o.inst.suppressed = false;
      if (o.status === 'firing') o.inst.lastNotifiedAt = now;
      return true;
    });
    this.dispatch(sent.map((o) => ({ channels: o.rule.channels, payload: this.payload(o.rule, o.inst, o.status) })));
    // Writing (and fsyncing) the history is not for every check: at most once a minute, and at close.
    if (now - this.historySavedAt >= HISTORY_SAVE_MS) this.saveHistory(now);
    return changes;
  }

  /**
   * Per-request rules: each matching request raises its own alert, with its context.
   * Called on the request's path, so only the comparison happens there; building the
   * context (log queries, top clients) waits for the next turn of the event loop.
   */
  onRequestEvent(e: RequestEvent): void {
    const hits = this.rules.filter((r) => r.enabled && r.perRequest && compare(e.inputTokens, r.op, r.threshold));
    if (hits.length) setImmediate(() => this.raiseRequestAlerts(hits, e));
  }

  /**
   * Each hit is its own alert: notified, kept in the history with its request, and written
   * as a log line at the rule's severity (info lines are never sampled away).
   */
  private raiseRequestAlerts(hits: Rule[], e: RequestEvent): void {
    for (const rule of hits) {
      const v = e.inputTokens;
      const inst: AlertInstance = {
        ruleId: rule.id, labels: { module: e.module }, state: 'firing', breaches: 1, breachSince: e.t, firingSince: e.t, lastBreachAt: e.t,
        value: v, breachPoints: [[e.t, v]], lastNotifiedAt: null, suppressed: false,
      };
      const payload = this.payload(rule, inst, 'firing');
      payload.context.request = { requestId: e.requestId ?? null, client: e.client ?? null, module: e.module, inputTokens: v, source: e.source ?? null };
      this.pushHistory({
        at: e.t, kind: 'state', ruleId: rule.id, severity: rule.severity, labels: { module: e.module }, from: 'inactive', to: 'firing', value: v,
        ...(e.requestId ? { requestId: e.requestId } : {}), ...(e.client ? { client: e.client } : {}),
      });
      const params = {
        rule: rule.name, metric: rule.metric, value: v, threshold: `${rule.op} ${rule.threshold}`, module: e.module,
        request_id: e.requestId ?? null, client: e.client ?? null,
      };
      if (rule.severity === 'critical') this.opts.log.error('alert', 'Per-request alert', params);
      else if (rule.severity === 'warning') this.opts.log.warn('alert', 'Per-request alert', params);
      else this.opts.log.info('alert', 'Per-request alert', params, { always: true });
      this.dispatch([{ channels: rule.channels, payload }]);
    }
  }

  /** Alerts of one check to one channel go out as one message. */
  private dispatch(items: Array<{ channels: readonly string[]; payload: AlertPayload }>): void {
    const groups = new Map<string, AlertPayload[]>();
    for (const { channels, payload } of items) {
      for (const ch of channels) {
        const key = `${ch}|${payload.status}`;
        groups.set(key, [...(groups.get(key) ?? []), payload]);
      }
    }
    for (const [key, alerts] of groups) {
      const [channel, status] = key.split('|') as [string, 'firing' | 'resolved'];
      const q = this.queues.get(channel);
      if (!q) {
        this.pushHistory({ at: this.opts.clock(), kind: 'delivery', channel, ok: false, detail: `channel ${channel} is not configured`, attempt: 0 });
        this.opts.log.error('alert', 'alert channel not configured', { channel, alerts: alerts.map((a) => a.ruleName).join(', ') });
        continue;
      }
      q.enqueue({ id: randomUUID(), status, alerts });
    }
  }

  private payload(rule: Rule, inst: AlertInstance, status: 'firing' | 'resolved'): AlertPayload {
    const now = this.opts.clock();
    const errors = this.opts.log.query({ level: 'ERROR', limit: 1 });
    const lastError = errors[0];
    const warningsBefore = lastError
      ? this.opts.log.query({ level: 'WARN', limit: 20 }).filter((l) => l.level === 'WARN' && l.seq < lastError.seq).slice(0, 3).map(formatLine)
      : [];
    const gpuTemperatureCelsius: Record<string, number> = {};
    for (const s of this.opts.store.find('gpu_temperature_celsius')) {
      const p = s.ring.last();
      if (p) gpuTemperatureCelsius[`gpu${s.labels.gpu}`] = p.v;
    }
    const top = this.opts.clients.top(now, 5 * 60_000, 1).byGpuSeconds[0];
    const context: AlertContext = {
      value: inst.value, threshold: rule.threshold, op: rule.op, breachPoints: inst.breachPoints,
      lastError: lastError ? formatLine(lastError) : null, warningsBefore, gpuTemperatureCelsius,
      topClient: top ? `${top.client} (${top.gpuSeconds.toFixed(1)} GPU-s, ${top.requests} requests in 5 min)` : null,
      monitorUrl: this.opts.monitorUrl,
    };
    // An alert about OCR shows what the model was reading when its confidence was lowest.
    const aboutOcr = rule.metric.startsWith('ocr_') || (rule.and?.metric.startsWith('ocr_') ?? false);
    if (aboutOcr && status === 'firing' && this.opts.ocrSamples) {
      const src = this.opts.ocrSamples;
      const samples = src.lowest(now, SAMPLES_PER_ALERT);
      if (samples.length) {
        context.samples = samples.map((s) => ({
          file: s.file, imageHash: s.imageHash, confidence: Math.round(s.confidence * 1000) / 1000, lang: s.lang,
          requestId: s.requestId, at: new Date(s.at).toISOString(), url: src.link(s.file, now),
        }));
      }
    }
    if (rule.captureRequests && status === 'firing') {
      const modules = new Set(['vlm', 'gui', 'ocr', 'video']);
      context.recentRequests = this.opts.log.query({ limit: 200 }).filter((l) => modules.has(l.module)).slice(0, 20).map(formatLine);
    }
    const value = inst.value === null ? 'no data' : Number.isInteger(inst.value) ? String(inst.value) : inst.value.toFixed(2);
    const labels = { ...inst.labels };
    return {
      ruleId: rule.id, ruleName: rule.name, severity: rule.severity, metric: rule.metric, labels, status,
      startsAt: new Date(inst.firingSince ?? now).toISOString(),
      endsAt: status === 'resolved' ? new Date(now).toISOString() : null,
      summary: status === 'firing' ? `${rule.metric} is ${value} (${rule.op} ${rule.threshold}${rule.surgeBaseline ? ' % against its baseline' : ''})` : `${rule.metric} is back to ${value}`,
      context,
    };
  }

  /** Acknowledged from a Monitor tab: every tab closes its popup; the state is unchanged. */
  acknowledge(ruleId: string, labels: Record<string, string>, by: string): boolean {
    const inst = this.states.get(instanceKey(ruleId, labels));
    if (!inst || inst.state !== 'firing') return false;
    inst.acknowledgedBy = by;
    this.pushHistory({ at: this.opts.clock(), kind: 'state', ruleId, labels: { ...labels }, from: 'firing', to: 'firing', detail: `acknowledged by ${by}` });
    this.opts.broadcastAck({ ruleId, labels, by, at: this.opts.clock() });
    return true;
  }

  active(): Array<AlertInstance & { ruleName: string; severity: string }> {
    return [...this.states.values()]
      .filter((s) => s.state !== 'inactive')
      .map((s) => {
        const rule = this.rules.find((r) => r.id === s.ruleId)!;
        return { ...s, ruleName: rule.name, severity: rule.severity };
      });
  }

  historyQuery(q: { ruleId?: string; severity?: string; since?: number; limit?: number }): HistoryEntry[] {
    return this.history
      .filter((h) => (!q.ruleId || h.ruleId === q.ruleId) && (!q.severity || h.severity === q.severity) && (q.since === undefined || h.at >= q.since))
      .slice(-(q.limit ?? 200))
      .reverse();
  }

  /** History survives a restart: written after a check that changed it, and at close. */
  saveHistory(now = this.opts.clock()): void {
    if (!this.historyDirty) return;
    this.historyDirty = false;
    this.historySavedAt = now;
    try {
      this.historyFile.save(this.history as never);
    } catch (err) {
      this.opts.log.error('alert', 'alert history not saved', { reason: (err as Error).message });
    }
  }

  /** For shutdown and tests: every queued notification delivered or given up. */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.idle()));
  }

  close(): void {
    for (const q of this.queues.values()) q.close();
    this.emailTransport?.close();
    this.saveHistory();
  }
}
