// One POST of a JSON body to a receiver, as every HTTP notifier makes it: within a hard
// deadline for the whole call (connect, answer, body) plus undici's own timeouts so its
// socket is released too; only the first 200 characters of the answer are read (a
// receiver's answer could be endless), and whether to retry follows HTTP (5xx, 429, network
// errors and timeouts; not other 4xx). The URL can hold a secret: errors quote it as `shown`.
import { request, type Dispatcher } from 'undici';
import { DeadlineExceeded, withDeadline } from '../../deadline.js';

export interface PostOutcome {
  ok: boolean;
  retry: boolean;
  /** `HTTP 202`, `HTTP 500: <the answer's start>`, `no answer within 5000 ms`, or the network error. */
  detail: string;
}

export interface PostJson {
  url: string;
  /** The URL as errors may show it (masked). */
  shown: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * A receiver that answers 2xx with a refusal in the body (the chat robots): what its
   * answer means, or null when it took the message.
   */
  refusal?: (answer: string) => { error: string; retry: boolean } | null;
}

/** Read of a receiver's answer: enough for a robot's `{"errcode":…,"errmsg":"…"}`. */
const ANSWER_CHARS = 2_000;

export async function postJson(p: PostJson): Promise<PostOutcome> {
  const headers = { 'content-type': 'application/json', 'user-agent': 'qwen3vl-monitor', ...p.headers };
  try {
    return await withDeadline(p.timeoutMs, p.signal, async (deadline) => {
      const res = await request(p.url, {
        method: 'POST',
        body: p.body,
        headers,
        signal: deadline,
        headersTimeout: p.timeoutMs,
        bodyTimeout: p.timeoutMs,
      });
      const answer = (await firstBytes(res.body, ANSWER_CHARS)).trim();
      if (res.statusCode < 300) {
        const refused = p.refusal?.(answer);
        if (refused) return { ok: false, retry: refused.retry, detail: `HTTP ${res.statusCode}, ${refused.error}` };
        return { ok: true, retry: false, detail: `HTTP ${res.statusCode}` };
      }
      return {
        ok: false,
        retry: res.statusCode >= 500 || res.statusCode === 429,
        detail: `HTTP ${res.statusCode}${answer ? `: ${answer.slice(0, 200)}` : ''}`,
      };
    });
  } catch (err) {
    const e = err as Error;
    const timedOut =
      e instanceof DeadlineExceeded ||
      e.name === 'TimeoutError' ||
      /timeout/i.test((e as { code?: string }).code ?? '');
    return {
      ok: false,
      retry: true,
      detail: timedOut ? `no answer within ${p.timeoutMs} ms` : e.message.split(p.url).join(p.shown),
    };
  }
}

/** The start of the receiver's answer, for the history; the rest is not read. */
async function firstBytes(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length >= max) {
      body.destroy();
      break;
    }
  }
  return text.slice(0, max);
}
