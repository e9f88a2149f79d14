// A pass-through for an OpenAI-style SSE stream: forwards each event as soon as its
// closing blank line arrives, and reads what the Monitor needs on the way (first token,
// usage). Events are the unit: no byte waits for anything but the rest of its event.
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
}

const EVENT_END = /\r?\n\r?\n/;

interface ChunkShape {
  choices?: Array<{ delta?: { content?: unknown; reasoning_content?: unknown; tool_calls?: unknown } }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
}

/** What one event means to the Monitor. Pure, for tests. */
export function inspectEvent(event: string): { hasToken: boolean; usage: StreamUsage | null; usageOnly: boolean } {
  const data = event
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
  if (!data || data === '[DONE]') return { hasToken: false, usage: null, usageOnly: false };
  let chunk: ChunkShape;
  try {
    chunk = JSON.parse(data) as ChunkShape;
  } catch {
    return { hasToken: false, usage: null, usageOnly: false };
  }
  const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
  const hasToken = choices.some((c) => {
    const d = c?.delta;
    return !!d && ((typeof d.content === 'string' && d.content.length > 0) ||
      (typeof d.reasoning_content === 'string' && d.reasoning_content.length > 0) ||
      (Array.isArray(d.tool_calls) && d.tool_calls.length > 0));
  });
  const u = chunk.usage;
  const usage = u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number'
    ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens }
    : null;
  return { hasToken, usage, usageOnly: usage !== null && choices.length === 0 };
}

export class SseTap extends Transform {
  private pending = '';
  private sawToken = false;
  // A UTF-8 character may straddle two network chunks (Chinese text often does).
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly opts: SseTapOptions) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.pending += this.decoder.write(chunk);
    let m: RegExpExecArray | null;
    while ((m = EVENT_END.exec(this.pending)) !== null) {
      const end = m.index + m[0].length;
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      this.handle(event);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.pending += this.decoder.end();
    if (this.pending) this.handle(this.pending);
    this.pending = '';
    done();
  }

  private handle(event: string): void {
    const info = inspectEvent(event);
    if (info.hasToken && !this.sawToken) {
      this.sawToken = true;
      this.opts.onFirstToken?.();
    }
    if (info.usage) this.opts.onUsage?.(info.usage);
    if (info.usageOnly && this.opts.dropUsageChunk) return;
    this.push(event);
  }
}
