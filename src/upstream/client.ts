// The OpenAI-compatible model server, reached through one undici keep-alive pool.
// Every failure comes back as an AppError with the status the client should see:
// not configured 503, refused 502, timeout 504, upstream 4xx/5xx relayed.
import type { Readable } from 'node:stream';
import { Agent, request, errors as undiciErrors, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { AppError } from '../errors.js';
import { fieldPath } from '../validation.js';
import { classifyUpstreamError } from './failure.js';
import { BodyTooLarge, readLimited } from '../read-limited.js';
import type { UpstreamSignal } from '../gone-signal.js';

/** An error answer is read this far: its first words say what went wrong. */
const ERROR_BODY_BYTES = 64 * 1024;

export interface UpstreamOptions {
  url: string | undefined;
  apiKey?: string | undefined;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** The most of one whole (not streamed) answer that is read (UPSTREAM_MAX_ANSWER_BYTES). */
  maxAnswerBytes?: number;
  /** Removes configured secrets from the model server's messages before they are relayed. */
  scrub?: (text: string) => string;
  /** Connections to the model server at most (UPSTREAM_MAX_CONNECTIONS); none when left out (undici's null). */
  connections?: number;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
}

/** 32 MiB: a 32 K-token answer with 20 top logprobs a token is about that. */
export const DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024;

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Reached, then dropped: the connection closed before the answer was complete. */
const DROPPED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export class UpstreamClient {
  private readonly agent: Agent;
  /**
   * The health probes' own connection: a probe queued behind users' requests (every
   * connection busy with a long answer) would hold the Monitor's check until they end,
   * blind exactly when the model server is busiest.
   */
  private readonly probeAgent: Agent;

  /** Removes configured secrets (API keys, tokens) from text that came from the model server. */
  readonly scrub: (text: string) => string;

  constructor(private readonly opts: UpstreamOptions) {
    this.scrub = opts.scrub ?? ((text) => text);
    const u = opts.url === undefined ? null : new URL(opts.url);
    this.base = u && !u.search && !u.hash ? { origin: u.origin, prefix: u.pathname.replace(/\/$/, '') } : null;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      // No cap of our own below the configured one: a request past it waits here, counted (waiting).
      connections: opts.connections ?? null,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: opts.connectTimeoutMs },
    });
    this.probeAgent = new Agent({
      keepAliveTimeout: 30_000,
      connections: 1,
      connect: { timeout: opts.connectTimeoutMs },
    });
  }

  /** Model requests waiting for a connection to the model server (all connections busy). */
  get waiting(): number {
    let n = 0;
    // A pool queues what its connections cannot take yet; a single connection (a limit of 1)
    // keeps it pending on itself.
    for (const s of Object.values(this.agent.stats)) n += 'queued' in s ? s.queued : s.pending;
    return n;
  }

  get configured(): boolean {
    return this.opts.url !== undefined;
  }

  get baseUrl(): string | undefined {
    return this.opts.url;
  }

  /**
   * The base URL split once into origin and path: our requests go to the pool as
   * `{ origin, path }`, where undici's `request(url)` parses the URL anew each time (4.5 µs
   * of the 231 µs a relayed request cost under the host's profiler). A base with a query
   * keeps the URL form; null when no model server is configured.
   */
  private readonly base: { origin: string; prefix: string } | null;

  /** Where a request for one of our own paths (`/chat/completions`) goes: the pool's origin and the path. */
  private target(path: string): { origin: string; path: string } | { url: string } {
    const url = this.requireUrl();
    return this.base ? { origin: this.base.origin, path: this.base.prefix + path } : { url: url + path };
  }

  private requireUrl(): string {
    if (!this.opts.url) {
      throw new AppError(
        'UPSTREAM_NOT_CONFIGURED',
        'No model server is configured: set UPSTREAM_URL to its OpenAI-compatible base URL, e.g. UPSTREAM_URL=http://127.0.0.1:8000/v1',
      );
    }
    return this.opts.url;
  }

  /**
   * POSTs JSON to `path` under the base URL. Resolves with the open response when the
   * upstream answered 2xx; throws AppError otherwise (the error body is read and closed).
   */
  async postJson(
    path: string,
    payload: unknown,
    signal: UpstreamSignal,
    requestId?: string,
  ): Promise<UpstreamResponse> {
    return this.postJsonText(path, JSON.stringify(payload), signal, requestId);
  }

  /** As postJson, with the JSON already written (a relayed client's own text). */
  async postJsonText(
    path: string,
    json: string,
    signal: UpstreamSignal,
    requestId?: string,
  ): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    return this.send('POST', path, headers, json, signal, requestId);
  }

  /**
   * POSTs a JSON body that arrives as a stream of exactly `length` bytes (streamed-json.ts:
   * a video or frames spliced in as they are read), so that no string of the whole body is
   * built. Answers as postJson does.
   */
  async postJsonStream(
    path: string,
    body: Readable,
    length: number,
    signal: UpstreamSignal,
    requestId?: string,
  ): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(length),
      accept: 'application/json, text/event-stream',
    };
    return this.send('POST', path, headers, body, signal, requestId);
  }

  /**
   * Sends a request as it is (the /v1 pass-through): the caller's headers, our API key, the
   * request id. Resolves with the open response whatever its status: the caller relays it.
   */
  async relay(
    method: Dispatcher.HttpMethod,
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: UpstreamSignal,
    requestId?: string,
  ): Promise<UpstreamResponse> {
    // A client's own path: parsed (and its query split off) as a URL.
    const url = this.requireUrl() + path;
    const h: Record<string, string> = { ...headers };
    if (this.opts.apiKey) h.authorization = `Bearer ${this.opts.apiKey}`;
    else delete h.authorization;
    if (requestId) h['x-request-id'] = requestId;
    try {
      const res = await request(url, { method, headers: h, ...(body ? { body } : {}), signal, dispatcher: this.agent });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private async send(
    method: Dispatcher.HttpMethod,
    path: string,
    headers: Record<string, string>,
    body: string | Readable,
    signal: UpstreamSignal,
    requestId?: string,
  ): Promise<UpstreamResponse> {
    const to = this.target(path);
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    // The same id in both servers' logs: vLLM and SGLang take X-Request-Id as their own.
    if (requestId) headers['x-request-id'] = requestId;
    let res: Dispatcher.ResponseData;
    try {
      res = await ('url' in to
        ? request(to.url, { method, headers, body, signal, dispatcher: this.agent })
        : this.agent.request({ method, headers, body, signal, ...to }));
    } catch (err) {
      throw this.mapError(err);
    }
    if (res.statusCode >= 400) {
      const text = await this.readErrorText(res);
      const message = this.scrub(upstreamMessage(text));
      const failure = classifyUpstreamError(res.statusCode, message);
      throw new AppError(failure.code, `The model server answered ${res.statusCode}: ${message}`, {
        statusCode: failure.statusCode,
      });
    }
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  }

  /**
   * Reads a JSON answer and checks it against what the caller reads. A body cut off or
   * stalled midway is the model server's failure (502/504); one that is not JSON, or not
   * that shape, is a bad response (502), named to the field.
   */
  async readJson<S extends z.ZodType>(res: UpstreamResponse, schema: S, what: string): Promise<z.infer<S>> {
    const text = await this.readText(res);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new AppError('UPSTREAM_BAD_ANSWER', `The model server's answer is not JSON: ${(err as Error).message}`);
    }
    const checked = schema.safeParse(json);
    if (checked.success) return checked.data;
    const issue = checked.error.issues[0];
    const at = issue?.path.length ? fieldPath(issue.path) : 'the answer';
    throw new AppError(
      'UPSTREAM_BAD_ANSWER',
      `The model server's answer is not ${what}: ${at}: ${issue?.message ?? 'not the expected shape'}`,
    );
  }

  /** An error answer's first 64 KiB as text (the rest left unread; a failed read is ''). */
  readErrorText(res: UpstreamResponse): Promise<string> {
    return readLimited(res.body, ERROR_BODY_BYTES, 'truncate').catch(() => '');
  }

  /**
   * Reads a whole answer as text, at most UPSTREAM_MAX_ANSWER_BYTES: past it the answer is
   * the model server's fault (502), and the connection is dropped rather than read on.
   */
  async readText(res: UpstreamResponse): Promise<string> {
    const max = this.opts.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    // A length declared within the budget bounds the body already (undici reads that many
    // bytes and no more): read it whole, without an async iterator per answer.
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    try {
      if (declared >= 0 && declared <= max) return await res.body.text();
      return await readLimited(res.body, max);
    } catch (err) {
      throw this.mapBodyError(err);
    }
  }

  /** An error while the answer's body was arriving: a stall (504) or a cut (502), never "unreachable". */
  mapBodyError(err: unknown): AppError {
    if (err instanceof AppError) return err;
    if (err instanceof BodyTooLarge)
      return new AppError(
        'UPSTREAM_BAD_ANSWER',
        `The model server's answer is larger than ${err.limitBytes} bytes (UPSTREAM_MAX_ANSWER_BYTES); it was not read further`,
      );
    const code = (err as { code?: string }).code ?? '';
    if (err instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
      return new AppError(
        'UPSTREAM_TIMEOUT',
        `The model server sent nothing for ${this.opts.timeoutMs} ms in the middle of its answer (UPSTREAM_TIMEOUT_MS)`,
        { cause: err },
      );
    }
    return new AppError(
      'UPSTREAM_STREAM_CUT',
      `The model server ended its answer before it was complete (${(err as Error).message || code || 'connection closed'})`,
      { cause: err },
    );
  }

  /** GET `path` with a short timeout; true when the upstream answers 2xx. For /readyz. */
  async ping(path: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    if (!this.opts.url) return { ok: false, detail: 'UPSTREAM_URL is not set' };
    const headers: Record<string, string> = {};
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    try {
      const res = await request(this.opts.url + path, {
        headers,
        dispatcher: this.probeAgent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body.dump();
      return { ok: res.statusCode < 400, detail: `${path} answered ${res.statusCode}` };
    } catch (err) {
      return { ok: false, detail: this.mapError(err).message };
    }
  }

  /** Maps a transport error to what the client should see. */
  mapError(err: unknown): AppError {
    if (err instanceof AppError) return err;
    const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code ?? '';
    const where = this.scrub(this.opts.url ?? '(unset)');
    if (
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      e.name === 'TimeoutError'
    ) {
      return new AppError(
        'UPSTREAM_TIMEOUT',
        `The model server at ${where} did not answer within ${this.opts.timeoutMs} ms (UPSTREAM_TIMEOUT_MS)`,
        { cause: err },
      );
    }
    if (err instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new AppError(
        'UPSTREAM_TIMEOUT',
        `Could not connect to the model server at ${where} within ${this.opts.connectTimeoutMs} ms`,
        { cause: err },
      );
    }
    if (DROPPED_CODES.has(code)) {
      return new AppError(
        'UPSTREAM_STREAM_CUT',
        `The model server at ${where} closed the connection before its answer was complete (${code})`,
        { cause: err },
      );
    }
    if (UNREACHABLE_CODES.has(code)) {
      return new AppError(
        'UPSTREAM_UNREACHABLE',
        `Cannot reach the model server at ${where} (${code}); is it running?`,
        { cause: err },
      );
    }
    return new AppError(
      'UPSTREAM_BAD_ANSWER',
      `The model server at ${where} failed: ${this.scrub(e.message ?? String(err))}`,
      { cause: err },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.probeAgent.close()]);
  }
}

/** The human part of an upstream error body (OpenAI, vLLM, FastAPI and plain text shapes). */
export function upstreamMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    if (typeof j.error === 'object' && j.error && typeof j.error.message === 'string') return j.error.message;
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
    if (typeof j.detail === 'string') return j.detail;
  } catch {
    // not JSON: fall through to the raw text
  }
  const trimmed = text.trim();
  return trimmed ? trimmed.slice(0, 500) : '(empty body)';
}
