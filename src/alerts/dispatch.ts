// Delivery's front: the channels in force with a queue each (channels.ts, delivery.ts),
// the alerts of one check grouped into one message per channel, every attempt written to
// the log and the history, a channel a rule names but nobody set up reported (once), and
// test sends straight to a notifier.
import { randomUUID } from 'node:crypto';
import type { EventLog } from '../log/event-log.js';
import { alertPayload, type ContextSources } from './alert-context.js';
import { CONSOLE, type ChannelDeps } from './channel-type.js';
import { ChannelSet } from './channels.js';
import { ChannelQueue, type Attempt } from './delivery.js';
import type { AlertHistory, HistoryEntry } from './history.js';
import type { AlertPayload, Notification } from './notifier.js';
import { channelNotSetUp } from './rule-channels.js';
import { ruleInputSchema, type Rule } from './rule-schema.js';

export interface DispatchItem {
  channels: readonly string[];
  resend: boolean;
  payload: AlertPayload;
}

export interface DispatcherOptions {
  deps: ChannelDeps;
  broadcast: (n: Notification) => void;
  clock: () => number;
  log: EventLog;
  history: AlertHistory;
  /** The names of the rules that send to a channel (for the "not set up" warning). */
  rulesNaming: (channel: string) => string[];
  /** Messages a minute per channel other than the console. */
  perMinute?: number | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

export class Dispatcher {
  readonly channels: ChannelSet;
  /** Channels named by rules but not set up, already said in the log since the channels last changed. */
  private readonly missingSaid = new Set<string>();

  constructor(private readonly opts: DispatcherOptions) {
    this.channels = new ChannelSet({
      deps: opts.deps,
      broadcast: opts.broadcast,
      queue: (notifier, name) =>
        new ChannelQueue(notifier, {
          name,
          clock: opts.clock,
          // Console popups are local; the others are rate-limited so a storm cannot flood a team.
          ...(name === CONSOLE ? {} : { perMinute: opts.perMinute ?? 20 }),
          ...(opts.sleep ? { sleep: opts.sleep } : {}),
          onAttempt: (a) => this.recordAttempt(a),
        }),
    });
  }

  /** The channels changed: a channel still missing is said again. */
  channelsChanged(): void {
    this.missingSaid.clear();
  }

  /** Alerts of one check to one channel go out as one message (a keep-alive only when all of them are). */
  dispatch(items: readonly DispatchItem[]): void {
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
   * Sends a test notification on one channel: one attempt, straight to the notifier (not
   * behind queued notices, rate limits or retries), so the answer comes within the
   * channel's own deadline. Resolves with the attempt, which the history records too;
   * NOT_FOUND when there is no such channel.
   */
  async test(name: string, n: Notification): Promise<HistoryEntry[]> {
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
      ...(result.ok && result.detailParts ? { detailParts: result.detailParts } : {}),
      final: true,
    });
    return entry ? [entry] : [];
  }

  private recordAttempt(a: Attempt): HistoryEntry | undefined {
    const { log, history } = this.opts;
    if (!a.ok && a.final)
      log.error('alert', 'alert delivery failed', {
        channel: a.channel,
        attempts: a.attempt,
        detail: a.detail,
        notification: a.notificationId,
      });
    else if (!a.ok)
      log.warn('alert', 'alert delivery attempt failed', { channel: a.channel, attempt: a.attempt, detail: a.detail });
    // Alertmanager's keep-alives (every minute while firing) would crowd the history out: only their failures are kept.
    if (a.ok && a.resend) return undefined;
    const entry: HistoryEntry = {
      at: a.at,
      kind: 'delivery',
      channel: a.channel,
      ok: a.ok,
      detail: a.detail,
      ...(a.detailParts ? { detailParts: a.detailParts } : {}),
      attempt: a.attempt,
      ...(a.ruleIds.length ? { ruleIds: a.ruleIds } : {}),
    };
    history.push(entry);
    return entry;
  }

  /**
   * A rule names a channel that is not set up (deleted since, or an old rules file): each
   * alert's history says it was not sent there, and the log says so once, as a WARN, until
   * the channels change, instead of an ERROR per notice.
   */
  private notSetUp(channel: string, alerts: readonly AlertPayload[]): void {
    const at = this.opts.clock();
    for (const a of alerts)
      this.opts.history.push({
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
      rules: [...new Set(this.opts.rulesNaming(channel))].join(', '),
    });
  }

  /** For shutdown and tests: every queued notification delivered or given up. */
  async idle(): Promise<void> {
    await this.channels.idle();
  }

  close(): void {
    this.channels.close();
  }
}

/** What a test send carries: an info alert of no rule, with this node's context. */
export function testNotification(context: ContextSources, now: number): Notification {
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
  return {
    id: randomUUID(),
    status: 'firing',
    test: true,
    alerts: [
      alertPayload(context, rule, { labels: {}, value: null, firingSince: now, breachPoints: [] }, 'firing', now),
    ],
  };
}
