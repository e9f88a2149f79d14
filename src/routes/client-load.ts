// Counts who is on the server now for the "Active connections" card: open client sockets
// (every HTTP keep-alive connection and WebSocket), and model requests in flight. Kept
// apart from the timing hook: one counter bump per socket and per model request.
import type { FastifyInstance, onRequestHookHandler, RouteOptions } from 'fastify';
import type { ClientLoad } from '../metrics/service-stats.js';

const IN_FLIGHT = Symbol('monitor.inFlight');
type Tagged = { [IN_FLIGHT]?: boolean };

export function installClientLoadHooks(app: FastifyInstance, load: ClientLoad): void {
  app.server.on('connection', (socket) => {
    load.openConnections++;
    socket.once('close', () => load.openConnections--);
  });
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.config?.monitorGroup !== 'model') return;
    // 'close' fires once whether the answer finished or the client went away.
    const hook: onRequestHookHandler = (_request, reply, done) => {
      load.modelRequestsInFlight++;
      reply.raw.once('close', () => load.modelRequestsInFlight--);
      done();
    };
    (hook as Tagged)[IN_FLIGHT] = true;
    // The automatic HEAD route copies the GET route's hooks: never count a request twice.
    const existing =
      route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...existing.filter((h) => !(h as Tagged)[IN_FLIGHT]), hook];
  });
}
