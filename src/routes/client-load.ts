// Counts who is on the server now for the "Active connections" card: model requests
// streaming their answer (with the WebSockets and the model requests in flight, which the
// timing hook counts, the users connected now), and open client sockets (exported, idle
// keep-alive ones included). One counter bump per socket and per stream.
import type { FastifyInstance, onSendHookHandler, RouteOptions } from 'fastify';
import type { ClientLoad } from '../metrics/service-stats.js';
import { withHook } from './route-hooks.js';

export function installClientLoadHooks(app: FastifyInstance, load: ClientLoad): void {
  app.server.on('connection', (socket) => {
    load.openConnections++;
    socket.once('close', () => load.openConnections--);
  });
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.config?.monitorGroup !== 'model') return;
    // An answer sent as server-sent events is an open stream until its socket closes.
    const streams: onSendHookHandler = (_request, reply, payload, done) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/event-stream')) {
        load.streamsInFlight++;
        reply.raw.once('close', () => load.streamsInFlight--);
      }
      done(null, payload);
    };
    route.onSend = withHook(route.onSend, streams);
  });
}
