// Upper bounds of the histograms /metrics exports. Prometheus' histogram_quantile()
// interpolates linearly inside a bucket, so its error is set by how wide the bucket is
// around the quantile: latency buckets follow the Renard R20 series (each bound 12 %
// above the last) from 50 ms to 100 s, which keeps histogram_quantile(0.95, …) within
// 5 % of the Monitor's own P95 (test/prometheus/quantile-accuracy.test.ts measures it).

/** Renard preferred numbers: R5 steps by 10^(1/5) ≈ 1.6, R10 by ≈ 1.26, R20 by ≈ 1.12. */
const R5 = [1, 1.6, 2.5, 4, 6.3] as const;
const R10 = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8] as const;
const R20 = [1, 1.12, 1.25, 1.4, 1.6, 1.8, 2, 2.24, 2.5, 2.8, 3.15, 3.55, 4, 4.5, 5, 5.6, 6.3, 7.1, 8, 9] as const;

/** The series' numbers times each power of ten from `from` to `to` (inclusive), rounded. */
function series(mantissas: readonly number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let exp = Math.floor(Math.log10(from)); exp <= Math.ceil(Math.log10(to)); exp++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** exp).toPrecision(4));
      if (v >= from && v <= to) out.push(v);
    }
  }
  return out;
}

/**
 * Request latency and time to first token, seconds: coarse below 50 ms (health checks,
 * the Monitor's own API), R20 from 50 ms to 100 s, then coarse up to 10 minutes (long
 * videos). 78 buckets.
 */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.005,
  0.01,
  0.015,
  0.02,
  0.025,
  0.03,
  0.04,
  ...series(R20, 0.05, 100),
  120,
  180,
  300,
  600,
];

/**
 * Pipeline stage durations, seconds: R5 from 1 ms (a cached resize) to 100 s, 28 buckets.
 * The Monitor shows stage means (exact from _sum and _count); 16 module × stage series make
 * finer buckets expensive, and a stage's quantile here is a rough one (±25 %).
 */
export const STAGE_BUCKETS_S: readonly number[] = [...series(R5, 0.001, 100), 300, 600];

/** OCR confidence (mean token probability, 0–1): finest where thresholds sit (0.6–0.99). */
export const CONFIDENCE_BUCKETS: readonly number[] = [
  0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 1,
];

/** Input tokens of a request: powers of two up to Qwen3-VL's 256 K context, and 192 000 (the long-context preset). */
export const TOKEN_BUCKETS: readonly number[] = [
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 192000, 262144,
];

/** Video frames understood per second of inference. */
export const FRAMES_PER_SECOND_BUCKETS: readonly number[] = series(R10, 0.1, 1000);

/** Response body sizes, bytes: powers of ten and their halves, 100 B to 100 MB. */
export const SIZE_BUCKETS_BYTES: readonly number[] = [100, 500, 1e3, 5e3, 1e4, 5e4, 1e5, 5e5, 1e6, 5e6, 1e7, 1e8];
