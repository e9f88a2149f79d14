// One place where a model request (chat, OCR, GUI, video) is accounted for, from its first
// byte to its end: its client and request id, the evidence of its input (image hashes,
// sizes, dimensions), its stage timings, and how it ended: answered, refused (the client's
// fault, 4xx), failed (ours or the model server's, 5xx) or abandoned (the client left, 499).
// Each end is counted once, in the module's figures and the client's, and written once to
// the log under the module's name with what an operator needs to act on it: every line
// of a request names its input's dimensions and size, answered or not.
import type { ServerResponse } from 'node:http';
import { AppError } from '../errors.js';
import type { EventLog } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { ModelStats, ModuleName } from '../metrics/model-stats.js';
import { formatBytes } from '../units.js';
import { GoneSignal } from '../gone-signal.js';
import { imageBytes, type ImageFetchLimits } from './image-input.js';
import {
  ImagePreprocError,
  prepareImage,
  type ImageBudget,
  type ImageFacts,
  type PreparedImage,
} from './preprocess.js';
import { StageTimer } from './stages.js';

export interface ModelRequestDeps {
  log: EventLog;
  /** Null when the Monitor is off. */
  stats: ModelStats | null;
  clients: ClientStats | null;
  clock: () => number;
  /** Free memory of every GPU at this moment ("gpu0=124MiB"); null without GPUs. */
  gpuFree?: (() => Promise<string | null>) | undefined;
}

export interface RequestIdentity {
  requestId: string;
  client: string;
  endpoint: string;
  /** The response: its early close is how a client that gives up is noticed. */
  response: ServerResponse;
}

/** How a request ended, for module-specific accounting (OCR outcomes, GUI steps). */
export type Ending = { answered: true; ok: boolean } | { answered: false; error: AppError };

/** What an ERROR line names about a failed request's input. */
export interface InputEvidence {
  hashes: string[];
  bytes: number;
  dimensions: string[];
}

/** The log line's words for each way the model server or we can fail. */
const FAILURE_EVENTS: Partial<Record<string, string>> = {
  UPSTREAM_OOM: 'Model server out of GPU memory',
  UPSTREAM_TIMEOUT: 'Model server timed out',
  UPSTREAM_UNREACHABLE: 'Model server unreachable',
  UPSTREAM_STREAM_CUT: 'Model server cut the stream',
  UPSTREAM_ERROR: 'Model server error',
  UPSTREAM_BAD_ANSWER: 'Model server answered badly',
  UPSTREAM_NOT_CONFIGURED: 'No model server configured',
  INTERNAL: 'Internal error',
};

export class ModelRequest {
  readonly timer: StageTimer;
  readonly requestId: string;
  readonly client: string;
  readonly endpoint: string;
  /** Undici's cancellation of the model server request: cheap, made for every request. */
  readonly upstreamSignal = new GoneSignal();
  /** An AbortSignal of the same, made only for code that needs one (AbortSignal.any). */
  private goneController: AbortController | null = null;
  private readonly evidence: InputEvidence = { hashes: [], bytes: 0, dimensions: [] };
  /** Evidence costly to gather (hashing a chat's inline images): computed only for an ERROR line. */
  private lazyEvidence: (() => InputEvidence) | undefined;
  private readonly degradations: string[] = [];
  /** An input failure already written as its WARN line (the image named): not written again. */
  private inputFailureLogged = false;
  private readonly endHooks: Array<(e: Ending) => void> = [];
  private ended = false;
  /** Ended by succeed(): a failure after that is the server's own (a hook or the reply threw). */
  private answered = false;
  private failedAfterAnswer = false;
  /**
   * The status the Monitor counts when the HTTP status cannot say it: a stream the model
   * server cut after its 200 went out is a 502, whatever the status line said.
   */
  monitorStatus: number | null = null;
  /** Bytes a streamed answer sent (a stream has no Content-Length); null otherwise. */
  responseBytes: number | null = null;

  constructor(
    private readonly deps: ModelRequestDeps,
    readonly module: ModuleName,
    who: RequestIdentity,
  ) {
    this.requestId = who.requestId;
    this.client = who.client;
    this.endpoint = who.endpoint;
    this.timer = new StageTimer(module, deps.stats, deps.clock);
    const res = who.response;
    // A model answer carries a fixed set of 'close' listeners, none per chunk: the
    // connection limit, the drain, request timing, users-now, this one, the route's own,
    // and for a stream Node's pipe and Fastify's end-of-stream watchers (two of them when
    // the handler returns the reply). That is 11 for a streamed chat answer, one over
    // Node's leak-warning default, which would print on every stream.
    res.setMaxListeners(16);
    res.once('close', () => {
      if (res.writableFinished) return;
      this.upstreamSignal.abort();
      this.goneController?.abort();
    });
  }

  /** Aborts when the client goes away before its answer is complete: stop the model server's work. */
  get clientGone(): AbortSignal {
    if (!this.goneController) {
      this.goneController = new AbortController();
      if (this.upstreamSignal.aborted) this.goneController.abort();
    }
    return this.goneController.signal;
  }

  /** Whether the client went away before its answer was complete. */
  get isClientGone(): boolean {
    return this.upstreamSignal.aborted;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Module-specific accounting, run once when the request ends (answered or not). */
  onEnd(hook: (e: Ending) => void): void {
    this.endHooks.push(hook);
  }

  /** Input evidence known without cost (a video's size). */
  addEvidence(e: Partial<InputEvidence>): void {
    if (e.hashes) this.evidence.hashes.push(...e.hashes);
    if (e.dimensions) this.evidence.dimensions.push(...e.dimensions);
    this.evidence.bytes += e.bytes ?? 0;
  }

  /** Input evidence computed only if an ERROR line needs it. */
  setLazyEvidence(fn: () => InputEvidence): void {
    this.lazyEvidence = fn;
  }

  /** `{ degraded: true, degradedReason }` when an image took the degraded path, else nothing. */
  degradation(): { degraded: true; degradedReason: string } | Record<string, never> {
    return this.degradations.length ? { degraded: true, degradedReason: this.degradations.join('; ') } : {};
  }

  /**
   * Fetches, checks and prepares one image. A failure is the client's (4xx), written as one
   * WARN line with its evidence and counted in the module's preprocessing failures; with
   * `drop`, an unreadable image (a video frame) is logged and skipped instead (null), and
   * `onDrop` hears why (so that "too few frames" can say what was wrong with them).
   */
  async image(input: string, field: string, limits: ImageFetchLimits, budget: ImageBudget): Promise<PreparedImage>;
  async image(
    input: string,
    field: string,
    limits: ImageFetchLimits,
    budget: ImageBudget,
    opts: { drop: true; onDrop?: (reason: AppError) => void },
  ): Promise<PreparedImage | null>;
  async image(
    input: string,
    field: string,
    limits: ImageFetchLimits,
    budget: ImageBudget,
    opts: { drop?: boolean; onDrop?: (reason: AppError) => void } = {},
  ): Promise<PreparedImage | null> {
    const now = this.deps.clock;
    let prepared: PreparedImage;
    try {
      prepared = await prepareImage(await imageBytes(input, field, limits), field, budget);
    } catch (err) {
      this.deps.stats?.preprocessResult(this.module, false, now());
      if (!(err instanceof AppError)) throw err;
      const facts = err instanceof ImagePreprocError ? err.facts : undefined;
      if (facts) this.addEvidence(factsEvidence(facts));
      this.deps.log.warn(
        this.module,
        err instanceof ImagePreprocError ? 'Image preproc failed' : 'Image fetch failed',
        {
          reason: err instanceof ImagePreprocError ? err.reason : err.message,
          field,
          ...(facts ? factsParams(facts) : {}),
          outcome: opts.drop ? 'dropped' : 'refused',
          request_id: this.requestId,
          client: this.client,
        },
      );
      if (opts.drop) {
        opts.onDrop?.(err);
        return null;
      }
      this.inputFailureLogged = true;
      throw err;
    }
    this.deps.stats?.preprocessResult(this.module, true, now());
    this.addEvidence(factsEvidence({ ...prepared, width: prepared.originalWidth, height: prepared.originalHeight }));
    if (prepared.degraded) {
      this.degradations.push(prepared.degraded);
      this.deps.stats?.degraded(this.module);
      this.deps.log.warn(this.module, 'Image preproc failed', {
        reason: prepared.degraded,
        field,
        ...factsParams({
          ...prepared,
          width: prepared.originalWidth,
          height: prepared.originalHeight,
          target: { width: prepared.width, height: prepared.height },
        }),
        outcome: 'degraded',
        request_id: this.requestId,
        client: this.client,
      });
    }
    return prepared;
  }

  /**
   * The request was answered (ok: false for an answer that is a failure of the model's, e.g.
   * a GUI step without a valid action). Returns the total duration in ms.
   */
  succeed(o: {
    ok?: boolean;
    inputTokens: number;
    inputTokensSource: 'upstream' | 'estimated';
    event: string;
    /** The log line's parameters; a function is called only if the (sampled) INFO line is kept. */
    params: Record<string, unknown> | (() => Record<string, unknown>);
    level?: 'INFO' | 'WARN';
  }): number {
    if (this.ended) return this.timer.times.total ?? 0;
    this.ended = true;
    this.answered = true;
    const ok = o.ok ?? true;
    const now = this.deps.clock();
    const total = this.timer.finish();
    this.deps.clients?.record(this.client, this.module, ok, this.timer.times.inference ?? 0, now, o.inputTokens);
    this.deps.stats?.inputTokenCount(this.module, o.inputTokens, now, {
      client: this.client,
      requestId: this.requestId,
      source: o.inputTokensSource,
    });
    this.runHooks({ answered: true, ok });
    const log = this.deps.log;
    if (o.level !== 'WARN' && !log.keepsInfo()) return total;
    const params = {
      ...(typeof o.params === 'function' ? o.params() : o.params),
      ...this.inputEvidence(),
      duration: `${Math.round(total)}ms`,
      request_id: this.requestId,
      client: this.client,
    };
    if (o.level === 'WARN') log.warn(this.module, o.event, params);
    else log.info(this.module, o.event, params, { always: true });
    return total;
  }

  /**
   * Ends the request as not answered and returns the error as the client should get it: a
   * client that went away is a 499 at INFO (never a 5xx); a 4xx is the client's fault; a
   * 5xx is an ERROR line under the module with the request's evidence and free GPU memory
   * read at this moment.
   */
  fail(error: AppError): AppError {
    if (this.ended) {
      if (this.answered && !this.failedAfterAnswer && error.statusCode >= 500) this.failAfterAnswer(error);
      return error;
    }
    this.ended = true;
    const err =
      this.upstreamSignal.aborted && error.code !== 'CLIENT_CLOSED'
        ? new AppError('CLIENT_CLOSED', 'The client closed the request before its answer was complete')
        : error;
    const now = this.deps.clock();
    this.timer.finish();
    this.deps.clients?.record(this.client, this.module, false, this.timer.times.inference ?? 0, now);
    this.deps.stats?.failure(this.module, err.code, now);
    this.runHooks({ answered: false, error: err });
    const base = {
      request_id: this.requestId,
      client: this.client,
      endpoint: this.endpoint,
      status: err.statusCode,
      code: err.code,
    };
    if (err.code === 'CLIENT_CLOSED') {
      this.deps.log.info(this.module, 'Client closed the request', {
        ...base,
        ...this.inputEvidence(),
        duration: `${Math.round(this.timer.times.total ?? 0)}ms`,
      });
    } else if (err.statusCode >= 500) {
      void this.logFailure(err, base);
    } else if (this.inputFailureLogged) {
      // Already written as the WARN line that names the image.
    } else if (
      err.code === 'IMAGE_FETCH_FAILED' ||
      err.code === 'URL_NOT_ALLOWED' ||
      err instanceof ImagePreprocError
    ) {
      // A video fetched or read outside image(): the same words as for an image.
      this.deps.log.warn(
        this.module,
        err instanceof ImagePreprocError ? 'Image preproc failed' : 'Image fetch failed',
        { ...base, message: err.message, ...this.inputEvidence({ costly: true, allHashes: true }) },
      );
    } else if (err.code === 'CONTEXT_TOO_LONG') {
      this.deps.log.warn(this.module, 'Context too long', {
        ...base,
        message: err.message,
        ...this.inputEvidence({ costly: true, allHashes: true }),
      });
    } else {
      this.deps.log.info(this.module, 'Request rejected', {
        ...base,
        message: err.message,
        ...(err.field ? { field: err.field } : {}),
        ...this.inputEvidence(),
      });
    }
    return err;
  }

  /**
   * The request was counted as answered, then something threw before the answer left (a
   * bug: once, a confidence the sketch refused). The client gets a 5xx, so the Monitor gets
   * its ERROR line and the module's error count; it was not logged at all before.
   */
  private failAfterAnswer(err: AppError): void {
    this.failedAfterAnswer = true;
    this.deps.stats?.failure(this.module, err.code, this.deps.clock());
    void this.logFailure(err, {
      request_id: this.requestId,
      client: this.client,
      endpoint: this.endpoint,
      status: err.statusCode,
      code: err.code,
      phase: 'after_answer',
    });
  }

  private runHooks(e: Ending): void {
    for (const hook of this.endHooks) hook(e);
  }

  /**
   * What a line of this request says about its input (the images', the video's): its hash,
   * size (`input_size`, `bytes`) and dimensions, each distinct one (`images` counts them when
   * several). `costly`: also what has to be computed (a chat's inline images, hashed), for a
   * line about a failure; `allHashes`: every hash, where other lines name a single image's.
   */
  inputEvidence(opts: { costly?: boolean; allHashes?: boolean } = {}): Record<string, string | number> {
    const e =
      opts.costly && this.evidence.hashes.length === 0 && this.lazyEvidence ? this.lazyEvidence() : this.evidence;
    const out: Record<string, string | number> = {};
    const hash = e.hashes[0];
    if (e.hashes.length === 1 && hash !== undefined) out.image_hash = hash;
    else if (e.hashes.length > 1 && opts.allHashes) out.image_hashes = e.hashes.join(',');
    if (e.bytes > 0) {
      out.input_size = formatBytes(e.bytes);
      out.bytes = e.bytes;
    }
    if (e.dimensions.length) {
      out.dimensions = [...new Set(e.dimensions)].join(',');
      if (e.dimensions.length > 1) out.images = e.dimensions.length;
    }
    return out;
  }

  /** Written once the GPUs have been read (one NVML call on a worker thread), after the reply. */
  private async logFailure(err: AppError, base: Record<string, string | number>): Promise<void> {
    const evidence = this.inputEvidence({ costly: true, allHashes: true });
    let gpuFree: string | null = null;
    try {
      gpuFree = (await this.deps.gpuFree?.()) ?? null;
    } catch {
      // No reading is no reason to lose the line.
    }
    this.deps.log.error(this.module, FAILURE_EVENTS[err.code] ?? 'Request failed', {
      ...base,
      message: err.message,
      ...evidence,
      ...(gpuFree ? { gpu_free: gpuFree } : {}),
    });
  }
}

function factsEvidence(f: ImageFacts): Partial<InputEvidence> {
  return {
    hashes: f.hash ? [f.hash] : [],
    bytes: f.bytes,
    ...(f.width && f.height ? { dimensions: [`${f.width}x${f.height}`] } : {}),
  };
}

/** The log parameters that describe an image: the tutorial's operator searched by each. */
function factsParams(f: ImageFacts): Record<string, string | number> {
  return {
    ...(f.hash ? { image_hash: f.hash } : {}),
    input_size: formatBytes(f.bytes),
    bytes: f.bytes,
    ...(f.format ? { format: f.format } : {}),
    ...(f.width && f.height ? { dimensions: `${f.width}x${f.height}` } : {}),
    ...(f.target ? { target_size: `${f.target.width}x${f.target.height}` } : {}),
  };
}
