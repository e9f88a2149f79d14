// Model-layer statistics, fed by the pipeline: stage durations per module, OCR
// confidence and failures, GUI step outcomes, video speed, input tokens, preprocessing
// failures and degraded images, failures by error code. Every number is a sliding window
// of the same 5-second slots as the service layer.
import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { SlidingWindow } from './sliding-window.js';
import { ModelTotals } from './model-totals.js';
import { SlotSums } from './slot-sums.js';

export const MODULES = ['vlm', 'gui', 'ocr', 'video'] as const;
export type ModuleName = (typeof MODULES)[number];
/** One of something per module, made in the order of MODULES. */
export const perModule = <T>(make: (m: ModuleName) => T): Record<ModuleName, T> => ({
  vlm: make('vlm'),
  gui: make('gui'),
  ocr: make('ocr'),
  video: make('video'),
});
/** Modules that preprocess images themselves (chat passes its images through). */
export const IMAGE_MODULES = ['ocr', 'gui', 'video'] as const;
export const STAGES = ['preprocess', 'inference', 'postprocess', 'total'] as const;
export type Stage = (typeof STAGES)[number];
/**
 * The codes a model request ends with when it is not answered: the request refused (its
 * body, its images, its size, the key, the rate), the model server failing, the client
 * leaving, our own failure. /metrics has each module × each of these from the start, at 0
 * (rate() then counts the first error too); a code outside the list still counts from its
 * first use. The Monitor's own windows are unchanged: they hold what happened.
 */
export const MODEL_ERROR_CODES = [
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'IMAGE_UNREADABLE',
  'IMAGE_TOO_LARGE',
  'IMAGE_FORMAT_UNSUPPORTED',
  'IMAGE_FETCH_FAILED',
  'URL_NOT_ALLOWED',
  'CONTEXT_TOO_LONG',
  'TOO_MANY_REQUESTS',
  'CLIENT_CLOSED',
  'UPSTREAM_NOT_CONFIGURED',
  'SHUTTING_DOWN',
  'UPSTREAM_UNREACHABLE',
  'UPSTREAM_BAD_ANSWER',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_OOM',
  'UPSTREAM_STREAM_CUT',
  'UPSTREAM_ERROR',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];

export interface RequestEvent {
  t: number;
  module: ModuleName;
  inputTokens: number;
  source?: 'upstream' | 'estimated';
  client?: string;
  requestId?: string;
}

/** Where a request's timer records one stage: its window's sums and its running histogram. */
export interface StageRecorder {
  record(ms: number, now: number): void;
}

/** Where a request's stages went, as means over the same requests (they add up to `total`). */
export const stageBreakdownSchema = z.object({
  requests: z.number().describe('Requests that ended in the window: every mean is over these'),
  preprocess: z.number(),
  inference: z.number(),
  postprocess: z.number(),
  other: z.number().describe('The rest of the total: waiting for an upload slot, validation, writing the answer'),
  total: z.number(),
});
export type StageBreakdown = z.infer<typeof stageBreakdownSchema>;

/**
 * Every request's stages, recorded together as it ends, a stage it never reached (a request
 * refused in preprocessing has no inference) as 0. Means over the same requests add up:
 * preprocess + inference + postprocess + other = total. Per-stage windows (the series
 * inference_duration_ms) average each stage over the requests that ran it, and do not.
 */
export class RequestStages {
  private readonly sums: Record<Stage, SlotSums> = {
    preprocess: new SlotSums(),
    inference: new SlotSums(),
    postprocess: new SlotSums(),
    total: new SlotSums(),
  };

  record(times: Partial<Record<Stage, number>>, now: number): void {
    for (const s of STAGES) this.sums[s].record(times[s] ?? 0, now);
  }

  /** Null when no request ended in the window. */
  summarize(windowMs: number, now: number): StageBreakdown | null {
    const mean = (s: Stage) => this.sums[s].summarize(windowMs, now);
    const total = mean('total');
    if (total.mean === null) return null;
    const [pre, inf, post] = [mean('preprocess').mean ?? 0, mean('inference').mean ?? 0, mean('postprocess').mean ?? 0];
    return {
      requests: total.count,
      preprocess: pre,
      inference: inf,
      postprocess: post,
      other: Math.max(0, total.mean - pre - inf - post),
      total: total.mean,
    };
  }
}

/** Outcomes are recorded as "status" 200 (ok) or 500 (failed) in a window. */
const OK = 200;
const FAILED = 500;

export class ModelStats {
  /**
   * Stage durations by `module:stage`. Means are all they are read for (stage means add up
   * to the total; quantiles would not), so they are sums, not sketches: four per request.
   */
  readonly stages = new Map<string, SlotSums>();
  /** Each ended request's stages together, by module: the Model Metrics stage bar. */
  readonly requestStages = new Map<ModuleName, RequestStages>(MODULES.map((m) => [m, new RequestStages()]));
  /** The same windows by module, for a request's timer to bind once (no key built per stage). */
  private readonly stagesByModule: Record<ModuleName, Record<Stage, StageRecorder>>;
  readonly ocrConfidence: SlidingWindow;
  /** One record per OCR request: 200 ok, 500 failed (any reason). */
  readonly ocrOutcomes: SlidingWindow;
  /** One record per image preprocessed, per module: 200 ok, 500 failed. */
  readonly preprocess: Record<ModuleName, SlidingWindow>;
  /** Images sent through the degraded path since start, per module. */
  readonly degradedTotal = perModule(() => 0);
  /**
   * Requests not answered, by module and error code (`ocr:UPSTREAM_OOM`). Bounded: codes are
   * the fixed set of errors.ts.
   */
  readonly failures = new Map<string, SlidingWindow>();
  /** One record per GUI step, value = duration ms: 200 valid action in time, 500 not. */
  readonly guiSteps: SlidingWindow;
  /** Executions the client reported as failed, for steps that had produced a valid action. */
  readonly guiExecutionFailures: SlidingWindow;
  readonly videoFps: SlidingWindow;
  /** Input tokens per request, for their mean (each request is also an event, for rules). */
  readonly inputTokens = perModule(() => new SlotSums());
  /** The same events as running totals since start, for /metrics. */
  readonly totals = new ModelTotals<ModuleName, Stage>(MODULES, STAGES, MODEL_ERROR_CODES);

  constructor(private readonly startedAtMs: number) {
    this.stagesByModule = perModule((m) => {
      const recorders = {} as Record<Stage, StageRecorder>;
      for (const s of STAGES) {
        const sums = new SlotSums();
        const seconds = this.totals.stageSeconds[m][s];
        this.stages.set(`${m}:${s}`, sums);
        // Built once: a stage costs the window's sum and the histogram's count, nothing more.
        recorders[s] = {
          record(ms, now) {
            sums.record(ms, now);
            seconds.observe(ms / 1_000);
          },
        };
      }
      return recorders;
    });
    this.preprocess = perModule(() => new SlidingWindow(startedAtMs));
    this.ocrConfidence = new SlidingWindow(startedAtMs);
    this.ocrOutcomes = new SlidingWindow(startedAtMs);
    this.guiSteps = new SlidingWindow(startedAtMs);
    this.guiExecutionFailures = new SlidingWindow(startedAtMs);
    this.videoFps = new SlidingWindow(startedAtMs);
  }

  /** One module's stage recorders: a request's timer records into them directly. */
  stageWindows(module: ModuleName): Readonly<Record<Stage, StageRecorder>> {
    return this.stagesByModule[module];
  }

  inputTokenCount(
    module: ModuleName,
    tokens: number,
    now: number,
    context: Omit<RequestEvent, 'module' | 'inputTokens' | 't'> = {},
  ): void {
    this.inputTokens[module].record(tokens, now);
    this.totals.inputTokens[module].observe(tokens);
    const event: RequestEvent = { t: now, module, inputTokens: tokens, ...context };
    for (const l of this.requestListeners) l(event);
  }

  /** Per-request events, for rules on single requests (e.g. input_token_count > 192000). */
  onRequest(listener: (e: RequestEvent) => void): void {
    this.requestListeners.push(listener);
  }
  private readonly requestListeners: Array<(e: RequestEvent) => void> = [];

  ocrResult(ok: boolean, confidence: number | null, now: number): void {
    this.ocrOutcomes.record(1, ok ? OK : FAILED, now);
    // A confidence is a probability: anything else (Infinity from a logprob of 710) would
    // throw in the sketch, or skew every mean after it.
    if (confidence !== null && confidence >= 0 && confidence <= 1) {
      this.ocrConfidence.record(confidence, 0, now);
      this.totals.ocrConfidence.observe(confidence);
    }
  }

  preprocessResult(module: ModuleName, ok: boolean, now: number): void {
    this.preprocess[module].record(1, ok ? OK : FAILED, now);
    this.totals.images[module][ok ? 'ok' : 'failed']++;
  }

  degraded(module: ModuleName): void {
    this.degradedTotal[module]++;
    this.totals.images[module].degraded++;
  }

  failure(module: ModuleName, code: string, now: number): void {
    const key = `${module}:${code}`;
    let w = this.failures.get(key);
    if (!w) {
      w = new SlidingWindow(this.startedAtMs);
      this.failures.set(key, w);
    }
    w.record(1, FAILED, now);
    this.totals.error(module, code);
  }

  guiStep(valid: boolean, durationMs: number, now: number): void {
    this.guiSteps.record(durationMs, valid ? OK : FAILED, now);
    const t = this.totals.guiSteps;
    if (valid) t.valid++;
    else t.invalid++;
    t.seconds += durationMs / 1_000;
  }

  guiExecutionFailed(now: number): void {
    this.guiExecutionFailures.record(1, FAILED, now);
    this.totals.guiSteps.executionFailed++;
  }

  /** `frames`: how many the model was given (counted in /metrics' video frames total). */
  videoSpeed(framesPerSecond: number, now: number, frames: number): void {
    this.videoFps.record(framesPerSecond, 0, now);
    this.totals.videoFramesPerSecond.observe(framesPerSecond);
    this.totals.videoFrames += frames;
  }
}
