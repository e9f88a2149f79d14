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

  /** The newest point, or undefined when empty. */
  last(): Point | undefined {
    if (this.size === 0) return undefined;
    const i = (this.head - 1 + this.capacity) % this.capacity;
    return { t: this.times[i] ?? 0, v: this.values[i] ?? 0 };
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
