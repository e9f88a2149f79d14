// WebSocket GET /api/monitor/stream: the live feed of the Monitor tab. Each upgrade takes
// a place in the WebSocket budget first (MAX_WEBSOCKETS, MAX_WEBSOCKETS_PER_CLIENT), after
// the Monitor's access check; past it the upgrade gets 429 or 503 with Retry-After.
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.js';
import type { Monitor } from '../monitor.js';
import { peerOf } from '../security/guesses.js';
import { clientMessage, serverMessage, TOPIC_LIST } from '../stream-hub.js';
import { inputJsonSchema } from './openapi.js';

/** Tabs reconnect on their own; half a minute lets a closed tab's place come free. */
const RETRY_AFTER_S = 30;

export async function streamRoute(
  app: FastifyInstance,
  opts: { monitor: Monitor; clock: () => number },
): Promise<void> {
  const budget = opts.monitor.hub.admission;

  const admit: onRequestHookHandler = (request, reply, done) => {
    if (!request.ws) return done();
    const client = peerOf(request);
    const refused = budget.admit(client);
    if (refused === null) {
      // Released when the connection goes, however it goes (upgrade failed, tab closed, shutdown).
      request.raw.socket.once('close', () => budget.release(client));
      return done();
    }
    reply.header('retry-after', String(RETRY_AFTER_S));
    done(
      refused === 'client'
        ? new AppError(
            'TOO_MANY_REQUESTS',
            `${client} already has ${budget.maxPerClient} Monitor streams open (MAX_WEBSOCKETS_PER_CLIENT); close a tab, or try again in ${RETRY_AFTER_S} s`,
          )
        : new AppError(
            'SERVER_BUSY',
            `The server has ${budget.maxTotal} Monitor streams open, its limit (MAX_WEBSOCKETS); try again in ${RETRY_AFTER_S} s`,
          ),
    );
  };

  const schema = {
    tags: ['Monitor'],
    summary: 'The live feed: a WebSocket of snapshots, log lines and alerts',
    description:
      `Upgrade to a WebSocket (a plain GET is 404). The server sends JSON messages: {"type":${TOPIC_LIST},"data":…}, ` +
      "and answers the client's. The client may send " +
      JSON.stringify(inputJsonSchema(clientMessage)) +
      ' (subscribe narrows the topics; all of them by default). Past MAX_WEBSOCKETS_PER_CLIENT or MAX_WEBSOCKETS the upgrade is ' +
      'refused with 429 or 503 and Retry-After.',
    response: { 101: serverMessage },
  };
  app.get('/api/monitor/stream', { websocket: true, onRequest: admit, schema }, (socket) => {
    // A new tab gets the current cards at once instead of waiting for the next check,
    // built now like GET /api/monitor/snapshot, so the two never disagree.
    opts.monitor.hub.add(socket, { type: 'snapshot', data: opts.monitor.snapshot(opts.clock()) });
  });
}
