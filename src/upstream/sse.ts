// A pass-through for an OpenAI-style SSE stream: forwards each event as soon as its
// closing blank line arrives, and reads what the Monitor needs on the way (first token,
// usage, whether the answer was complete). Events are the unit: no byte waits for anything
// but the rest of its event. A stream the model server breaks off ends with an error event,
// as OpenAI's own streams do, so SDKs raise an error instead of taking half an answer.
// An event is held until it is complete, so its size is bounded: one longer than
// MAX_SSE_EVENT_BYTES fails the stream as a broken answer (UPSTREAM_BAD_ANSWER), through
// the same path as a cut one (an error event to the client, a 502, an ERROR line).
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';

/**
 * The largest event held while waiting for its blank line. A chat chunk is a token or a few
 * (with logprobs, a few KiB); one event of 300 MB once took 881 MB of memory and sent the
 * client nothing for 120 s.
 */
export const MAX_SSE_EVENT_BYTES = 1024 * 1024;

export interface StreamUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface SseTapEvents {
  /** First chunk carrying generated content (text, reasoning or a tool call). */
  onFirstToken?: () => void;
  onUsage?: (usage: StreamUsage) => void;
}

export interface SseTapOptions extends SseTapEvents {
  /**
   * Drop the usage-only chunk (empty `choices`) that we asked the upstream for, when the
   * client did not ask for it: naive clients index choices[0] on every chunk.
   */
  dropUsageChunk: boolean;
  /** Removes configured secrets from an error event the model server sends mid-stream. */
  scrub?: (text: string) => string;
}

// An event ends with a blank line; lines end in CRLF, LF or a lone CR (the SSE standard).
// A CR directly before an LF is never a line end of its own.
const EVENT_END = /(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r)/g;
const LINE_END = /\r\n|\n|\r/;

interface ChunkShape {
  choices?: Array<{
    delta?: { content?: unknown; reasoning_content?: unknown; tool_calls?: unknown };
    finish_reason?: unknown;
  }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
}

/** What one event means to the Monitor. Pure, for tests. */
export interface EventInfo {
  hasToken: boolean;
  usage: StreamUsage | null;
  usageOnly: boolean;
  /** `data: [DONE]`, or a choice with a finish_reason: the answer is complete. */
  ends: boolean;
}

export function inspectEvent(event: string): EventInfo {
  const data = event
    .split(LINE_END)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
  if (!data) return { hasToken: false, usage: null, usageOnly: false, ends: false };
  if (data === '[DONE]') return { hasToken: false, usage: null, usageOnly: false, ends: true };
  let chunk: ChunkShape;
  try {
    chunk = JSON.parse(data) as ChunkShape;
  } catch {
    return { hasToken: false, usage: null, usageOnly: false, ends: false };
  }
  const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
  const hasToken = choices.some((c) => {
    const d = c?.delta;
    return (
      !!d &&
      ((typeof d.content === 'string' && d.content.length > 0) ||
        (typeof d.reasoning_content === 'string' && d.reasoning_content.length > 0) ||
        (Array.isArray(d.tool_calls) && d.tool_calls.length > 0))
    );
  });
  const u = chunk.usage;
  const usage =
    u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number'
      ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens }
      : null;
  const ends = choices.some((c) => typeof c?.finish_reason === 'string' && c.finish_reason.length > 0);
  return { hasToken, usage, usageOnly: usage !== null && choices.length === 0, ends };
}

export class SseTap extends Transform {
  /** The bytes of the event not yet complete, as they came (no copy until it is). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Its last (up to 3) bytes as latin1: an event end can straddle two network chunks. */
  private tail = '';
  private sawToken = false;
  private sawEnd = false;
  private flushed = false;
  /** The body piped in: destroyed when it breaks the protocol, so that its owner reports it. */
  private source: Readable | null = null;
  /** Bytes passed on to the client so far. */
  bytesOut = 0;
  /** Why the stream did not end as an answer: set by endWithError, or at the end of an incomplete stream. */
  failure: { code: string; message: string } | null = null;

  constructor(private readonly opts: SseTapOptions) {
    super();
    this.on('pipe', (src: Readable) => {
      this.source = src;
    });
    this.on('unpipe', () => {
      this.source = null;
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.failure) {
      done();
      return;
    }
    // Line ends are ASCII bytes, never part of a UTF-8 character: events are found on the
    // bytes read as latin1 (one character a byte), each chunk scanned once, and decoded whole.
    const offset = this.tail.length;
    const text = this.tail + chunk.toString('latin1');
    let from = 0;
    let emitted = false;
    EVENT_END.lastIndex = 0;
    for (let m = EVENT_END.exec(text); m !== null; m = EVENT_END.exec(text)) {
      const end = m.index + m[0].length;
      // A CR at the very end may be the first half of a CRLF still on its way: wait for it.
      if (end === text.length && text.endsWith('\r')) break;
      this.parts.push(chunk.subarray(from, end - offset));
      const event = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.partsBytes = 0;
      from = end - offset;
      emitted = true;
      this.handle(event);
    }
    const rest = chunk.subarray(from);
    this.parts.push(rest);
    this.partsBytes += rest.length;
    // The tail is the pending event's: the old tail went with the event that ended.
    this.tail = (emitted ? text.slice(offset + from) : text).slice(-3);
    if (this.partsBytes > MAX_SSE_EVENT_BYTES) this.overflow();
    done();
  }

  override _flush(done: TransformCallback): void {
    const rest = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    if (rest) this.handle(rest);
    this.flushed = true;
    if (!this.sawEnd && !this.failure) {
      // The body ended cleanly but the answer did not: the model server stopped midway.
      this.pushError({
        code: 'UPSTREAM_STREAM_CUT',
        message: 'The model server ended the stream without finishing the answer (no [DONE], no finish_reason)',
      });
    }
    done();
  }

  /** Whether the model server said the answer was complete ([DONE] or a finish_reason). */
  get complete(): boolean {
    return this.sawEnd;
  }

  /**
   * Ends the stream with an error event (after what was already relayed) instead of the
   * answer's end: `data: {"error": {"message", "type", "code"}}`.
   */
  endWithError(error: { code: string; message: string }): void {
    if (this.failure || this.flushed) return;
    this.parts = [];
    this.partsBytes = 0;
    this.pushError(error);
    this.push(null);
  }

  /** An event past MAX_SSE_EVENT_BYTES: the answer is broken, whatever follows. */
  private overflow(): void {
    const error = new AppError(
      'UPSTREAM_BAD_ANSWER',
      `The model server sent a stream event of more than ${MAX_SSE_EVENT_BYTES} bytes without its closing blank line`,
    );
    this.parts = [];
    this.partsBytes = 0;
    // Piped from the model server's body: failing that body is how every broken stream is
    // reported (its owner's error handler ends this tap with the error event).
    if (this.source) this.source.destroy(error);
    else this.endWithError(error);
  }

  private pushError(error: { code: string; message: string }): void {
    this.failure = error;
    this.send(
      `data: ${JSON.stringify({ error: { message: error.message, type: 'upstream_error', code: error.code, app_code: error.code } })}\n\n`,
    );
  }

  private send(text: string): void {
    this.bytesOut += Buffer.byteLength(text);
    this.push(text);
  }

  private handle(event: string): void {
    if (this.failure) return;
    const info = inspectEvent(event);
    if (info.ends) this.sawEnd = true;
    if (info.hasToken && !this.sawToken) {
      this.sawToken = true;
      this.opts.onFirstToken?.();
    }
    if (info.usage) this.opts.onUsage?.(info.usage);
    if (info.usageOnly && this.opts.dropUsageChunk) return;
    // Only error events carry the model server's own messages (the only place a key it echoes appears).
    this.send(this.opts.scrub && event.includes('"error"') ? this.opts.scrub(event) : event);
  }
}
