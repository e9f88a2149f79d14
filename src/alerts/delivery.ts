// Delivery: one bounded queue per channel, a worker that sends one notification at a
// time, retries with exponential backoff while the notifier says so, and records every
// attempt. Nothing here blocks evaluation or requests; a full queue refuses loudly.
import type { ReasonPart } from '../reasons.js';
import type { Notification, Notifier, SendResult } from './notifier.js';

export interface Attempt {
  at: number;
  channel: string;
  notificationId: string;
  attempt: number;
  ok: boolean;
  detail: string;
  /** The detail as codes, where the channel gave them. */
  detailParts?: ReasonPart[];
  /** Set on the last attempt: delivered, or given up. */
  final: boolean;
  /** The notification only re-sent alerts already notified (Alertmanager's keep-alive). */
  resend?: boolean;
  /** The rules whose alerts the notification carried, so the history can name them. */
  ruleIds: string[];
}

const ruleIdsOf = (n: Notification): string[] => [...new Set(n.alerts.map((a) => a.ruleId))];

export interface DeliveryOptions {
  /** The channel's name in attempts and history (default: the notifier's kind). */
  name?: string;
  maxQueue?: number;
  /** Per-channel rate limit: at most this many messages a minute (later ones wait, none are lost). */
  perMinute?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  clock: () => number;
  /** Injected so tests do not wait for real backoff. */
  sleep?: (ms: number) => Promise<void>;
  onAttempt: (a: Attempt) => void;
}

export class ChannelQueue {
  private readonly queue: Notification[] = [];
  private running = false;
  private readonly abort = new AbortController();
  private readonly sleep: (ms: number) => Promise<void>;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly notifier: Notifier,
    private readonly opts: DeliveryOptions,
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms).unref()));
  }

  get name(): string {
    return this.opts.name ?? this.notifier.kind;
  }

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** False (and an attempt record saying so) when the queue is full. */
  enqueue(n: Notification): boolean {
    if (this.queue.length >= (this.opts.maxQueue ?? 100)) {
      this.opts.onAttempt({
        at: this.opts.clock(),
        channel: this.name,
        notificationId: n.id,
        ruleIds: ruleIdsOf(n),
        attempt: 0,
        ok: false,
        detail: 'queue full: not sent',
        final: true,
      });
      return false;
    }
    this.queue.push(n);
    if (!this.running) void this.work();
    return true;
  }

  /** Resolves when everything queued has been delivered or given up (for shutdown and tests). */
  idle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops the worker; whatever was still queued is recorded as not sent, never dropped silently. */
  close(reason = 'channel closed (reconfigured or shutting down)'): void {
    this.abort.abort();
    for (const n of this.queue.splice(0)) {
      this.opts.onAttempt({
        at: this.opts.clock(),
        channel: this.name,
        notificationId: n.id,
        ruleIds: ruleIdsOf(n),
        attempt: 0,
        ok: false,
        detail: `not sent: ${reason}`,
        final: true,
      });
    }
  }

  private readonly sentAt: number[] = [];

  /** Sliding-minute rate limit: wait until the oldest of the last perMinute sends is a minute old. */
  private async waitForRate(): Promise<void> {
    const limit = this.opts.perMinute;
    if (!limit) return;
    const now = this.opts.clock();
    while ((this.sentAt[0] ?? Number.POSITIVE_INFINITY) <= now - 60_000) this.sentAt.shift();
    const oldest = this.sentAt[0];
    if (oldest !== undefined && this.sentAt.length >= limit) {
      const waitMs = oldest + 60_000 - now;
      await this.sleep(waitMs);
      this.sentAt.shift();
    }
    this.sentAt.push(this.opts.clock());
  }

  private async work(): Promise<void> {
    this.running = true;
    while (!this.abort.signal.aborted) {
      const n = this.queue.shift();
      if (n === undefined) break;
      await this.waitForRate();
      const max = this.opts.maxAttempts ?? 5;
      for (let attempt = 1; attempt <= max; attempt++) {
        let result: SendResult;
        try {
          result = await this.notifier.send(n, this.abort.signal);
        } catch (err) {
          result = { ok: false as const, retry: true, error: (err as Error).message };
        }
        const final = result.ok || !result.retry || attempt === max;
        this.opts.onAttempt({
          at: this.opts.clock(),
          channel: this.name,
          notificationId: n.id,
          ruleIds: ruleIdsOf(n),
          attempt,
          ok: result.ok,
          detail: result.ok ? (result.detail ?? 'sent') : result.error,
          ...(result.ok && result.detailParts ? { detailParts: result.detailParts } : {}),
          final,
          ...(n.resend ? { resend: true } : {}),
        });
        if (final) break;
        await this.sleep((this.opts.baseDelayMs ?? 1_000) * 2 ** (attempt - 1));
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
