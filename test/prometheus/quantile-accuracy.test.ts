// Prometheus' histogram_quantile(0.95, …) over /metrics' latency buckets against the
// Monitor's own P95 (DDSketch), for known latency distributions whose P95 is anywhere from
// 50 ms to 60 s: the two must agree within 5 %, so a Grafana panel and the Monitor's card
// tell the operator the same thing.
import { describe, expect, it } from 'vitest';
import { EndpointStats } from '../../src/metrics/service-stats.js';
import { CumulativeHistogram } from '../../src/metrics/service-stats.js';
import { DISTRIBUTIONS, histogramQuantile } from './histogram-quantile.js';

const T0 = Date.UTC(2026, 10, 25, 12);
const SAMPLES = 2_000;
/** 61 P95 targets, evenly spaced on a log scale from 50 ms to 60 s. */
const TARGETS_MS = Array.from({ length: 61 }, (_, i) => 50 * 1200 ** (i / 60));

function worstError(make: (p95Ms: number, n: number) => number[], buckets?: readonly number[]) {
  let worst = { error: 0, atMs: 0, monitorMs: 0, prometheusMs: 0 };
  for (const target of TARGETS_MS) {
    const ep = new EndpointStats('POST', '/api/ocr', 'model', T0);
    const h = buckets ? new CumulativeHistogram(buckets) : ep.durations;
    for (const ms of make(target, SAMPLES)) {
      ep.record(ms, 200, T0); // the timing hook's own call
      if (buckets) h.observe(ms / 1_000);
    }
    const monitorMs = ep.window.summarize(60_000, T0).p95!;
    const prometheusMs = histogramQuantile(0.95, h) * 1_000;
    const error = Math.abs(prometheusMs - monitorMs) / monitorMs;
    if (error > worst.error) worst = { error, atMs: target, monitorMs, prometheusMs };
  }
  return worst;
}

describe('latency buckets against the Monitor P95', () => {
  for (const [shape, make] of Object.entries(DISTRIBUTIONS)) {
    it(`${shape}: histogram_quantile(0.95) is within 5 % of the Monitor's P95 from 50 ms to 60 s`, () => {
      const worst = worstError(make);
      console.log(
        `${shape}: worst ${(worst.error * 100).toFixed(2)} % at P95 ${worst.monitorMs.toFixed(0)} ms (Prometheus ${worst.prometheusMs.toFixed(0)} ms)`,
      );
      expect(worst.error).toBeLessThan(0.05);
    });
  }

  it('would fail with the old 1-2-5 buckets (5 ms … 120 s, 15 bounds): the test can tell', () => {
    const old = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
    const worst = worstError(DISTRIBUTIONS['log-normal σ=0.25']!, old);
    console.log(
      `old buckets, log-normal σ=0.25: worst ${(worst.error * 100).toFixed(1)} % at P95 ${worst.monitorMs.toFixed(0)} ms (Prometheus ${worst.prometheusMs.toFixed(0)} ms)`,
    );
    expect(worst.error).toBeGreaterThan(0.15);
  });
});
