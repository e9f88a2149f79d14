// Clients that ask before they send a body (`Expect: 100-continue`; curl does for bodies
// over 1 MiB) are told to go on only once the request has passed every check that needs no
// body: who the client is, a free upload slot, the announced length against the route's
// limit. Left to itself Node answers "100 Continue" the moment the headers arrive, and a
// 190 MiB video is on its way before the 401, 413 or 429 that refuses it.
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The limit the body will be read against: the upload's own for a file, else the route's. */
function limitOf(request: FastifyRequest): number {
  const upload = request.routeOptions.config.upload;
  const json = /json/i.test(String(request.headers['content-type'] ?? ''));
  return upload && !json ? upload.maxBytes : (request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY);
}

export function installExpectContinue(app: FastifyInstance): void {
  // With a listener, Node no longer answers by itself: the request goes through the hooks
  // like any other, and "100 Continue" is written when it reaches the body (preParsing).
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (/100-continue/i.test(String(request.headers.expect ?? '')) && !reply.raw.headersSent) {
      const announced = Number(request.headers['content-length']);
      // One announced past the limit is refused next (413) without a byte of it sent.
      if (!(announced > limitOf(request))) reply.raw.writeContinue();
    }
    done(null, payload);
  });
}
