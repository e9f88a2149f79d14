// The alert engine: rules, silences and channels (each change saved before it is
// applied), evaluation after every check (evaluate.ts), which notices go out
// (notice-policy.ts), their context (alert-context.ts), per-request rules, dispatch to
// the channels' queues (channels.ts), acknowledgements and the history (history.ts).
import { randomUUID } from 'node:crypto';
import type { EventLog } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { RequestEvent } from '../metrics/model-stats.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { AppError } from '../errors.js';
import { siteFromLink, type AlertSite } from './alert-site.js';
import { alertPayload, type ContextSources, type OcrSampleSource } from './alert-context.js';
import { WhyKeeper } from './why-keeper.js';
import { whyLines } from './why.js';
import { channelsFromFile, channelsToFile, parseChannel, parseChannelList } from './channel-list.js';
import type { ActiveAlert } from './answers.js';
import { CONSOLE, type Channel, type ChannelDeps, type ChannelView } from './channel-type.js';
import { ChannelSet } from './channels.js';
import { ChannelQueue, type Attempt } from './delivery.js';
import {
  compare,
  evaluate,
  instanceKey,
  type AlertInstance,
  type AndStates,
  type SampleSource,
  type StateChange,
  type States,
} from './evaluate.js';
import { AlertHistory, type HistoryEntry, type HistoryQuery } from './history.js';
import type { FileIo } from '../json-file.js';
import { decideNotices, emptyResendBook, type Notice, type ResendBook } from './notice-policy.js';
import type { AlertPayload, Notification } from './notifier.js';
import { PRESETS } from './presets.js';
import { channelNotSetUp, checkRuleChannels, presetChannels } from './rule-channels.js';
import { ruleInputSchema, type Rule, type RuleInput } from './rule-schema.js';
import { silenceInputSchema, type Silence } from './silence.js';
import { AlertStateFiles } from './state-files.js';

export type { HistoryEntry } from './history.js';
export type { OcrSampleSource } from './alert-context.js';

/** Per-request notices an operator can dismiss: the newest 200, so a burst of long requests stays bounded. */
const DISMISSABLE_REQUEST_NOTICES = 200;

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
  /** An acknowledgement, or a per-request notice dismissed (with its requestId): every tab closes the notice. */
  broadcastAck: (ack: {
    ruleId: string;
    labels: Record<string, string>;
    requestId?: string;
    by: string;
    at: number;
  }) => void;
  monitorUrl: string;
  /** This node's `instance` label and absolute URL (default: the host name, and monitorUrl's origin). */
  site?: AlertSite;
  sleep?: (ms: number) => Promise<void>;
  historyLimit?: number;
  /** NVML utilisation samples since the previous check, for sample-based rules. */
  gpuSamples?: SampleSource;
  /** Messages a minute per channel other than the console. */
  perMinute?: number;
  /** The lowest-confidence OCR images, attached to OCR alerts when kept (opt-in). */
  ocrSamples?: OcrSampleSource;
}

export class AlertManager {
  rules: Rule[] = [];
  silences: Silence[] = [];
  private states: States = new Map();
  private andStates: AndStates = new Map();
  private resendBook: ResendBook = emptyResendBook();
  private readonly files: AlertStateFiles;
  private readonly history: AlertHistory;
  private readonly channels: ChannelSet;
  private readonly context: ContextSources;
  /** Channels named by rules but not set up, already said in the log since the channels last changed. */
  private readonly missingSaid = new Set<string>();
  /** What changed with each pending or firing alert (why.ts). */
  private readonly why: WhyKeeper;
  /** Per-request notices on screen, by `ruleId|requestId`, oldest first (bounded). */
  private readonly requestNotices = new Map<string, Record<string, string>>();

  constructor(private readonly opts: AlertManagerOptions) {
    this.files = new AlertStateFiles(opts.dataDir, opts.io);
    this.history = new AlertHistory(this.files.history, opts.historyLimit ?? 5_000, (reason) =>
      opts.log.error('alert', 'alert history not saved', { reason }),
    );
    this.context = {
      log: opts.log,
      store: opts.store,
      clients: opts.clients,
      monitorUrl: opts.monitorUrl,
      ocrSamples: opts.ocrSamples,
    };
    this.why = new WhyKeeper({ store: opts.store, intervalMs: opts.intervalMs, log: opts.log, clients: opts.clients });
    const samples = opts.ocrSamples;
    const deps: ChannelDeps = {
      clock: opts.clock,
      intervalMs: opts.intervalMs,
      site: opts.site ?? siteFromLink(opts.monitorUrl),
      ...(samples ? { readSample: (file: string) => samples.read(file) } : {}),
    };
    this.channels = new ChannelSet({
      deps,
      broadcast: opts.broadcast,
      queue: (notifier, name) => this.queue(notifier, name),
    });
  }

  /** Reads rules, channels, silences and history; a damaged file is reported, set aside, never overwritten. */
  load(): string[] {
    const state = this.files.loadAll(this.opts.clock());
    this.rules = state.rules;
    this.silences = state.silences;
    this.channels.apply(channelsFromFile(state.channels));
    this.missingSaid.clear();
    this.history.restore(state.history);
    for (const p of state.problems) this.opts.log.error('alert', 'alert state file unreadable', { problem: p });
    return state.problems;
  }

  private queue(notifier: ChannelQueue['notifier'], name: string): ChannelQueue {
    return new ChannelQueue(notifier, {
      name,
      clock: this.opts.clock,
      // Console popups are local; the others are rate-limited so a storm cannot flood a team.
      ...(name === CONSOLE ? {} : { perMinute: this.opts.perMinute ?? 20 }),
      ...(this.opts.sleep ? { sleep: this.opts.sleep } : {}),
      onAttempt: (a) => this.recordAttempt(a),
    });
  }

  private recordAttempt(a: Attempt): HistoryEntry | undefined {
    if (!a.ok && a.final)
      this.opts.log.error('alert', 'alert delivery failed', {
        channel: a.channel,
        attempts: a.attempt,
        detail: a.detail,
        notification: a.notificationId,
      });
    else if (!a.ok)
      this.opts.log.warn('alert', 'alert delivery attempt failed', {
        channel: a.channel,
        attempt: a.attempt,
        detail: a.detail,
      });
    // Alertmanager's keep-alives (every minute while firing) would crowd the history out: only their failures are kept.
    if (a.ok && a.resend) return undefined;
    const entry: HistoryEntry = {
      at: a.at,
      kind: 'delivery',
      channel: a.channel,
      ok: a.ok,
      detail: a.detail,
      attempt: a.attempt,
      ...(a.ruleIds.length ? { ruleIds: a.ruleIds } : {}),
    };
    this.history.push(entry);
    return entry;
  }

  // ---- rules ----
  // All or nothing: each change is written first and applied only once it is on disk; a
  // failed save throws NOT_SAVED (disk full, read-only, ...) and leaves everything as it was.

  private saveRules(next: Rule[]): void {
    this.files.rules.save(next);
    this.rules = next;
  }

  private forgetStates(ruleId: string): void {
    for (const [k, s] of this.states) if (s.ruleId === ruleId) this.states.delete(k);
  }

  /** The channels a rule may name now: the console and those set up. */
  channelNames(): ReadonlySet<string> {
    return new Set([CONSOLE, ...this.channels.list.map((c) => c.name)]);
  }

  /**
   * Refuses (400 at `channels[i]`) a channel that is not set up; an edit of `ruleId` keeps
   * the channels it already named, deleted since or not.
   */
  checkChannels(channels: readonly string[], ruleId?: string): void {
    const kept = this.rules.find((r) => r.id === ruleId)?.channels ?? [];
    checkRuleChannels(channels, this.channelNames(), new Set(kept));
  }

  addRule(input: unknown, id: string = randomUUID()): Rule {
    const rule: Rule = { id, ...ruleInputSchema.parse(input) };
    checkRuleChannels(rule.channels, this.channelNames());
    const max = this.opts.maxRules ?? 500;
    if (this.rules.length >= max && !this.rules.some((r) => r.id === id)) {
      throw new AppError(
        'LIMIT_REACHED',
        `There are ${this.rules.length} alert rules, the most allowed (ALERT_RULES_MAX=${max}); delete one first`,
      );
    }
    this.saveRules([...this.rules.filter((r) => r.id !== id), rule]);
    return rule;
  }

  updateRule(id: string, input: unknown): Rule | undefined {
    if (!this.rules.some((r) => r.id === id)) return undefined;
    const rule: Rule = { id, ...ruleInputSchema.parse(input) };
    this.checkChannels(rule.channels, id);
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

  /**
   * Imports a preset with the channels that exist (the console always does) and says which
   * of its channels are not set up; importing it again once they are adds them.
   */
  importPreset(presetId: string): { rule: Rule; channelsNotSetUp: string[] } | undefined {
    const preset = PRESETS.find((p) => p.id === presetId);
    if (!preset) return undefined;
    const { channels, notSetUp } = presetChannels(preset.rule.channels ?? [CONSOLE], this.channelNames());
    const rule = this.addRule({ ...preset.rule, channels } satisfies RuleInput, `preset:${preset.id}`);
    return { rule, channelsNotSetUp: notSetUp };
  }

  // ---- silences ----

  private saveSilences(next: Silence[]): void {
    this.files.silences.save(next);
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

  /** What the API shows: the console and each channel, never a secret (only whether one is set), URLs masked. */
  channelsView(): { channels: ChannelView[] } {
    return { channels: this.channels.views() };
  }

  channelView(name: string): ChannelView | undefined {
    return this.channels.views().find((v) => v.name === name);
  }

  /** Saved, then put in force; a failed save leaves the channels as they were. */
  private saveChannels(next: Channel[]): void {
    this.files.channels.save(channelsToFile(next));
    this.channels.apply(next);
    this.missingSaid.clear();
  }

  /** The whole list (or the first version's { email, webhook }). */
  setChannels(input: unknown): void {
    this.saveChannels(parseChannelList(input, this.channels.list));
  }

  addChannel(input: unknown): ChannelView {
    const name = (input as { name?: unknown } | null)?.name;
    if (name === CONSOLE || (typeof name === 'string' && this.channels.list.some((c) => c.name === name))) {
      throw new AppError(
        'CONFLICT',
        `name: a channel named "${String(name)}" exists; edit it with PUT /api/monitor/alerts/channels/${String(name)}`,
        { field: 'name' },
      );
    }
    const channel = parseChannel(input, undefined);
    this.saveChannels([...this.channels.list, channel]);
    return this.channelView(channel.name)!;
  }

  /** Replaces one channel (its write-only fields kept when left out); undefined when there is none of that name. */
  updateChannel(name: string, input: unknown): ChannelView | undefined {
    const current = this.channels.list.find((c) => c.name === name);
    if (!current) return undefined;
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? { name, ...input } : input;
    if ((body as { name?: unknown }).name !== name)
      throw new AppError(
        'VALIDATION_FAILED',
        `name: a channel keeps its name (rules refer to it); add a new channel instead`,
        { field: 'name' },
      );
    const channel = parseChannel(body, current);
    this.saveChannels(this.channels.list.map((c) => (c.name === name ? channel : c)));
    return this.channelView(name)!;
  }

  deleteChannel(name: string): boolean {
    if (name === CONSOLE) throw new AppError('BAD_REQUEST', 'console is built in and always on', { field: 'name' });
    const next = this.channels.list.filter((c) => c.name !== name);
    if (next.length === this.channels.list.length) return false;
    this.saveChannels(next);
    return true;
  }

  /**
   * Sends a test notification on one channel: one attempt, straight to the notifier (not
   * behind queued notices, rate limits or retries), so the answer comes within the
   * channel's own deadline. Resolves with the attempt, which the history records too.
   */
  async testChannel(name: string): Promise<HistoryEntry[]> {
    if (!this.channels.has(name))
      throw new AppError('NOT_FOUND', `channel ${name} is not configured`, { field: 'name' });
    const now = this.opts.clock();
    const rule: Rule = {
      ...ruleInputSchema.parse({
        name: 'Test notification',
        severity: 'info',
        metric: 'gpu_temperature_celsius',
        op: '>',
        threshold: 0,
      }),
      id: 'test',
      metric: 'none',
    };
    const n: Notification = {
      id: randomUUID(),
      status: 'firing',
      test: true,
      alerts: [
        alertPayload(
          this.context,
          rule,
          { labels: {}, value: null, firingSince: now, breachPoints: [] },
          'firing',
          now,
        ),
      ],
    };
    const result = await this.channels.sendNow(name, n);
    const entry = this.recordAttempt({
      at: this.opts.clock(),
      channel: name,
      notificationId: n.id,
      // A test notice is no rule's alert.
      ruleIds: [],
      attempt: 1,
      ok: result.ok,
      detail: result.ok ? (result.detail ?? 'sent') : result.error,
      final: true,
    });
    return entry ? [entry] : [];
  }

  // ---- evaluation ----

  /** After each check: evaluate, decide the notices, send them. */
  onCheck(now: number): StateChange[] {
    const { states, andStates, changes } = evaluate({
      rules: this.rules,
      store: this.opts.store,
      states: this.states,
      andStates: this.andStates,
      now,
      intervalMs: this.opts.intervalMs,
      samples: this.opts.gpuSamples,
    });
    this.states = states;
    this.andStates = andStates;
    const rules = new Map(this.rules.map((r) => [r.id, r]));
    this.why.update(states, rules, now);
    for (const c of changes) {
      const rule = rules.get(c.ruleId)!;
      this.history.push({
        at: now,
        kind: 'state',
        ruleId: c.ruleId,
        severity: rule.severity,
        labels: { ...c.labels },
        from: c.from,
        to: c.to,
        value: c.value,
      });
      if (c.to === 'firing') {
        if (rule.boostLogMinutes) this.opts.log.boost(now + rule.boostLogMinutes * 60_000);
        this.opts.log.warn('alert', 'Alert firing', {
          rule: rule.name,
          severity: rule.severity,
          value: c.value,
          labels: JSON.stringify(c.labels),
        });
      } else if (c.from === 'firing') {
        this.opts.log.info('alert', 'Alert resolved', { rule: rule.name, labels: JSON.stringify(c.labels) });
      }
    }
    const decision = decideNotices({
      now,
      changes,
      states,
      rules,
      silences: this.silences,
      resending: this.channels.resending(),
      book: this.resendBook,
    });
    this.resendBook = decision.book;
    for (const m of decision.marks) {
      m.inst.lastNotifiedAt = m.lastNotifiedAt;
      m.inst.suppressed = m.suppressed;
    }
    for (const h of decision.heldBack) {
      const s = h.silence;
      this.history.push({
        at: now,
        kind: 'silenced',
        ruleId: h.rule.id,
        severity: h.rule.severity,
        labels: { ...h.inst.labels },
        detail: `${h.status} notice held back by silence ${s.id}${s.comment ? ` (${s.comment})` : ''}`,
      });
    }
    this.dispatch(
      decision.notices.map((n) => ({ channels: n.channels, resend: n.resend, payload: this.payload(n, now) })),
    );
    // Writing (and fsyncing) the history is not for every check: at most once a minute, and at close.
    this.history.saveIfDue(now);
    return changes;
  }

  private payload(n: Notice, now: number): AlertPayload {
    const payload = alertPayload(this.context, n.rule, n.inst, n.status, now, n.resolvedAt);
    const why = n.status === 'firing' ? this.why.get(instanceKey(n.rule.id, n.inst.labels)) : undefined;
    if (why) {
      payload.context.why = why;
      payload.context.whyLines = whyLines(why);
    }
    return payload;
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
        ruleId: rule.id,
        labels: { module: e.module },
        state: 'firing',
        breaches: 1,
        breachSince: e.t,
        firingSince: e.t,
        lastBreachAt: e.t,
        value: v,
        breachPoints: [[e.t, v]],
        lastNotifiedAt: null,
        suppressed: false,
      };
      const payload = alertPayload(this.context, rule, inst, 'firing', this.opts.clock());
      payload.context.request = {
        requestId: e.requestId ?? null,
        client: e.client ?? null,
        module: e.module,
        inputTokens: v,
        source: e.source ?? null,
      };
      this.history.push({
        at: e.t,
        kind: 'state',
        ruleId: rule.id,
        severity: rule.severity,
        labels: { module: e.module },
        from: 'inactive',
        to: 'firing',
        value: v,
        ...(e.requestId ? { requestId: e.requestId } : {}),
        ...(e.client ? { client: e.client } : {}),
      });
      const params = {
        rule: rule.name,
        metric: rule.metric,
        value: v,
        threshold: `${rule.op} ${rule.threshold}`,
        module: e.module,
        request_id: e.requestId ?? null,
        client: e.client ?? null,
      };
      if (rule.severity === 'critical') this.opts.log.error('alert', 'Per-request alert', params);
      else if (rule.severity === 'warning') this.opts.log.warn('alert', 'Per-request alert', params);
      else this.opts.log.info('alert', 'Per-request alert', params, { always: true });
      if (e.requestId) this.rememberRequestNotice(`${rule.id}|${e.requestId}`, inst.labels);
      this.dispatch([{ channels: rule.channels, resend: false, payload }]);
    }
  }

  private rememberRequestNotice(key: string, labels: Record<string, string>): void {
    this.requestNotices.delete(key);
    this.requestNotices.set(key, labels);
    if (this.requestNotices.size > DISMISSABLE_REQUEST_NOTICES)
      this.requestNotices.delete(this.requestNotices.keys().next().value!);
  }

  /**
   * A per-request notice dismissed from a Monitor tab: every tab closes it. It has no state
   * to acknowledge (each request is its own alert, over once raised); false when no such
   * notice is on screen (dismissed already, or older than the last 200).
   */
  dismissRequestNotice(ruleId: string, requestId: string, by: string): boolean {
    const key = `${ruleId}|${requestId}`;
    const labels = this.requestNotices.get(key);
    if (!labels) return false;
    this.requestNotices.delete(key);
    const at = this.opts.clock();
    this.history.push({
      at,
      kind: 'state',
      ruleId,
      labels: { ...labels },
      from: 'firing',
      to: 'inactive',
      requestId,
      detail: `dismissed by ${by}`,
    });
    this.opts.broadcastAck({ ruleId, labels, requestId, by, at });
    return true;
  }

  /** Whether a rule raises one notice per request (dismissed, not acknowledged). */
  isPerRequest(ruleId: string): boolean {
    return this.rules.some((r) => r.id === ruleId && r.perRequest);
  }

  /** Alerts of one check to one channel go out as one message (a keep-alive only when all of them are). */
  private dispatch(items: Array<{ channels: readonly string[]; resend: boolean; payload: AlertPayload }>): void {
    const groups = new Map<
      string,
      { channel: string; status: 'firing' | 'resolved'; alerts: AlertPayload[]; resend: boolean }
    >();
    for (const { channels, resend, payload } of items) {
      for (const channel of channels) {
        const key = `${channel}|${payload.status}`;
        const g = groups.get(key) ?? { channel, status: payload.status, alerts: [], resend: true };
        g.alerts.push(payload);
        g.resend &&= resend;
        groups.set(key, g);
      }
    }
    for (const { channel, status, alerts, resend } of groups.values()) {
      const q = this.channels.queue(channel);
      if (!q) {
        this.notSetUp(channel, alerts);
        continue;
      }
      q.enqueue({ id: randomUUID(), status, alerts, ...(resend ? { resend: true } : {}) });
    }
  }

  /**
   * A rule names a channel that is not set up (deleted since, or an old rules file): each
   * alert's history says it was not sent there, and the log says so once, as a WARN, until
   * the channels change, instead of an ERROR per notice.
   */
  private notSetUp(channel: string, alerts: readonly AlertPayload[]): void {
    const at = this.opts.clock();
    for (const a of alerts)
      this.history.push({
        at,
        kind: 'delivery',
        channel,
        ok: false,
        attempt: 0,
        ruleId: a.ruleId,
        labels: { ...a.labels },
        code: 'CHANNEL_NOT_SET_UP',
        detail: `not sent: ${channelNotSetUp(channel)}`,
      });
    if (this.missingSaid.has(channel)) return;
    this.missingSaid.add(channel);
    this.opts.log.warn('alert', 'alert channel not set up', {
      channel,
      rules: [...new Set(this.rules.filter((r) => r.channels.includes(channel)).map((r) => r.name))].join(', '),
    });
  }

  /** Acknowledged from a Monitor tab: every tab closes its popup; the state is unchanged. */
  acknowledge(ruleId: string, labels: Record<string, string>, by: string): boolean {
    const inst = this.states.get(instanceKey(ruleId, labels));
    if (inst?.state !== 'firing') return false;
    inst.acknowledgedBy = by;
    this.history.push({
      at: this.opts.clock(),
      kind: 'state',
      ruleId,
      labels: { ...labels },
      from: 'firing',
      to: 'firing',
      detail: `acknowledged by ${by}`,
    });
    this.opts.broadcastAck({ ruleId, labels, by, at: this.opts.clock() });
    return true;
  }

  /** What is pending or firing, as the API shows it (the engine's own bookkeeping left out). */
  active(): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    for (const [key, s] of this.states) {
      if (s.state === 'inactive') continue;
      const rule = this.rules.find((r) => r.id === s.ruleId)!;
      const why = this.why.get(key);
      out.push({
        ruleId: s.ruleId,
        ruleName: rule.name,
        severity: rule.severity,
        labels: s.labels,
        state: s.state,
        breaches: s.breaches,
        breachSince: s.breachSince,
        firingSince: s.firingSince,
        lastBreachAt: s.lastBreachAt,
        value: s.value,
        breachPoints: s.breachPoints,
        lastNotifiedAt: s.lastNotifiedAt,
        suppressed: s.suppressed,
        ...(s.acknowledgedBy === undefined ? {} : { acknowledgedBy: s.acknowledgedBy }),
        ...(why ? { why } : {}),
      });
    }
    return out;
  }

  historyQuery(q: HistoryQuery): HistoryEntry[] {
    return this.history.query(q);
  }

  /** History survives a restart: written at most once a minute after checks, and at close. */
  saveHistory(now = this.opts.clock()): void {
    this.history.save(now);
  }

  /** For shutdown and tests: every queued notification delivered or given up. */
  async idle(): Promise<void> {
    await this.channels.idle();
  }

  close(): void {
    this.channels.close();
    this.saveHistory();
  }
}
