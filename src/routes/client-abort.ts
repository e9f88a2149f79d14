// An AbortSignal that fires when the client disconnects before its answer is complete,
// so the upstream stops generating for nobody. (The request's own 'close' event is no
// use here: Node emits it as soon as the body has been read.)
import type { FastifyReply } from 'fastify';

export function abortOnClientClose(reply: FastifyReply): AbortController {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac;
}
