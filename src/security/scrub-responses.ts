// The last line of defence for secrets in answers: every error answer (4xx/5xx) leaves
// with the configured secrets replaced, whether its text was made here or relayed from
// the model server (a /v1/* pass-through error body included, read whole: error bodies
// are small, and capped). Successful answers are not touched: they are the model's output.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Scrub } from '../log/scrub-secrets.js';

/** Error bodies relayed as streams are read up to this much; the rest is dropped. */
const MAX_ERROR_BODY = 1024 * 1024;

async function readCapped(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += b.length;
    if (total > MAX_ERROR_BODY) {
      stream.destroy();
      break;
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function installResponseScrubbing(app: FastifyInstance, scrub: Scrub): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode < 400 || payload === null || payload === undefined) return payload;
    // A compressed body relayed as it came cannot be read here; it is passed on untouched.
    const encoding = String(reply.getHeader('content-encoding') ?? 'identity');
    if (encoding !== 'identity') return payload;
    let text: string;
    if (typeof payload === 'string') text = payload;
    else if (Buffer.isBuffer(payload)) text = payload.toString('utf8');
    else if (payload instanceof Readable) text = await readCapped(payload);
    else return payload;
    const clean = scrub(text);
    // Unchanged: the original goes out (a stream already read goes out as its text).
    if (clean === text) return payload instanceof Readable ? text : payload;
    reply.removeHeader('content-length');
    return clean;
  });
}
