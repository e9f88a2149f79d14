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
  // Callback style: a successful answer passes with one comparison and no promise.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode < 400 || payload === null || payload === undefined) return done(null, payload);
    // A compressed body relayed as it came cannot be read here; it is passed on untouched.
    if (String(reply.getHeader('content-encoding') ?? 'identity') !== 'identity') return done(null, payload);
    const finish = (text: string) => {
      const clean = scrub(text);
      // Unchanged: the original goes out (a stream already read goes out as its text).
      if (clean === text) return done(null, payload instanceof Readable ? text : payload);
      reply.removeHeader('content-length');
      done(null, clean);
    };
    if (typeof payload === 'string') return finish(payload);
    if (Buffer.isBuffer(payload)) return finish(payload.toString('utf8'));
    if (payload instanceof Readable) return void readCapped(payload).then(finish, (err: Error) => done(err));
    done(null, payload);
  });
}
