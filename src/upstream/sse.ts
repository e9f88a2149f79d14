// A pass-through for an OpenAI-style SSE stream: forwards each event as soon as its
// closing blank line arrives, and reads what the Monitor needs on the way (first token,
// usage, whether the answer was complete). Events are the unit: no byte waits for anything
// but the rest of its event. A stream the model server breaks off ends with an error event,
// as OpenAI's own streams do, so SDKs raise an error instead of taking half an answer.
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

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
  private pending = '';
  private sawToken = false;
  private sawEnd = false;
  private flushed = false;
  /** Bytes passed on to the client so far. */
  bytesOut = 0;
  /** Why the stream did not end as an answer: set by endWithError, or at the end of an incomplete stream. */
  failure: { code: string; message: string } | null = null;
  // A UTF-8 character may straddle two network chunks (Chinese text often does).
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly opts: SseTapOptions) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending += this.decoder.write(chunk);
    let start = 0;
    EVENT_END.lastIndex = 0;
    for (let m = EVENT_END.exec(this.pending); m !== null; m = EVENT_END.exec(this.pending)) {
      const end = m.index + m[0].length;
      // A CR at the very end may be the first half of a CRLF still on its way: wait for it.
      if (end === this.pending.length && this.pending.endsWith('\r')) break;
      this.handle(this.pending.slice(start, end));
      start = end;
    }
    this.pending = this.pending.slice(start);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.pending += this.decoder.end();
    if (this.pending) this.handle(this.pending);
    this.pending = '';
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
    this.pending = '';
    this.pushError(error);
    this.push(null);
  }

  private pushError(error: { code: string; message: string }): void {
    this.failure = error;
    this.send(
      `data: ${JSON.stringify({ error: { message: error.message, type: 'upstream_error', code: error.code } })}\n\n`,
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
