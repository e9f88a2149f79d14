// A sliding window of values: a ring of fixed time slots, each holding a count, a sum,
// the status classes of the values that are responses, and a DDSketch (≤ 1 % relative
// error). It holds request latencies, and also OCR confidences, tokens per second and
// video frames per second: anything whose mean and quantiles over the last minutes
// matter. Windows are answered by merging the slots they cover, so 1-minute and 5-minute
// quantiles come from the same data.
import { DDSketch } from '@datadog/sketches-js';

/** Width of one slot. Windows are whole numbers of slots. */
export const SLOT_MS = 5_000;
/** The longest window a query may ask for (and so how much the ring keeps). */
export const MAX_WINDOW_MS = 300_000;
export const RELATIVE_ACCURACY = 0.01;

const SLOT_COUNT = MAX_WINDOW_MS / SLOT_MS;

class Slot {
  no = -1; // absolute slot number (time / SLOT_MS); -1 = never used
  count = 0;
  c2xx = 0;
  c3xx = 0;
  c4xx = 0;
  c5xx = 0;
  sum = 0;
  sketch: DDSketch | null = null;

  reset(no: number): void {
    this.no = no;
    this.count = this.c2xx = this.c3xx = this.c4xx = this.c5xx = 0;
    this.sum = 0;
    // A fresh sketch every slot reuse: at most one allocation per endpoint per 5 s.
    this.sketch = null;
  }
}

export interface WindowSummary {
  windowMs: number;
  /** How much time the numbers really cover (shorter than windowMs just after start). */
  coveredMs: number;
  count: number;
  /** Values recorded per second of covered time (requests per second for latencies). */
  perSecond: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  /** The tutorial's error rate: share of values recorded with a 4xx or 5xx status, in percent; null when there were none. */
  errorRatePercent: number | null;
  /** Share recorded with a 5xx status alone (the server's own failures), in percent; null when there were none. */
  errorRate5xxPercent: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export class SlidingWindow {
  private readonly slots: Slot[] = Array.from({ length: SLOT_COUNT }, () => new Slot());

  /** @param startedAtMs when counting began: windows never claim time before it. */
  constructor(readonly startedAtMs: number) {}

  /**
   * Hot path: arithmetic on preallocated slots; the only allocation is one sketch per
   * slot. `statusCode` 0 records a value that is not a response (e.g. time to first token).
   */
  record(value: number, statusCode: number, nowMs: number): void {
    const no = Math.floor(nowMs / SLOT_MS);
    const slot = this.slots[no % SLOT_COUNT];
    if (!slot) return;
    if (slot.no !== no) slot.reset(no);
    slot.count++;
    slot.sum += value;
    if (statusCode >= 500) slot.c5xx++;
    else if (statusCode >= 400) slot.c4xx++;
    else if (statusCode >= 300) slot.c3xx++;
    else if (statusCode >= 200) slot.c2xx++;
    slot.sketch ??= new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
    slot.sketch.accept(value);
  }

  /** Adds the slots numbered firstNo..nowNo into `acc`. */
  accumulate(acc: WindowAccumulator, firstNo: number, nowNo: number): void {
    for (const slot of this.slots) {
      if (slot.no < firstNo || slot.no > nowNo) continue;
      acc.count += slot.count;
      acc.c2xx += slot.c2xx;
      acc.c3xx += slot.c3xx;
      acc.c4xx += slot.c4xx;
      acc.c5xx += slot.c5xx;
      acc.sum += slot.sum;
      if (slot.sketch) acc.sketch.merge(slot.sketch);
    }
  }

  summarize(windowMs: number, nowMs: number): WindowSummary {
    return summarizeWindows([this], windowMs, nowMs);
  }
}

interface WindowAccumulator {
  count: number;
  c2xx: number;
  c3xx: number;
  c4xx: number;
  c5xx: number;
  sum: number;
  sketch: DDSketch;
}

/**
 * Merges the slots of several windows inside [now - windowMs, now] (rounded up to whole
 * slots): one endpoint, or all model endpoints together. Quantiles come from the merged
 * sketch, never from averaging per-endpoint quantiles.
 */
export function summarizeWindows(windows: readonly SlidingWindow[], windowMs: number, nowMs: number): WindowSummary {
  const span = Math.min(SLOT_COUNT, Math.max(1, Math.ceil(windowMs / SLOT_MS)));
  const nowNo = Math.floor(nowMs / SLOT_MS);
  const firstNo = nowNo - span + 1;
  const acc: WindowAccumulator = {
    count: 0,
    c2xx: 0,
    c3xx: 0,
    c4xx: 0,
    c5xx: 0,
    sum: 0,
    sketch: new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }),
  };
  let startedAtMs = Infinity;
  for (const w of windows) {
    w.accumulate(acc, firstNo, nowNo);
    startedAtMs = Math.min(startedAtMs, w.startedAtMs);
  }
  const count = acc.count;
  const windowStart = Math.max(firstNo * SLOT_MS, startedAtMs === Infinity ? nowMs : startedAtMs);
  // At least one second, so a request in the first millisecond is not "1000 rps".
  const coveredMs = Math.max(1_000, nowMs - windowStart);
  const q = (p: number) => (count === 0 ? null : acc.sketch.getValueAtQuantile(p));
  return {
    windowMs: span * SLOT_MS,
    coveredMs,
    count,
    perSecond: count / (coveredMs / 1_000),
    status2xx: acc.c2xx,
    status3xx: acc.c3xx,
    status4xx: acc.c4xx,
    status5xx: acc.c5xx,
    errorRatePercent: count === 0 ? null : ((acc.c4xx + acc.c5xx) / count) * 100,
    errorRate5xxPercent: count === 0 ? null : (acc.c5xx / count) * 100,
    mean: count === 0 ? null : acc.sum / count,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: count === 0 ? null : acc.sketch.max,
  };
}
