// The model layer's running totals since start, as Prometheus wants them (counters and
// cumulative histograms, never reset), beside ModelStats' sliding windows. Every slot is
// created up front or on a label set's first use, so recording is arithmetic on an
// existing object: no allocation, no hashing (the hot path of every model request).
import { CONFIDENCE_BUCKETS, FRAMES_PER_SECOND_BUCKETS, STAGE_BUCKETS_S, TOKEN_BUCKETS } from './buckets.js';
import { CumulativeHistogram } from './service-stats.js';

export interface ImageTotals {
  /** Images (video: frames) prepared for the model. */
  ok: number;
  /** Images that could not be fetched or prepared. */
  failed: number;
  /** Images sent through the degraded path (IMAGE_ON_PREPROC_FAILURE=degrade). */
  degraded: number;
}

export class ModelTotals<M extends string, S extends string> {
  /** Stage durations in seconds, by module and stage. */
  readonly stageSeconds: Record<M, Record<S, CumulativeHistogram>>;
  readonly inputTokens: Record<M, CumulativeHistogram>;
  readonly images: Record<M, ImageTotals>;
  /**
   * Requests not answered, by module and error code (codes are the fixed set of errors.ts):
   * the known codes from the start, at 0; any other from its first use.
   */
  readonly errors: Record<M, Map<string, { n: number }>>;
  readonly ocrConfidence = new CumulativeHistogram(CONFIDENCE_BUCKETS);
  /** GUI steps by outcome: a valid action in time, or not; and executions the client reported failed. */
  readonly guiSteps = { valid: 0, invalid: 0, executionFailed: 0, seconds: 0 };
  readonly videoFramesPerSecond = new CumulativeHistogram(FRAMES_PER_SECOND_BUCKETS);
  videoFrames = 0;

  constructor(modules: readonly M[], stages: readonly S[], knownErrorCodes: readonly string[] = []) {
    const perModule = <T>(make: () => T) => Object.fromEntries(modules.map((m) => [m, make()])) as Record<M, T>;
    this.stageSeconds = perModule(
      () =>
        Object.fromEntries(stages.map((s) => [s, new CumulativeHistogram(STAGE_BUCKETS_S)])) as Record<
          S,
          CumulativeHistogram
        >,
    );
    this.inputTokens = perModule(() => new CumulativeHistogram(TOKEN_BUCKETS));
    this.images = perModule(() => ({ ok: 0, failed: 0, degraded: 0 }));
    this.errors = perModule(() => new Map(knownErrorCodes.map((code) => [code, { n: 0 }])));
  }

  error(module: M, code: string): void {
    const byCode = this.errors[module];
    const slot = byCode.get(code);
    if (slot) slot.n++;
    else byCode.set(code, { n: 1 });
  }
}
