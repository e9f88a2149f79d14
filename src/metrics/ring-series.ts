// A fixed-size ring of (time, value) points: one per check, oldest overwritten first,
// so a series never grows however long the server runs.
import { z } from 'zod';

/**
 * A point as answers carry it: [time ms, value]. Typed as a pair; described as two numbers
 * (OpenAPI 3.0 has no tuples: a tuple's `anyOf` of two equal schemas says nothing more).
 */
export const pointPair = z.tuple([z.number(), z.number()]).meta({ items: { type: 'number' } });

export interface Point {
  t: number; // ms since epoch
  v: number;
}

export class RingSeries {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private head = 0; // next write position
  private size = 0;
  /**
   * The last check that read the series and found nothing to record (a window with no
   * requests has no latency): after the newest point, that point is no longer the value now.
   */
  private emptyAt = Number.NEGATIVE_INFINITY;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(t: number, v: number): void {
    this.times[this.head] = t;
    this.values[this.head] = v;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /**
   * The series was read at `t` and had no value: not a missed check (which leaves the newest
   * point standing until it is stale), but a figure that has none now.
   */
  markEmpty(t: number): void {
    this.emptyAt = t;
  }

  /** When a check found the series empty after its newest point; null while that point is current. */
  get emptySince(): number | null {
    const i = (this.head - 1 + this.capacity) % this.capacity;
    return this.size > 0 && this.emptyAt > (this.times[i] ?? 0) ? this.emptyAt : null;
  }

  /** The newest point, or undefined when there is none or a check found the series empty since. */
  last(): Point | undefined {
    if (this.size === 0) return undefined;
    const i = (this.head - 1 + this.capacity) % this.capacity;
    const t = this.times[i] ?? 0;
    if (this.emptyAt > t) return undefined;
    return { t, v: this.values[i] ?? 0 };
  }

  /** Mean of the values with sinceMs <= t < beforeMs, without allocating; null when none. */
  meanBetween(sinceMs: number, beforeMs: number): number | null {
    let sum = 0;
    let n = 0;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head - 1 - k + this.capacity) % this.capacity;
      const t = this.times[i] ?? 0;
      if (t < sinceMs) break; // newest first: everything further back is older
      if (t >= beforeMs) continue;
      sum += this.values[i] ?? 0;
      n++;
    }
    return n === 0 ? null : sum / n;
  }

  /** Values with sinceMs <= t < beforeMs, newest first: no point object per value, and no look past sinceMs. */
  valuesBetween(sinceMs: number, beforeMs: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.size; k++) {
      const i = (this.head - 1 - k + this.capacity) % this.capacity;
      const t = this.times[i] ?? 0;
      if (t < sinceMs) break;
      if (t < beforeMs) out.push(this.values[i] ?? 0);
    }
    return out;
  }

  /** Points with t >= sinceMs, oldest first. */
  since(sinceMs: number): Point[] {
    const out: Point[] = [];
    const start = (this.head - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.capacity;
      const t = this.times[i] ?? 0;
      if (t >= sinceMs) out.push({ t, v: this.values[i] ?? 0 });
    }
    return out;
  }
}
