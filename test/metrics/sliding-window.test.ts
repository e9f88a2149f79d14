import { describe, expect, it } from 'vitest';
import { SlidingWindow, SLOT_MS, summarizeWindows } from '../../src/metrics/sliding-window.js';
import { seededRandom } from '../../src/demo/fake-upstream.js';

/** The q-quantile of sorted values by the same rank rule the sketch uses (lower, q·(n-1)). */
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('SlidingWindow', () => {
  it('answers P50/P95/P99 within 1 % of the exact values over 100k skewed samples', () => {
    const random = seededRandom(7);
    const n = 100_000;
    const values = new Float64Array(n);
    const t0 = 1_000_000_000_000;
    const w = new SlidingWindow(t0);
    for (let i = 0; i < n; i++) {
      // Log-normal (median 800 ms, heavy right tail) like VLM latencies, plus 2 % slow outliers.
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const v = random() < 0.02 ? 20_000 + random() * 60_000 : 800 * Math.exp(0.9 * z);
      values[i] = v;
      // Spread over 50 s: the answer merges ten slots' sketches.
      w.record(v, 200, t0 + (i / n) * 50_000);
    }
    const sorted = values.slice().sort();
    const s = w.summarize(60_000, t0 + 50_000);
    expect(s.count).toBe(n);
    for (const [q, got] of [
      [0.5, s.p50],
      [0.95, s.p95],
      [0.99, s.p99],
    ] as const) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(got! - exact) / exact, `P${q * 100}: sketch ${got} vs exact ${exact}`).toBeLessThanOrEqual(0.01);
    }
    const mean = values.reduce((a, b) => a + b, 0) / n;
    expect(s.mean).toBeCloseTo(mean, 6);
    expect(s.max).toBeGreaterThanOrEqual(sorted[n - 1]! * 0.99);
  });

  it('forgets requests older than the window', () => {
    const t0 = 1_000_000_000_000;
    const w = new SlidingWindow(t0 - 600_000);
    for (let i = 0; i < 10; i++) w.record(100, 200, t0);
    for (let i = 0; i < 5; i++) w.record(300, 500, t0 + 90_000);
    const one = w.summarize(60_000, t0 + 90_000);
    expect(one.count).toBe(5);
    expect(one.p50).toBeCloseTo(300, -1);
    expect(one.errorRatePercent).toBe(100);
    const five = w.summarize(300_000, t0 + 90_000);
    expect(five.count).toBe(15);
    expect(five.status2xx).toBe(10);
    expect(five.status5xx).toBe(5);
    expect(five.errorRatePercent).toBeCloseTo((5 / 15) * 100, 10);
    expect(five.errorRate5xxPercent).toBeCloseTo((5 / 15) * 100, 10);
    // Five minutes later everything has aged out, even though the ring slots are reused.
    expect(w.summarize(300_000, t0 + 400_000).count).toBe(0);
  });

  it('divides by the time really covered: 30 requests in the first 10 s are 3 rps, not 0.5', () => {
    const t0 = 1_000_000_000_000;
    const w = new SlidingWindow(t0);
    for (let i = 0; i < 30; i++) w.record(50, 200, t0 + i * 300);
    const s = w.summarize(60_000, t0 + 10_000);
    expect(s.coveredMs).toBe(10_000);
    expect(s.perSecond).toBeCloseTo(3, 10);
  });

  it('covers whole slots: a 1-minute window 2 s into a slot spans 57 s', () => {
    const start = 1_000_000_000_000; // a multiple of SLOT_MS
    const w = new SlidingWindow(start);
    const now = start + 3_600_000 + 2_000;
    // One request a second for the last 100 s.
    for (let i = 0; i < 100; i++) w.record(10, 200, now - i * 1_000);
    const s = w.summarize(60_000, now);
    expect(s.coveredMs).toBe(11 * SLOT_MS + 2_000);
    expect(s.count).toBe(57 + 1); // t = now-57 s … now, both ends inside
    expect(s.perSecond).toBeCloseTo(58 / 57, 10);
  });

  it('merges several endpoints by merging sketches, not by averaging quantiles', () => {
    const t0 = 1_000_000_000_000;
    const fast = new SlidingWindow(t0);
    const slow = new SlidingWindow(t0);
    for (let i = 0; i < 900; i++) fast.record(10, 200, t0 + 1000);
    for (let i = 0; i < 100; i++) slow.record(5000, 200, t0 + 1000);
    const s = summarizeWindows([fast, slow], 60_000, t0 + 2000);
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(10, -0.5);
    expect(s.p95).toBeGreaterThan(4900);
  });
});
