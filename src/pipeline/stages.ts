// Times the stages of one model request (preprocess → inference → postprocess) and the
// total, into the request's answer and the Monitor's model-layer windows.
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { ModelStats, ModuleName, RequestStages, Stage, StageRecorder } from '../metrics/model-stats.js';

export type StageTimes = Partial<Record<Stage, number>>;

/** A request's stage times in ms, as the model routes answer them. */
export const stageTimesSchema = z.object({
  preprocess: z.number().optional(),
  inference: z.number().optional(),
  postprocess: z.number().optional(),
  total: z.number().optional(),
});

export class StageTimer {
  readonly times: StageTimes = {};
  private readonly started = performance.now();
  /** Stages started with start() and not ended yet: finish() ends them. */
  private readonly open = new Set<() => void>();

  private readonly windows: Readonly<Record<Stage, StageRecorder>> | null;
  /** The request's stages together, when it ends: the means that add up. */
  private readonly request: RequestStages | null;

  constructor(
    module: ModuleName,
    stats: ModelStats | null,
    private readonly clock: () => number,
  ) {
    this.windows = stats ? stats.stageWindows(module) : null;
    this.request = stats?.requestStages.get(module) ?? null;
  }

  async run<T>(stage: Exclude<Stage, 'total'>, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.record(stage, performance.now() - t0);
    }
  }

  /** As run, for a stage that does not wait: no promise, no turn of the event loop. */
  runSync<T>(stage: Exclude<Stage, 'total'>, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.record(stage, performance.now() - t0);
    }
  }

  /**
   * Starts a stage whose end is not a single await (a streamed answer ends on an event);
   * the returned function ends it, once: later calls do nothing.
   */
  start(stage: Exclude<Stage, 'total'>): () => void {
    const t0 = performance.now();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.open.delete(end);
      this.record(stage, performance.now() - t0);
    };
    this.open.add(end);
    return end;
  }

  /**
   * Ends the request: ends any stage still open, and records the total (also for failed
   * requests: they took time too).
   */
  finish(): number {
    for (const end of [...this.open]) end();
    const total = performance.now() - this.started;
    // One time for both: the total's window and the stage bar's hold the same requests.
    const now = this.clock();
    this.record('total', total, now);
    this.request?.record(this.times, now);
    return total;
  }

  private record(stage: Stage, ms: number, now = this.clock()): void {
    this.times[stage] = ms;
    this.windows?.[stage].record(ms, now);
  }
}
