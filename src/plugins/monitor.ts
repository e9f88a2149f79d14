// The Monitor as a Fastify plugin: the timing and client-load hooks on every route of the
// app, and the Monitor's own routes (sign-in, API, WebSocket stream, /metrics, logs,
// alerts, OCR samples) behind the monitor token. Registered only when MONITOR_ENABLED.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AlertManager } from '../alerts/manager.js';
import { bearer, monitorAccess } from '../auth.js';
import { AppError } from '../errors.js';
import type { EventLog } from '../log/event-log.js';
import type { Monitor } from '../monitor.js';
import type { OcrSampleKeeper } from '../pipeline/ocr-samples.js';
import { alertRoutes } from '../routes/alerts.js';
import { installClientLoadHooks } from '../routes/client-load.js';
import { checkToken, loginRoutes, type LoginRouteOptions } from '../routes/login.js';
import { logRoutes } from '../routes/logs.js';
import { metricsRoute } from '../routes/metrics.js';
import { monitorApiRoutes } from '../routes/monitor-api.js';
import { ocrSampleRoutes, type SampleLinks } from '../routes/ocr-samples.js';
import { streamRoute } from '../routes/stream.js';
import { installTimingHooks } from '../routes/timing.js';

export interface MonitorPluginOptions {
  monitor: Monitor;
  alerts: AlertManager;
  log: EventLog;
  clock: () => number;
  /** Who may see the Monitor: the token, the sessions it signed in, the throttle on wrong guesses. */
  access: LoginRouteOptions;
  /** MONITOR_ADMIN_TOKEN: needed to change alerts, when set. */
  adminToken: string | undefined;
  intervalMs: number;
  windowMs: number;
  /** The lowest-confidence OCR images and the signed links alerts carry to them; null when not kept. */
  ocrSamples: { keeper: OcrSampleKeeper; links: SampleLinks } | null;
}

async function monitor(app: FastifyInstance, opts: MonitorPluginOptions): Promise<void> {
  // The hooks go on the instance that registers this plugin (the app), which is why the
  // plugin is wrapped in fastify-plugin: an onRoute hook sees only the routes of its own
  // context and its children, and the Monitor must time every route of the app (/v1, the
  // model routes, the UI), which other plugins register after this one.
  installTimingHooks(app, opts.monitor.stats, opts.clock);
  installClientLoadHooks(app, opts.monitor.stats.load);
  // The routes are not: in their own context, the token check covers them and nothing else.
  await app.register(monitorRoutes, opts);
}

async function monitorRoutes(app: FastifyInstance, opts: MonitorPluginOptions): Promise<void> {
  const { monitor, alerts, log, clock, access } = opts;
  await app.register(loginRoutes, access);
  const accessOf = (request: FastifyRequest) =>
    monitorAccess(
      { remoteAddress: request.socket.remoteAddress, headers: request.headers },
      access.token,
      access.sessions,
    );
  const mayAccess = (request: FastifyRequest) => ['loopback', 'session', 'token'].includes(accessOf(request));
  // Its own check: a signed link from an alert opens one image without the token.
  if (opts.ocrSamples) await app.register(ocrSampleRoutes, { ...opts.ocrSamples, mayAccess, clock });
  await app.register(async (guarded) => {
    guarded.addHook('onRequest', async (request, reply) => {
      const kind = accessOf(request);
      if (kind === 'loopback' || kind === 'session') return;
      // A Bearer token is a guess like a login: throttled the same way.
      const presented = kind === 'token' || kind === 'wrong-token' ? bearer(request.headers) : undefined;
      if (presented !== undefined) return checkToken(request, reply, presented, access);
      throw new AppError(
        'UNAUTHORIZED',
        'The Monitor needs the monitor token: open the link printed at start-up, or send Authorization: Bearer <token>',
      );
    });
    await guarded.register(monitorApiRoutes, { monitor, clock });
    await guarded.register(streamRoute, { monitor, clock });
    await guarded.register(metricsRoute, { monitor });
    await guarded.register(logRoutes, { log, clock });
    await guarded.register(alertRoutes, {
      alerts,
      adminToken: opts.adminToken,
      store: monitor.store,
      clock,
      intervalMs: opts.intervalMs,
      windowMs: opts.windowMs,
      modelEndpoints: () => monitor.stats.modelEndpoints(),
      histogramEndpoint: (endpoint) =>
        monitor.histogramRoutes(endpoint, monitor.stats.modelEndpoints().includes(endpoint) ? 'model' : 'other'),
    });
  });
}

/**
 * Needs @fastify/websocket registered first (the stream route) and the request's
 * `modelRequest` slot (the timing hook reads a model request's own status).
 */
export const monitorPlugin = fp(monitor, {
  name: 'monitor',
  fastify: '5.x',
  dependencies: ['@fastify/websocket'],
  decorators: { request: ['modelRequest'] },
});
