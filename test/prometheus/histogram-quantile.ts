// Prometheus' histogram_quantile() for one histogram, ported line by line from
// promql/quantile.go (bucketQuantile, Prometheus v2.42.0): linear interpolation inside
// the bucket where the rank falls, 0 as the first bucket's lower bound, and the highest
// finite bound when the rank falls in +Inf. The real Prometheus test checks it agrees.
import type { CumulativeHistogram } from '../../src/metrics/service-stats.js';

export function histogramQuantile(q: number, h: CumulativeHistogram): number {
  const bounds = [...h.bounds, Infinity];
  const cumulative: number[] = [];
  let acc = 0;
  for (let i = 0; i < bounds.length; i++) {
    acc += h.counts[i]!;
    cumulative.push(acc);
  }
  const observations = cumulative.at(-1)!;
  if (observations === 0) return NaN;
  const rank = q * observations;
  let b = 0;
  while (b < bounds.length - 1 && cumulative[b]! < rank) b++;
  if (b === bounds.length - 1) return bounds[bounds.length - 2]!;
  if (b === 0 && bounds[0]! <= 0) return bounds[0]!;
  let start = 0;
  let count = cumulative[b]!;
  let r = rank;
  if (b > 0) {
    start = bounds[b - 1]!;
    count -= cumulative[b - 1]!;
    r -= cumulative[b - 1]!;
  }
  return start + (bounds[b]! - start) * (r / count);
}

/** The standard normal's inverse CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** Latency distributions, as n evenly spaced quantiles (no randomness): shape → P95 → ms. */
export const DISTRIBUTIONS: Record<string, (p95Ms: number, n: number) => number[]> = {
  // Log-normal: request latencies; σ 0.1 is a tight service (P95 = 1.18 × median).
  ...Object.fromEntries(
    [0.1, 0.25, 0.5, 1].map((sigma) => [
      `log-normal σ=${sigma}`,
      (p95: number, n: number) => {
        const median = p95 / Math.exp(sigma * normalQuantile(0.95));
        return Array.from({ length: n }, (_, i) => median * Math.exp(sigma * normalQuantile((i + 0.5) / n)));
      },
    ]),
  ),
  // Uniform from half to one and a half of its middle: a sharp upper edge near the P95.
  'uniform ±50 %': (p95, n) => {
    const mid = p95 / 1.45;
    return Array.from({ length: n }, (_, i) => mid * (0.5 + (i + 0.5) / n));
  },
  // Exponential: a long tail (queueing).
  exponential: (p95, n) => Array.from({ length: n }, (_, i) => (p95 / -Math.log(0.05)) * -Math.log(1 - (i + 0.5) / n)),
};
