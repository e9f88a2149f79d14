// The channels in force: the built-in console and the configured list, each with its
// notifier and its own delivery queue. Applying a new list keeps the queue of every
// channel that did not change (what it holds is still sent) and closes the others (what
// they held is recorded as not sent, never dropped silently).
import { AppError } from '../errors.js';
import { CONSOLE, type Channel, type ChannelDeps, type ChannelNotifier, type ChannelView } from './channel-type.js';
import type { ChannelQueue } from './delivery.js';
import type { Resend } from './notice-policy.js';
import type { Notification, SendResult } from './notifier.js';
import { consoleNotifier } from './notifiers/console.js';

interface Live {
  channel: Channel | null;
  notifier: ChannelNotifier;
  queue: ChannelQueue;
}

export interface ChannelSetOptions {
  deps: ChannelDeps;
  broadcast: (n: Notification) => void;
  /** A delivery queue for a notifier under a channel's name. */
  queue: (notifier: ChannelNotifier, name: string) => ChannelQueue;
}

const same = (a: Channel, b: Channel) => a.type === b.type && JSON.stringify(a.stored) === JSON.stringify(b.stored);

export class ChannelSet {
  private configured: Channel[] = [];
  private readonly live = new Map<string, Live>();

  constructor(private readonly opts: ChannelSetOptions) {
    const notifier = consoleNotifier(opts.broadcast);
    this.live.set(CONSOLE, { channel: null, notifier, queue: opts.queue(notifier, CONSOLE) });
  }

  /** The configured channels (not the console), in their order. */
  get list(): readonly Channel[] {
    return this.configured;
  }

  has(name: string): boolean {
    return this.live.has(name);
  }

  /** Puts a (saved) list in force. */
  apply(next: readonly Channel[]): void {
    const keep = new Set<string>();
    for (const c of next) {
      const cur = this.live.get(c.name);
      if (cur?.channel && same(cur.channel, c)) keep.add(c.name);
    }
    for (const [name, l] of this.live) {
      if (name === CONSOLE || keep.has(name)) continue;
      l.queue.close();
      l.notifier.close?.();
      this.live.delete(name);
    }
    for (const c of next) {
      const kept = keep.has(c.name) ? this.live.get(c.name) : undefined;
      if (kept) {
        kept.channel = c;
        continue;
      }
      const notifier = c.create(this.opts.deps);
      this.live.set(c.name, { channel: c, notifier, queue: this.opts.queue(notifier, c.name) });
    }
    this.configured = [...next];
  }

  /** What GET shows: the console first, then each channel without its secrets. */
  views(): ChannelView[] {
    return [{ name: CONSOLE, type: CONSOLE, builtIn: true }, ...this.configured.map((c) => c.view(this.opts.deps))];
  }

  /** One channel as GET shows it. */
  viewOf(channel: Channel): ChannelView {
    return channel.view(this.opts.deps);
  }

  queue(name: string): ChannelQueue | undefined {
    return this.live.get(name)?.queue;
  }

  /** Channels that want alerts re-sent (Alertmanager), by name. */
  resending(): Map<string, Resend> {
    const out = new Map<string, Resend>();
    for (const c of this.configured) if (c.resend) out.set(c.name, c.resend);
    return out;
  }

  /** One attempt straight to the notifier: not behind queued notices, rate limits or retries. */
  async sendNow(name: string, n: Notification): Promise<SendResult> {
    const l = this.live.get(name);
    if (!l) throw new AppError('NOT_FOUND', `channel ${name} is not configured`, { field: 'name' });
    try {
      return await l.notifier.send(n, new AbortController().signal);
    } catch (err) {
      return { ok: false, retry: false, error: (err as Error).message };
    }
  }

  async idle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.queue.idle()));
  }

  close(): void {
    for (const l of this.live.values()) {
      l.queue.close();
      l.notifier.close?.();
    }
  }
}
