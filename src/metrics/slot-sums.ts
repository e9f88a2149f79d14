// Sums and counts in the same 5-second slots as the request windows, for numbers that need
// only a mean over a window (response sizes): preallocated, no sketch, no allocation per record.
import { MAX_WINDOW_MS, SLOT_MS } from './sliding-window.js';

const SLOT_COUNT = MAX_WINDOW_MS / SLOT_MS;

export class SlotSums {
  private readonly no = new Float64Array(SLOT_COUNT).fill(-1);
  private readonly sums = new Float64Array(SLOT_COUNT);
  private readonly counts = new Float64Array(SLOT_COUNT);

  record(value: number, nowMs: number): void {
    const n = Math.floor(nowMs / SLOT_MS);
    const i = n % SLOT_COUNT;
    if (this.no[i] !== n) {
      this.no[i] = n;
      this.sums[i] = 0;
      this.counts[i] = 0;
    }
    this.sums[i] = (this.sums[i] ?? 0) + value;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  /** Count and mean over the slots inside [now - windowMs, now]; mean null without records. */
  summarize(windowMs: number, nowMs: number): { count: number; mean: number | null } {
    const nowNo = Math.floor(nowMs / SLOT_MS);
    const first = nowNo - Math.min(SLOT_COUNT, Math.max(1, Math.ceil(windowMs / SLOT_MS))) + 1;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < SLOT_COUNT; i++) {
      const no = this.no[i] ?? -1;
      if (no < first || no > nowNo) continue;
      sum += this.sums[i] ?? 0;
      count += this.counts[i] ?? 0;
    }
    return { count, mean: count ? sum / count : null };
  }
}
