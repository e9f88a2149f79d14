// The alert engine, put together as a pipeline (after Alertmanager's stages):
//   configuration (alert-config.ts: rules, silences, channels, saved before applied)
//   → check (alert-states.ts: evaluate.ts, pure, then notice-policy.ts, pure)
//   → record (the history and the log say what changed, what a silence held back)
//   → deliver (dispatch.ts: one message per channel, queues, retries, the history).
// Per-request rules (request-alerts.ts) join at delivery. This file only wires the stages
// and answers what the API asks of the engine as a whole.
import type { EventLog } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { RequestEvent } from '../metrics/model-stats.js';
import type { SeriesStore } from '../metrics/series-store.js';
import type { FileIo } from '../json-file.js';
import { AlertConfig } from './alert-config.js';
import type { ContextSources, OcrSampleSource } from './alert-context.js';
import { alertPayload } from './alert-context.js';
import { siteFromLink, type AlertSite } from './alert-site.js';
import { AlertStates } from './alert-states.js';
import type { ActiveAlert } from './answers.js';
import { Dispatcher, testNotification } from './dispatch.js';
import { instanceKey, type SampleSource, type StateChange } from './evaluate.js';
import { AlertHistory, type HistoryEntry, type HistoryQuery } from './history.js';
import type { Notice } from './notice-policy.js';
import type { AlertAck, AlertPayload, Notification } from './notifier.js';
import { RequestAlerts } from './request-alerts.js';
import type { Rule } from './rule-schema.js';
import { AlertStateFiles } from './state-files.js';
import { WhyKeeper } from './why-keeper.js';
import { whyLines } from './why.js';

export type { HistoryEntry } from './history.js';
export type { OcrSampleSource } from './alert-context.js';

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
  /** The model endpoints' routes (ServiceStats.modelEndpoints): what "why is it firing" looks at. */
  modelEndpoints: () => readonly string[];
  broadcast: (n: Notification) => void;
  broadcastAck: (ack: AlertAck) => void;
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
  /** Rules, silences and channels: what the API changes. */
  readonly config: AlertConfig;
  private readonly files: AlertStateFiles;
  private readonly history: AlertHistory;
  private readonly states: AlertStates;
  private readonly delivery: Dispatcher;
  private readonly requests: RequestAlerts;
  private readonly context: ContextSources;
  /** What changed with each pending or firing alert (why.ts). */
  private readonly why: WhyKeeper;

  constructor(private readonly opts: AlertManagerOptions) {
    const { clock, log } = opts;
    this.files = new AlertStateFiles(opts.dataDir, opts.io);
    this.history = new AlertHistory(this.files.history, opts.historyLimit ?? 5_000, (reason) =>
      log.error('alert', 'alert history not saved', { reason }),
    );
    this.context = {
      log,
      store: opts.store,
      clients: opts.clients,
      monitorUrl: opts.monitorUrl,
      ocrSamples: opts.ocrSamples,
    };
    this.why = new WhyKeeper({
      store: opts.store,
      intervalMs: opts.intervalMs,
      log,
      clients: opts.clients,
      modelEndpoints: opts.modelEndpoints,
    });
    this.states = new AlertStates({ store: opts.store, intervalMs: opts.intervalMs, samples: opts.gpuSamples });
    const samples = opts.ocrSamples;
    this.delivery = new Dispatcher({
      deps: {
        clock,
        intervalMs: opts.intervalMs,
        site: opts.site ?? siteFromLink(opts.monitorUrl),
        ...(samples ? { readSample: (file: string) => samples.read(file) } : {}),
      },
      broadcast: opts.broadcast,
      clock,
      log,
      history: this.history,
      rulesNaming: (channel) => this.config.rules.filter((r) => r.channels.includes(channel)).map((r) => r.name),
      perMinute: opts.perMinute,
      sleep: opts.sleep,
    });
    this.config = new AlertConfig({
      files: this.files,
      channels: this.delivery.channels,
      clock,
      ...(opts.maxRules === undefined ? {} : { maxRules: opts.maxRules }),
      onRuleChanged: (id) => this.states.forget(id),
      onChannelsChanged: () => this.delivery.channelsChanged(),
    });
    this.requests = new RequestAlerts({
      rules: () => this.config.rules,
      context: this.context,
      history: this.history,
      log,
      clock,
      dispatch: (items) => this.delivery.dispatch(items),
      broadcastAck: opts.broadcastAck,
    });
  }

  /** Reads rules, channels, silences and history; a damaged file is reported, set aside, never overwritten. */
  load(): string[] {
    const state = this.files.loadAll(this.opts.clock());
    this.config.restore(state);
    this.history.restore(state.history);
    for (const p of state.problems) this.opts.log.error('alert', 'alert state file unreadable', { problem: p });
    return state.problems;
  }

  /** After each check: evaluate and decide, record what changed, deliver the notices. */
  onCheck(now: number): StateChange[] {
    const { changes, decision, rulesById } = this.states.check({
      now,
      rules: this.config.rules,
      silences: this.config.silences,
      resending: this.delivery.channels.resending(),
    });
    this.why.update(this.states.current, rulesById, now);
    for (const c of changes) {
      const rule = rulesById.get(c.ruleId);
      if (rule) this.recordChange(rule, c, now);
    }
    for (const { rule, inst, status, silence: s } of decision.heldBack)
      this.history.push({
        at: now,
        kind: 'silenced',
        ruleId: rule.id,
        severity: rule.severity,
        labels: { ...inst.labels },
        detail: `${status} notice held back by silence ${s.id}${s.comment ? ` (${s.comment})` : ''}`,
      });
    this.delivery.dispatch(
      decision.notices.map((n) => ({ channels: n.channels, resend: n.resend, payload: this.payload(n, now) })),
    );
    // Writing (and fsyncing) the history is not for every check: at most once a minute, and at close.
    this.history.saveIfDue(now);
    return changes;
  }

  /** A state change in the history, and in the log when an alert fires or resolves. */
  private recordChange(rule: Rule, c: StateChange, now: number): void {
    const { log } = this.opts;
    this.history.push({
      at: now,
      kind: 'state',
      ruleId: c.ruleId,
      severity: rule.severity,
      labels: { ...c.labels },
      from: c.from,
      to: c.to,
      value: c.value,
      ...(c.andValue === undefined ? {} : { andValue: c.andValue }),
    });
    if (c.to === 'firing') {
      if (rule.boostLogMinutes) log.boost(now + rule.boostLogMinutes * 60_000);
      log.warn('alert', 'Alert firing', {
        rule: rule.name,
        severity: rule.severity,
        value: c.value,
        labels: JSON.stringify(c.labels),
      });
    } else if (c.from === 'firing') {
      log.info('alert', 'Alert resolved', { rule: rule.name, labels: JSON.stringify(c.labels) });
    }
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

  /** A test notification on one channel, one attempt, answered within the channel's deadline. */
  testChannel(name: string): Promise<HistoryEntry[]> {
    return this.delivery.test(name, testNotification(this.context, this.opts.clock()));
  }

  /** Per-request rules: compared on the request's path, raised on the next turn of the loop. */
  onRequestEvent(e: RequestEvent): void {
    this.requests.onRequestEvent(e);
  }

  dismissRequestNotice(ruleId: string, requestId: string, by: string): boolean {
    return this.requests.dismiss(ruleId, requestId, by);
  }

  isPerRequest(ruleId: string): boolean {
    return this.requests.isPerRequest(ruleId);
  }

  /** Acknowledged from a Monitor tab: every tab closes its popup; the state is unchanged. */
  acknowledge(ruleId: string, labels: Record<string, string>, by: string): boolean {
    if (!this.states.acknowledge(ruleId, labels, by)) return false;
    const at = this.opts.clock();
    this.history.push({
      at,
      kind: 'state',
      ruleId,
      labels: { ...labels },
      from: 'firing',
      to: 'firing',
      detail: `acknowledged by ${by}`,
    });
    this.opts.broadcastAck({ ruleId, labels, by, at });
    return true;
  }

  /** What is pending or firing, as the API shows it (the engine's own bookkeeping left out). */
  active(): ActiveAlert[] {
    const rules = new Map(this.config.rules.map((r) => [r.id, r]));
    const out: ActiveAlert[] = [];
    for (const [key, s] of this.states.current) {
      const rule = rules.get(s.ruleId);
      if (s.state === 'inactive' || !rule) continue;
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
        ...(rule.and ? { andValue: s.andValue ?? null } : {}),
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
    await this.delivery.idle();
  }

  close(): void {
    this.delivery.close();
    this.saveHistory();
  }
}
