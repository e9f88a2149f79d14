// How many bytes each route's body may have, enforced while it is read (Fastify stops
// reading at the limit, and refuses at once when Content-Length says more). The model
// routes take images, videos and long chats: BODY_LIMIT_BYTES. Every other route takes
// a form's worth of JSON, in kilobytes, so a sign-in form cannot be sent 50 MiB.
import type { FastifyInstance, RouteOptions } from 'fastify';

const KiB = 1024;

/**
 * Routes that need more, or much less, than DEFAULT_BODY_LIMIT, by `METHOD url`. Each
 * fits the largest body its schema accepts with room to spare (JSON escapes included).
 */
export const ROUTE_BODY_LIMITS: Readonly<Record<string, number>> = {
  /** A token of at most 1 024 characters. */
  'POST /api/monitor/login': 4 * KiB,
  /** Takes no body. */
  'POST /api/monitor/logout': 1 * KiB,
  /** A step id and a reason of at most 500 characters. */
  'POST /api/gui/feedback': 8 * KiB,
  /** A rule: two conditions with their labels, twenty channels, texts of a few hundred characters. */
  'POST /api/monitor/alerts/rules': 256 * KiB,
  'PUT /api/monitor/alerts/rules/:id': 256 * KiB,
  'POST /api/monitor/alerts/rules/test': 256 * KiB,
  /** The whole channel list: at most 50 channels. */
  'PUT /api/monitor/alerts/channels': 256 * KiB,
  /** One channel: URLs, recipients, headers. */
  'POST /api/monitor/alerts/channels': 64 * KiB,
  'PUT /api/monitor/alerts/channels/:name': 64 * KiB,
};

/** Every other route that is not a model route (silences, acks, log boost, …). */
export const DEFAULT_BODY_LIMIT = 16 * KiB;

/** Model routes (`config.monitorGroup: 'model'`) keep BODY_LIMIT_BYTES unless listed above. */
function limitFor(route: RouteOptions, maxBytes: number): number | undefined {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const listed = methods.map((m) => ROUTE_BODY_LIMITS[`${m} ${route.url}`]).find((n) => n !== undefined);
  if (route.bodyLimit !== undefined) return Math.min(route.bodyLimit, maxBytes);
  if (listed !== undefined) return Math.min(listed, maxBytes);
  if (route.config?.monitorGroup === 'model') return undefined;
  return Math.min(DEFAULT_BODY_LIMIT, maxBytes);
}

/** On the root instance, before any route: every route registered after it gets its limit. */
export function installBodyLimits(app: FastifyInstance, maxBytes: number): void {
  app.addHook('onRoute', (route) => {
    const limit = limitFor(route, maxBytes);
    if (limit !== undefined) route.bodyLimit = limit;
  });
}
