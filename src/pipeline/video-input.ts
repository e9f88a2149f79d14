// Turning what a client sent as a video into a spooled file (video-spool.ts), a piece at a
// time and counted against VIDEO_MAX_BYTES as it comes: the file itself as the request
// body, an http(s) URL (fetched through the SSRF guard, as images are), or a base64 data
// URL inside the JSON body (decoded a megabyte at a time). Failures are the same 4xx as
// for images, naming the field and the limit.
import type { AppError } from '../errors.js';
import { fetchUrlInto, tooLargeError, type ImageFetchLimits } from './image-input.js';
import { ImagePreprocError } from './preprocess.js';
import type { SpoolFile } from './video-spool.js';

/** Writes a stream to the file until it ends; `tooLarge` is thrown past `maxBytes`. */
export async function spoolStream(
  source: AsyncIterable<Buffer>,
  file: SpoolFile,
  maxBytes: number,
  tooLarge: (bytes: number) => AppError,
): Promise<void> {
  for await (const chunk of source) {
    if (file.bytes + chunk.length > maxBytes) throw tooLarge(file.bytes + chunk.length);
    await file.append(chunk);
  }
}

/** Fetches a video URL into the file. */
export async function spoolUrl(url: string, file: SpoolFile, limits: ImageFetchLimits): Promise<void> {
  await fetchUrlInto(url, 'video', limits, (chunk) => file.append(chunk));
}

const DATA_URL = /^data:([^;,]+)?(;base64)?,/i;
const BASE64 = /^[A-Za-z0-9+/=\r\n_-]*$/;
/**
 * Characters decoded per piece: a multiple of 4, well under a millisecond of work, and
 * small enough for V8's young generation (see BASE64_PIECE_BYTES in streamed-json.ts).
 */
const PIECE_CHARS = 64 * 1024;

/**
 * Decodes a base64 data URL (or bare base64) into the file a piece at a time: checking and
 * decoding 50 MiB of base64 at once held the event loop for 150–300 ms.
 */
export async function spoolBase64(input: string, file: SpoolFile, limits: ImageFetchLimits): Promise<void> {
  const m = DATA_URL.exec(input);
  const start = m ? m[0].length : 0;
  const approx = Math.floor(((input.length - start) * 3) / 4);
  const unreadable = (reason: string) =>
    new ImagePreprocError('IMAGE_UNREADABLE', 'video', reason, { hash: null, bytes: approx, format: null });
  if (m && !m[2]) throw unreadable('only base64 data URLs are accepted (data:video/mp4;base64,…)');
  // base64 is 4 characters per 3 bytes: refuse before decoding what cannot fit.
  if (approx > limits.maxBytes + 3) throw tooLargeError('video', limits, approx, false);
  if (input.length === start) throw unreadable('expected a data URL, base64 or an http(s) URL of a video');
  let carry = '';
  for (let at = start; at < input.length; at += PIECE_CHARS) {
    let piece = input.slice(at, at + PIECE_CHARS);
    if (!BASE64.test(piece)) throw unreadable('expected a data URL, base64 or an http(s) URL of a video');
    // Line breaks would shift the 4-character groups between pieces.
    if (piece.includes('\n') || piece.includes('\r')) piece = piece.replace(/[\r\n]/g, '');
    piece = carry + piece;
    const whole = piece.length - (piece.length % 4);
    carry = piece.slice(whole);
    await file.append(Buffer.from(piece.slice(0, whole), 'base64'));
  }
  if (carry) await file.append(Buffer.from(carry, 'base64'));
  if (file.bytes > limits.maxBytes) throw tooLargeError('video', limits, file.bytes, false);
}
