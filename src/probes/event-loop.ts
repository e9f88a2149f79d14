// How long the event loop could run nothing: Node's monitorEventLoopDelay histogram, read
// and reset once per check, so each check reports the worst stall since the previous one.
// Its own timer measures the stall, so the check that a stall delayed still reports it.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What the probe needs of a histogram: Node's IntervalHistogram, in nanoseconds. */
export interface DelayHistogram {
  readonly count: number;
  readonly max: number;
  percentile(percentile: number): number;
  reset(): void;
}

export interface EventLoopReading {
  /** The longest the loop ran nothing it was due to run, since the previous reading. */
  maxMs?: number;
  /** The 99th percentile of those delays. */
  p99Ms?: number;
}

/**
 * Node records the time between two firings of a timer set to `resolutionMs`, so an idle
 * loop records the resolution itself: that part is the sampling period, not delay.
 * No firing since the last reset (less than one period) is no reading, not a zero.
 */
export function delayOf(histogram: DelayHistogram, resolutionMs: number): EventLoopReading {
  if (histogram.count === 0) return {};
  const ms = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return { maxMs: ms(histogram.max), p99Ms: ms(histogram.percentile(99)) };
}

/**
 * One loop turn: a stall that ended just before the check (even in the same callback) is
 * recorded when the histogram's timer next fires, in the timers phase of the next turn,
 * ahead of any timer set now; the immediate runs after that whole phase.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(() => setImmediate(resolve), 0));
}

export interface EventLoopProbeOptions {
  /** The histogram's timer period; a stall shorter than this can go unseen. */
  resolutionMs?: number;
  /** Tests drive the probe with their own histogram, clock and timer. */
  histogram?: DelayHistogram;
  /** Monotonic milliseconds (performance.now). */
  now?: () => number;
  /** A one-shot timer that keeps nothing alive. */
  setTimer?: (fn: () => void, ms: number) => void;
}

export class EventLoopProbe {
  /** 20 ms: a fifth of the warn threshold, 50 wake-ups a second. */
  static readonly RESOLUTION_MS = 20;
  private readonly resolutionMs: number;
  private readonly histogram: DelayHistogram;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => void;
  private readonly stop: () => void;
  /** How late the guard timer of the current interval fired; undefined until it has. */
  private guardLateMs: number | undefined;
  private guard = 0;

  constructor(opts: EventLoopProbeOptions = {}) {
    this.resolutionMs = opts.resolutionMs ?? EventLoopProbe.RESOLUTION_MS;
    this.now = opts.now ?? (() => performance.now());
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    if (opts.histogram) {
      this.histogram = opts.histogram;
      this.stop = () => {};
    } else {
      const h = monitorEventLoopDelay({ resolution: this.resolutionMs });
      h.enable();
      this.histogram = h;
      this.stop = () => h.disable();
    }
    this.armGuard();
  }

  /**
   * A reset histogram records nothing at its timer's first firing (Node keeps no previous
   * firing to measure from), so a stall that starts within one period of the reset would
   * go unseen; the check's own work starts there. A one-shot timer due one period after
   * the reset covers that period: a stall in it makes the timer late by at least the stall
   * less one period.
   */
  private armGuard(): void {
    const guard = ++this.guard;
    const due = this.now() + this.resolutionMs;
    this.guardLateMs = undefined;
    this.setTimer(() => {
      if (guard === this.guard) this.guardLateMs = Math.max(0, this.now() - due);
    }, this.resolutionMs);
  }

  /** The delays since the previous sample; measuring starts again from here. */
  async sample(): Promise<EventLoopReading> {
    await nextTurn();
    const reading = delayOf(this.histogram, this.resolutionMs);
    const late = this.guardLateMs;
    this.histogram.reset();
    this.armGuard();
    if (late === undefined) return reading;
    if (reading.maxMs === undefined) return { maxMs: late, p99Ms: late };
    return { ...reading, maxMs: Math.max(reading.maxMs, late) };
  }

  /** Stops the histogram's timer (the app's shutdown). */
  close(): void {
    this.guard++;
    this.stop();
  }
}
