// Turning what a client sent (data URL, bare base64, http(s) URL) into bytes, within a
// size limit and a time limit. Failures are AppErrors naming the field and the limit.
import { request } from 'undici';
import { AppError } from '../errors.js';

export interface ImageFetchLimits {
  maxBytes: number;
  fetchTimeoutMs: number;
}

const DATA_URL = /^data:([^;,]+)?(;base64)?,/i;

export async function imageBytes(input: string, field: string, limits: ImageFetchLimits): Promise<Buffer> {
  const tooLarge = (n: number) =>
    new AppError('BODY_TOO_LARGE', `${field}: the image is ${n} bytes; the limit is ${limits.maxBytes} bytes (IMAGE_MAX_BYTES)`, { field });
  if (/^https?:\/\//i.test(input)) {
    let res;
    try {
      res = await request(input, { signal: AbortSignal.timeout(limits.fetchTimeoutMs), maxRedirections: 3 } as Parameters<typeof request>[1]);
    } catch (err) {
      throw new AppError('BAD_REQUEST', `${field}: could not fetch the image URL: ${(err as Error).message}`, { field });
    }
    if (res.statusCode >= 400) {
      await res.body.dump();
      throw new AppError('BAD_REQUEST', `${field}: the image URL answered ${res.statusCode}`, { field });
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      await res.body.dump();
      throw tooLarge(declared);
    }
    // Count while reading: a server may lie about (or omit) Content-Length.
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total > limits.maxBytes) {
        res.body.destroy();
        throw tooLarge(total);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
  const m = DATA_URL.exec(input);
  const b64 = m ? input.slice(m[0].length) : input;
  if (m && !m[2]) throw new AppError('BAD_REQUEST', `${field}: only base64 data URLs are accepted`, { field });
  // base64 is 4 characters per 3 bytes: reject before decoding what cannot fit.
  const approx = Math.floor((b64.length * 3) / 4);
  if (approx > limits.maxBytes + 3) throw tooLarge(approx);
  if (!/^[A-Za-z0-9+/=\r\n_-]*$/.test(b64) || b64.length === 0) {
    throw new AppError('BAD_REQUEST', `${field}: expected a data URL, base64 or an http(s) URL of an image`, { field });
  }
  return Buffer.from(b64, 'base64');
}
