// A JSON request body whose large strings are streamed into place instead of serialised:
// the request's small skeleton goes through JSON.stringify, and each large string (a video
// file as a base64 data URL, or a frame's data URL) is written where its placeholder was,
// piece by piece. JSON.stringify of a 190 MiB video's data URL took the event loop for
// 5–13 s and as much memory again; 768 frames' data URLs took 120–210 ms. The length is
// known before the first byte, so the body goes out with a Content-Length.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/** What a placeholder becomes: text that needs no JSON escaping, or a file in base64 after a prefix. */
export type Splice = { text: string } | { prefix: string; path: string; bytes: number };

/**
 * File bytes read per piece: a multiple of 3, so that each piece's base64 ends without
 * padding, and small enough that the piece's base64 string (64 KiB) is born and dies in
 * V8's young generation. With 768 KiB pieces (1 MiB strings, allocated in the old
 * generation) four 190 MiB uploads cost 46 full collections, 1.1 s of pauses in all, up
 * to 125 ms each; with 48 KiB pieces 2 full collections and 0.4 s in mostly 1–3 ms steps.
 */
export const BASE64_PIECE_BYTES = 3 * 16 * 1024;
/** What a spliced text may hold: a data URL's characters, none that JSON would escape. */
const JSON_SAFE = /^[A-Za-z0-9+/=:;,._-]*$/;

export class JsonSplicer {
  private readonly nonce = randomUUID();
  private readonly splices: Splice[] = [];

  /** The placeholder string to put in the payload where this splice goes. */
  place(splice: Splice): string {
    this.splices.push(splice);
    return `${this.nonce}:${this.splices.length - 1}`;
  }

  /** The payload, serialised around its placeholders, as a stream of `length` bytes. */
  stream(payload: unknown): { body: Readable; length: number } {
    const json = JSON.stringify(payload);
    const at = this.splices.map((s, i) => {
      const quoted = `"${this.nonce}:${i}"`;
      const found = json.indexOf(quoted);
      if (found < 0 || json.indexOf(quoted, found + 1) >= 0)
        throw new Error(`placeholder ${i} is not in the payload once`);
      return { splice: s, from: found + 1, to: found + quoted.length - 1 };
    });
    at.sort((a, b) => a.from - b.from);
    const parts: Array<string | Splice> = [];
    let last = 0;
    for (const { splice, from, to } of at) {
      parts.push(json.slice(last, from), splice);
      last = to;
    }
    parts.push(json.slice(last));
    const length = parts.reduce(
      (n, p) =>
        n +
        (typeof p === 'string'
          ? Buffer.byteLength(p)
          : 'text' in p
            ? p.text.length
            : p.prefix.length + 4 * Math.ceil(p.bytes / 3)),
      0,
    );
    return { body: Readable.from(pieces(parts), { objectMode: false }), length };
  }
}

async function* pieces(parts: Array<string | Splice>): AsyncGenerator<Buffer> {
  for (const p of parts) {
    if (typeof p === 'string') yield Buffer.from(p);
    else if ('text' in p) {
      // Checked here, one piece at a time, rather than all at once before sending.
      if (!JSON_SAFE.test(p.text)) throw new Error('a spliced text holds characters JSON would escape');
      yield Buffer.from(p.text, 'latin1');
    } else {
      if (!JSON_SAFE.test(p.prefix)) throw new Error('a spliced prefix holds characters JSON would escape');
      yield Buffer.from(p.prefix, 'latin1');
      yield* base64Of(p.path);
    }
  }
}

/** A file in base64, a piece at a time (each piece tens of microseconds of work). */
async function* base64Of(path: string): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: BASE64_PIECE_BYTES })) {
    const data = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    const whole = data.length - (data.length % 3);
    carry = Buffer.from(data.subarray(whole));
    if (whole > 0) yield Buffer.from(data.subarray(0, whole).toString('base64'), 'latin1');
  }
  if (carry.length) yield Buffer.from(carry.toString('base64'), 'latin1');
}
