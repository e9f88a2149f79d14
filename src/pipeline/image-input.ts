// Turning what a client sent (data URL, bare base64, http(s) URL) into bytes, within a
// size limit and a time limit. URLs are fetched with undici, following at most 3 redirects,
// each hop checked against the SSRF guard (url-guard.ts). Failures are 4xx AppErrors that
// name the field and the limit: a URL or an image that does not work is the client's.
import { Agent, request, type Dispatcher } from 'undici';
import { AppError } from '../errors.js';
import { formatBytes } from '../units.js';
import { ImagePreprocError } from './preprocess.js';
import { UrlAllowList, UrlNotAllowedError } from './url-guard.js';

export interface ImageFetchLimits {
  maxBytes: number;
  /** The setting behind maxBytes, named in the 413 (IMAGE_MAX_BYTES, VIDEO_MAX_BYTES). */
  maxBytesSetting?: string;
  fetchTimeoutMs: number;
  /** The pool URLs are fetched with (its guard's allow-list); absent: public addresses only. */
  fetcher?: ImageFetcher;
}

const DATA_URL = /^data:([^;,]+)?(;base64)?,/i;
const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One connection pool for fetching client URLs, whose every connection goes through the guard. */
export class ImageFetcher {
  readonly guard: UrlAllowList;
  readonly agent: Agent;
  constructor(allow: readonly string[] = []) {
    this.guard = new UrlAllowList(allow);
    this.agent = new Agent({ connect: { lookup: this.guard.lookup }, keepAliveTimeout: 10_000, connections: 64 });
  }
  close(): Promise<void> {
    return this.agent.close();
  }
}

const defaultFetcher = new ImageFetcher();

/** The 413 for an input of `n` bytes (`counted`: at least that many, counting stopped). */
export function tooLargeError(field: string, limits: ImageFetchLimits, n: number, counted: boolean): ImagePreprocError {
  return new ImagePreprocError(
    'IMAGE_TOO_LARGE',
    field,
    `${field === 'video' ? 'the video' : 'the image'} is ${formatBytes(n)}${counted ? ' or more' : ''}; the limit is ${limits.maxBytes} bytes (${limits.maxBytesSetting ?? 'IMAGE_MAX_BYTES'})`,
    { hash: null, bytes: n, format: null },
  );
}

export async function imageBytes(input: string, field: string, limits: ImageFetchLimits): Promise<Buffer> {
  const tooLarge = (n: number, counted: boolean) => tooLargeError(field, limits, n, counted);
  if (/^https?:\/\//i.test(input)) return fetchUrl(input, field, limits);
  const m = DATA_URL.exec(input);
  const b64 = m ? input.slice(m[0].length) : input;
  const unreadable = (reason: string) =>
    new ImagePreprocError('IMAGE_UNREADABLE', field, reason, {
      hash: null,
      bytes: Math.floor((b64.length * 3) / 4),
      format: null,
    });
  if (m && !m[2]) throw unreadable('only base64 data URLs are accepted (data:image/jpeg;base64,…)');
  // base64 is 4 characters per 3 bytes: reject before decoding what cannot fit.
  const approx = Math.floor((b64.length * 3) / 4);
  if (approx > limits.maxBytes + 3) throw tooLarge(approx, false);
  if (!/^[A-Za-z0-9+/=\r\n_-]*$/.test(b64) || b64.length === 0) {
    throw unreadable('expected a data URL, base64 or an http(s) URL of an image');
  }
  return Buffer.from(b64, 'base64');
}

/** The part of a URL that may be logged and shown: never its path or query (they carry tokens). */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

async function fetchUrl(url: string, field: string, limits: ImageFetchLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await fetchUrlInto(url, field, limits, (chunk) => {
    chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/**
 * Fetches a URL as imageBytes does (guarded, redirects checked, within the size and time
 * limits), handing its body to `onChunk` piece by piece instead of keeping it: a video is
 * written to a file as it arrives. Resolves with the bytes received.
 */
export async function fetchUrlInto(
  url: string,
  field: string,
  limits: ImageFetchLimits,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<number> {
  const tooLarge = (n: number, counted: boolean) => tooLargeError(field, limits, n, counted);
  const fetcher = limits.fetcher ?? defaultFetcher;
  const failed = (why: string) =>
    new AppError('IMAGE_FETCH_FAILED', `${field}: could not fetch ${urlOrigin(url)}: ${why}`, { field });
  // One deadline for the whole fetch, redirects and body included: a plain timer, cleared.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), limits.fetchTimeoutMs);
  try {
    let current = new URL(url);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:')
        throw failed(`a redirect led to ${current.protocol} (only http and https)`);
      fetcher.guard.checkLiteral(current);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, {
          dispatcher: fetcher.agent,
          signal: deadline.signal,
          headers: { accept: 'image/*, video/*;q=0.9, */*;q=0.5' },
        });
      } catch (err) {
        throw unwrap(err);
      }
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode) && typeof location === 'string') {
        await res.body.dump();
        current = new URL(location, current);
        continue;
      }
      if (res.statusCode >= 400) {
        await res.body.dump();
        throw failed(`it answered ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        res.body.destroy();
        throw tooLarge(declared, false);
      }
      // Count while reading: a server may lie about (or omit) Content-Length.
      let total = 0;
      try {
        for await (const chunk of res.body) {
          total += (chunk as Buffer).length;
          if (total > limits.maxBytes) {
            res.body.destroy();
            throw tooLarge(total, true);
          }
          await onChunk(chunk as Buffer);
        }
      } catch (err) {
        res.body.destroy();
        throw err instanceof ImagePreprocError ? err : unwrap(err);
      }
      return total;
    }
    throw failed(`more than ${MAX_REDIRECTS} redirects`);
  } catch (err) {
    if (err instanceof UrlNotAllowedError) {
      throw new AppError(
        'URL_NOT_ALLOWED',
        `${field}: ${urlOrigin(url)} is not fetched: ${err.message}; only public addresses are (IMAGE_FETCH_ALLOW lists exceptions)`,
        { field },
      );
    }
    if (err instanceof AppError) throw err;
    if (deadline.signal.aborted)
      throw failed(`no complete answer within ${limits.fetchTimeoutMs} ms (IMAGE_FETCH_TIMEOUT_MS)`);
    throw failed((err as Error).message);
  } finally {
    clearTimeout(timer);
  }
}

/** The guard's refusal travels inside undici's connect error: bring it out. */
function unwrap(err: unknown): unknown {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    if (e instanceof UrlNotAllowedError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return err;
}
