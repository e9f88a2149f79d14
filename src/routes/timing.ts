// The timing hook: the only code on every request's path. Each route gets its own
// onResponse hook bound to its preallocated EndpointStats when it is registered, so a
// request costs one clock read and arithmetic; unknown paths share one slot.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onResponseHookHandler,
  RouteOptions,
} from 'fastify';
import type { EndpointStats, ModuleGroup, ServiceStats } from '../metrics/service-stats.js';
import { withHook } from './route-hooks.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which card group a route belongs to; 'model' routes feed the overview cards. */
    monitorGroup?: ModuleGroup;
  }
}

/** nginx's "client closed request": counted as 4xx, never as a server error. */
export const CLIENT_CLOSED_REQUEST = 499;

export function installTimingHooks(app: FastifyInstance, stats: ServiceStats, clock: () => number): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const group =
      route.config?.monitorGroup ??
      (route.url.startsWith('/api/monitor') || route.url === '/metrics' ? 'monitor' : 'other');
    const slots = new Map(methods.map((m) => [m, stats.register(m, route.url, group)]));
    const only = slots.size === 1 ? slots.values().next().value : undefined;
    // A model request may know better than its status line (a stream cut after its 200).
    const hook: onResponseHookHandler = only
      ? (request, reply, done) => {
          only.record(
            reply.elapsedTime,
            request.modelRequest?.monitorStatus ?? reply.statusCode,
            clock(),
            bodyBytes(request, reply),
          );
          done();
        }
      : (request, reply, done) => {
          (slots.get(request.raw.method as string) ?? stats.unmatched).record(
            reply.elapsedTime,
            request.modelRequest?.monitorStatus ?? reply.statusCode,
            clock(),
            bodyBytes(request, reply),
          );
          done();
        };
    if (group === 'model') addAbortAccounting(route, slots, only, stats, clock);
    route.onResponse = withHook(route.onResponse, hook);
  });
  // Not-found requests have no route of their own: they all land in one slot.
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) stats.unmatched.record(reply.elapsedTime, reply.statusCode, clock());
    done();
  });
}

/** The answer's body size: a stream counts what it sent; else Content-Length (NaN if none). */
function bodyBytes(request: FastifyRequest, reply: FastifyReply): number {
  return request.modelRequest?.responseBytes ?? Number(reply.getHeader('content-length'));
}

/**
 * A model request's one 'close' listener for the Monitor: it leaves the in-flight count
 * (Active connections), and a client that gave up on a slow answer (the socket closed, the
 * response never finished, so onResponse never runs) is counted as 499, so "users are
 * giving up" shows in the Monitor instead of nowhere (unless the request already knows it
 * failed otherwise, e.g. the model server cut it). One hook and one listener for both: a
 * hook and a listener each cost about a microsecond a request.
 */
function addAbortAccounting(
  route: RouteOptions,
  slots: Map<string, EndpointStats>,
  only: EndpointStats | undefined,
  stats: ServiceStats,
  clock: () => number,
): void {
  const load = stats.load;
  const watch: onRequestHookHandler = (request, reply, done) => {
    const slot = only ?? slots.get(request.raw.method as string);
    load.modelRequestsInFlight++;
    reply.raw.once('close', () => {
      load.modelRequestsInFlight--;
      if (!reply.raw.writableFinished && slot)
        slot.record(reply.elapsedTime, request.modelRequest?.monitorStatus ?? CLIENT_CLOSED_REQUEST, clock());
    });
    done();
  };
  route.onRequest = withHook(route.onRequest, watch);
}
