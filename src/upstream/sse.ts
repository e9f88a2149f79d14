// A pass-through for an OpenAI-style SSE stream: forwards each event as soon as its
// closing blank line arrives, and reads what the Monitor needs on the way (first token,
// usage, whether the answer was complete). Events are the unit: no byte waits for anything
// but the rest of its event. A stream the model server breaks off ends with an error event,
// as OpenAI's own streams do, so SDKs raise an error instead of taking half an answer.
// An event is held until it is complete, so its size is bounded: one longer than
// MAX_SSE_EVENT_BYTES fails the stream as a broken answer (UPSTREAM_BAD_ANSWER), through
// the same path as a cut one (an error event to the client, a 502, an ERROR line).
import { Readable } from 'node:stream';
import { TEXT_FIELDS } from '../delta-fields.js';
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

/**
 * Where the next event ends in `text` (just past its blank line), searching from `from`, or
 * -1. Engines end lines with LF: then a search for two LFs does; with a CR anywhere, the
 * full rule (a CR at the very end may be half a CRLF still on its way: wait for it).
 */
function eventEnd(text: string, from: number, crlf: boolean): number {
  if (!crlf) {
    const at = text.indexOf('\n\n', from);
    return at < 0 ? -1 : at + 2;
  }
  EVENT_END.lastIndex = from;
  const m = EVENT_END.exec(text);
  if (!m) return -1;
  const end = m.index + m[0].length;
  return end === text.length && text.endsWith('\r') ? -1 : end;
}

// What the Monitor looks for in the text of complete events: the keys it must read an event
// for, found with one regular expression over a whole read (a literal-led pattern is searched
// natively; a loop of indexOf calls, one per occurrence, cost 0.5 µs an event, as vLLM writes
// `"usage":null` and `"finish_reason":null` into every chunk), and the end of the answer,
// searched for from the end. A quote inside a JSON string is always escaped, so a key's
// quoted name followed by a colon is the key, never text inside the content.
/** A usage object (`"usage": {`, not `"usage": null`). */
const USAGE_OBJECT = /"usage"[ \t\r\n]*:[ \t\r\n]*\{/;
const FINISH_KEY = '"finish_reason"';
/** What follows the key when the finish_reason is a non-empty string (sticky: tried at one place). */
const FINISH_STRING = /[ \t\r\n]*:[ \t\r\n]*"[^"]/y;
/**
 * Whether the last finish_reason in `text` is a non-empty string; null when it has none.
 * Only the last: the end of an answer comes last, after every chunk that carries
 * `"finish_reason":null` (vLLM writes one into each). A pattern over the whole read stopped
 * at each of those, 2.5 µs a read of 100 events in-process and 2.9 % of such an answer's
 * CPU in the GPU host's profile; a search from the end reads the last event. (A run with no
 * finish_reason at all, from an engine that writes none before the end, is read whole:
 * 5 µs over 100 events, about what the pattern cost.)
 */
function lastFinish(text: string): boolean | null {
  const at = text.lastIndexOf(FINISH_KEY);
  if (at < 0) return null;
  FINISH_STRING.lastIndex = at + FINISH_KEY.length;
  return FINISH_STRING.test(text);
}
/**
 * A `data: [DONE]` line: found by its literal, then its line checked (a pattern led by a
 * line start is tried at every character). Searched forwards: V8's lastIndexOf compares
 * at every character, 14 µs over 100 events where indexOf takes 1.
 */
function isDone(text: string): boolean {
  for (let at = text.indexOf('[DONE]'); at >= 0; at = text.indexOf('[DONE]', at + 1)) {
    let i = at;
    while (text.charCodeAt(i - 1) === 0x20) i--;
    if (!text.startsWith('data:', i - 5)) continue;
    const before = text.charCodeAt(i - 6);
    if (i === 5 || before === 0x0a || before === 0x0d) return true;
  }
  return false;
}
/**
 * A key the Monitor must read an event for: an error, or a usage object. One pattern for
 * both: `indexOf('"error"')` costs 9 µs over a read of 100 events (its first character,
 * a quote, is everywhere in JSON), this search 2.7 µs for both keys.
 */
const NEEDED_KEY = new RegExp(`"error"|${USAGE_OBJECT.source}`, 'g');

/**
 * Where the next key is that the Monitor must read an event for, from a position on, in
 * one read's text; -1 if none. A search resumes only when the last found a key already
 * passed, so a read full of such keys is still searched once, not once per key (a model
 * server's bytes decide how many there are).
 */
function keyFinder(text: string): (from: number) => number {
  // -2: not searched yet; -1: none from the last search's start to the end.
  let at = -2;
  return (from) => {
    if (at !== -1 && at < from) {
      NEEDED_KEY.lastIndex = from;
      at = NEEDED_KEY.exec(text)?.index ?? -1;
    }
    return at;
  };
}

/**
 * What an event must hold to carry generated content: one of TEXT_FIELDS (the answer, or a
 * thinking model's reasoning) with a non-empty string, or a non-empty `tool_calls` array.
 * A necessary condition, found by one search: an event before the first token without it is
 * no token and is not parsed (a stream's first events, a role and an empty content, cost a
 * parse each otherwise). One with it is parsed to be sure. Keys written with escapes
 * (`"con\u0074ent"`) are valid JSON that no engine writes; they are not looked for.
 */
const TOKEN_HINT = new RegExp(
  `"(?:${TEXT_FIELDS.join('|')})"[ \\t\\r\\n]*:[ \\t\\r\\n]*"[^"]|"tool_calls"[ \\t\\r\\n]*:[ \\t\\r\\n]*\\[[ \\t\\r\\n]*[^\\] \\t\\r\\n]`,
);

const EMPTY = Buffer.alloc(0);

/**
 * Pieces of `chunk`, in order, moved together at its start; the bytes between them (an
 * event dropped: the usage chunk the client did not ask for) are written over. Each piece
 * moves left or stays, so no byte is overwritten before it is read. Done in place because
 * the read is the tap's alone (undici hands each network read's body bytes on once, and
 * the socket reads into a fresh buffer), and a copy of a large read is a new allocation
 * outside Node's buffer pool: in-process the tap took 61 µs a read of 100 events with the
 * copy, 33 without a usage chunk to drop, 23 closing it up (over HTTP the VM could not
 * resolve the difference).
 */
function closeUp(chunk: Buffer, pieces: Buffer[]): Buffer {
  let at = 0;
  for (const piece of pieces) {
    const from = piece.byteOffset - chunk.byteOffset;
    if (from !== at) chunk.copyWithin(at, from, from + piece.length);
    at += piece.length;
  }
  return chunk.subarray(0, at);
}

interface ChunkShape {
  choices?: Array<{
    delta?: { [field in (typeof TEXT_FIELDS)[number]]?: unknown } & { tool_calls?: unknown };
    finish_reason?: unknown;
  }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
}

/** What one event means to the Monitor. */
export interface EventInfo {
  hasToken: boolean;
  usage: StreamUsage | null;
  usageOnly: boolean;
}

/** An event's data: its `data:` lines' values joined by line ends. */
function dataOf(event: string): string {
  // The usual event is one `data:` line and its line ends: no split.
  if (event.startsWith('data:')) {
    let end = event.length;
    for (let c = event.charCodeAt(end - 1); c === 0x0a || c === 0x0d; c = event.charCodeAt(end - 1)) end--;
    const value = event.slice(5, end);
    if (!value.includes('\n') && !value.includes('\r')) return value.trimStart();
  }
  return event
    .split(LINE_END)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
}

const nonEmptyString = (x: unknown) => typeof x === 'string' && x.length > 0;

/**
 * What one event means to the Monitor. Its text may be its bytes read as latin1: what is
 * read (whether a string is empty, numbers, keys) is the same in either decoding.
 */
export function inspectEvent(event: string): EventInfo {
  const data = dataOf(event);
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
    return (
      !!d && (TEXT_FIELDS.some((f) => nonEmptyString(d[f])) || (Array.isArray(d.tool_calls) && d.tool_calls.length > 0))
    );
  });
  const u = chunk.usage;
  const usage =
    u && typeof u.prompt_tokens === 'number' && typeof u.completion_tokens === 'number'
      ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens }
      : null;
  return { hasToken, usage, usageOnly: usage !== null && choices.length === 0 };
}

/**
 * The tap is a Readable the reply pipes to the client, fed from the model server's body by
 * `readFrom` (or by `feed`/`finish`): a Transform would put a second stream (its writable
 * side, with its own buffering and callbacks) between the body and the client for every
 * network read.
 */
export class SseTap extends Readable {
  /** The bytes of the event not yet complete, as they came (no copy until it is). */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Its last (up to 3) bytes as latin1: an event end can straddle two network chunks. */
  private tail = '';
  private sawToken = false;
  /** `data: [DONE]` came. */
  private sawDone = false;
  /**
   * The last finish_reason so far was a non-empty string. The last, not any: with several
   * choices (n > 1) the last to finish is written last, and a stream cut while one of them
   * is still going is not a complete answer.
   */
  private finished = false;
  /** Whether the tap has ended (its end pushed): nothing is pushed after it. */
  private ended = false;
  /** Whether the client side wants more (Readable's _read since the last full push). */
  private wanted = false;
  /** Reads what the body has while the client wants more: set by readFrom. */
  private pull: (() => void) | null = null;
  /** The body read in: destroyed when it breaks the protocol, so that its owner reports it. */
  private source: Readable | null = null;
  /** Bytes passed on to the client so far. */
  bytesOut = 0;
  /** Why the stream did not end as an answer: set by endWithError, or at the end of an incomplete stream. */
  failure: { code: string; message: string } | null = null;

  constructor(private readonly opts: SseTapOptions) {
    super();
  }

  override _read(): void {
    this.wanted = true;
    this.pull?.();
  }

  /** One network read of the body; the tap may write over its bytes (closeUp), so it is the tap's from here. */
  feed(chunk: Buffer | string): void {
    this.pass(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }

  private pass(chunk: Buffer): void {
    if (this.failure || this.ended) return;
    // Line ends are ASCII bytes, never part of a UTF-8 character: events are found on the
    // bytes read as latin1 (one character a byte: string search in V8 is far cheaper than
    // calls into Buffer's). The bytes pass on as they came, in one write per network read.
    // Until the first token every event is judged on its own; after it, a run of events
    // passes whole up to the next one holding a key the Monitor needs (usage, an error),
    // found by one search over the read: an answer of 100 events that arrives in one read
    // is searched, not split into 100 events. The pending event's last characters come
    // first: an event end can straddle two reads.
    const offset = this.tail.length;
    const text = offset ? this.tail + chunk.toString('latin1') : chunk.toString('latin1');
    const crlf = text.includes('\r');
    let end = eventEnd(text, 0, crlf);
    if (end < 0) {
      this.hold(chunk, text);
      return;
    }
    const out: Buffer[] = [];
    let foreign = false; // whether `out` holds bytes from elsewhere than this chunk
    let sendFrom = 0; // bytes of this chunk from here on are not yet in `out`
    let start = 0; // where, in `text`, the next event starts
    // The event begun in earlier reads is judged whole: a key can straddle two reads.
    if (this.partsBytes > 0) {
      const bytes = Buffer.concat([...this.parts, chunk.subarray(0, end - offset)]);
      out.push(this.judge(bytes.toString('latin1')) ?? bytes);
      foreign = true;
      sendFrom = end - offset;
      start = end;
      end = eventEnd(text, end, crlf);
    }
    // From here every event lies within this chunk: text index i is chunk index i - offset.
    const judgeOne = (from: number, to: number) => {
      const replaced = this.judge(text.slice(from, to));
      if (replaced === null) return;
      if (from - offset > sendFrom) out.push(chunk.subarray(sendFrom, from - offset));
      if (replaced.length) {
        out.push(replaced);
        foreign = true;
      }
      sendFrom = to - offset;
    };
    const nextKey = keyFinder(text);
    while (end >= 0) {
      if (!this.sawToken) {
        judgeOne(start, end);
        start = end;
        end = eventEnd(text, end, crlf);
        continue;
      }
      // Events up to the one holding the next needed key pass whole.
      const needed = nextKey(start);
      let passTo = start;
      if (end >= 0 && (needed < 0 || end <= needed)) {
        if (crlf) {
          do {
            passTo = end;
            end = eventEnd(text, end, crlf);
          } while (end >= 0 && (needed < 0 || end <= needed));
        } else {
          // With LF line ends the last such event ends at the last blank line before the key
          // (or the read's end): one search back instead of one forward per event.
          passTo = text.lastIndexOf('\n\n', (needed < 0 ? text.length : needed) - 2) + 2;
          end = eventEnd(text, passTo, crlf);
        }
      }
      if (passTo > start) {
        this.noteEnd(text.slice(start, passTo));
        start = passTo;
      }
      if (end < 0) break; // the needed key is in the pending event, or there is none
      judgeOne(start, end);
      start = end;
      end = eventEnd(text, end, crlf);
    }
    const used = start - offset; // bytes of this chunk in complete events
    if (used === chunk.length && sendFrom === 0 && out.length === 0) {
      // The common read: whole events, passed on as they came (no copy, no pending rest).
      this.sendBytes(chunk);
      this.parts = [];
      this.partsBytes = 0;
      this.tail = '';
      return;
    }
    if (used > sendFrom) out.push(chunk.subarray(sendFrom, used));
    const first = out[0];
    if (first) this.sendBytes(out.length === 1 ? first : foreign ? Buffer.concat(out) : closeUp(chunk, out));
    const rest = chunk.subarray(used);
    this.parts = [rest];
    this.partsBytes = rest.length;
    this.tail = text.slice(start).slice(-3);
    if (this.partsBytes > MAX_SSE_EVENT_BYTES) this.overflow();
  }

  /** A read in which no event ends: all of it belongs to the pending event. */
  private hold(chunk: Buffer, text: string): void {
    this.parts.push(chunk);
    this.partsBytes += chunk.length;
    this.tail = text.slice(-3);
    if (this.partsBytes > MAX_SSE_EVENT_BYTES) this.overflow();
  }

  /** The body ended: the pending rest goes out, and the tap ends (with an error event if the answer did not). */
  finish(chunk?: Buffer | string): void {
    if (chunk !== undefined) this.feed(chunk);
    if (this.ended) return;
    const rest = Buffer.concat(this.parts);
    this.parts = [];
    if (rest.length && !this.failure) this.sendBytes(this.judge(rest.toString('latin1')) ?? rest);
    if (!this.complete && !this.failure) {
      // The body ended cleanly but the answer did not: the model server stopped midway.
      this.pushError({
        code: 'UPSTREAM_STREAM_CUT',
        message: 'The model server ended the stream without finishing the answer (no [DONE], no finish_reason)',
      });
    }
    this.ended = true;
    this.push(null);
  }

  /**
   * Reads `body` into this tap one network read at a time while the client takes what it
   * is given, and ends the tap when the body ends. A pipe would hand over each piece undici
   * pushes, one per HTTP chunk: one per event of a streamed answer, so an answer of 100
   * events sent in one packet cost 100 passes through the tap and 100 writes to the client
   * (4× the CPU of a plain relay). read() returns what has arrived, joined; events still
   * leave as soon as they are complete. While the client is slower than the model server,
   * what it has not taken waits in the body (and in the socket behind it).
   */
  readFrom(body: Readable): void {
    this.source = body;
    const pull = (): void => {
      while (this.wanted && !this.destroyed) {
        const chunk: Buffer | null = body.read();
        if (chunk === null) return;
        this.pass(chunk);
      }
    };
    this.pull = pull;
    body.on('readable', pull);
    body.once('end', () => this.finish());
    this.once('close', () => {
      body.off('readable', pull);
      this.pull = null;
      this.source = null;
    });
  }

  /** Whether the model server said the answer was complete ([DONE], or its last finish_reason). */
  get complete(): boolean {
    return this.sawDone || this.finished;
  }

  /** What complete events say of the answer's end (found without a parse). */
  private noteEnd(events: string): void {
    const finished = lastFinish(events);
    if (finished !== null) this.finished = finished;
    if (!this.sawDone && isDone(events)) this.sawDone = true;
  }

  /**
   * Ends the stream with an error event (after what was already relayed) instead of the
   * answer's end: `data: {"error": {"message", "type", "code"}}`.
   */
  endWithError(error: { code: string; message: string }): void {
    if (this.failure || this.ended) return;
    this.parts = [];
    this.partsBytes = 0;
    this.pushError(error);
    this.ended = true;
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
    // Reading the model server's body: failing that body is how every broken stream is
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
    this.sendBytes(Buffer.from(text));
  }

  private sendBytes(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.bytesOut += bytes.length;
    if (!this.push(bytes)) this.wanted = false;
  }

  /**
   * What one complete event (its bytes as latin1) means to the Monitor, and whether it goes
   * on as it came (null), replaced, or dropped (an empty buffer). The event is parsed only
   * when it can hold what the Monitor still needs: the first token (TOKEN_HINT), a usage
   * object, an error; and decoded as UTF-8 only if it is an error, whose text may be
   * scrubbed. The end of the answer is found without a parse. (In a JSON string a quote is
   * always escaped, so `"finish_reason"` followed by a colon is the key itself, never text
   * inside the content.)
   */
  private judge(latin1: string): Buffer | null {
    this.noteEnd(latin1);
    const error = latin1.includes('"error"');
    if (error || (!this.sawToken && TOKEN_HINT.test(latin1)) || USAGE_OBJECT.test(latin1)) {
      const event = error ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
      const info = inspectEvent(event);
      if (info.hasToken && !this.sawToken) {
        this.sawToken = true;
        this.opts.onFirstToken?.();
      }
      if (info.usage) this.opts.onUsage?.(info.usage);
      if (info.usageOnly && this.opts.dropUsageChunk) return EMPTY;
      // Only error events carry the model server's own messages (the only place a key it echoes appears).
      if (error && this.opts.scrub) {
        const scrubbed = this.opts.scrub(event);
        return scrubbed === event ? null : Buffer.from(scrubbed);
      }
    }
    return null;
  }
}
