// The app factory: configuration → collaborators (app-parts.ts) → plugins. It only
// composes: each plugin owns its routes and hooks, and the order below is the order in
// which they must see each other. Tests and the server entry both build the app here.
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import type { AlertManager } from './alerts/manager.js';
import type { AppOptions } from './app-options.js';
import { createParts, type AppParts } from './app-parts.js';
import type { MonitorToken } from './auth.js';
import type { Config } from './config.js';
import { errorHandler } from './error-handler.js';
import { createFastify } from './fastify-instance.js';
import { StdoutLog } from './log/stdout.js';
import type { EventLog } from './log/event-log.js';
import type { Monitor } from './monitor.js';
import type { OcrSampleKeeper } from './pipeline/ocr-samples.js';
import { modelPlugin } from './plugins/models.js';
import { monitorPlugin } from './plugins/monitor.js';
import { securityPlugin } from './plugins/security.js';
import { uiPlugin } from './plugins/ui.js';
import { healthRoutes } from './routes/health.js';
import { registerDocsPage, registerOpenApi } from './routes/openapi.js';
import { startTasks } from './scheduler.js';
import type { ConnectionLimitStats } from './security/connection-limit.js';
import type { DrainResult } from './shutdown.js';
import type { UpstreamClient } from './upstream/client.js';

export type { AppOptions } from './app-options.js';

export interface App {
  app: FastifyInstance;
  log: EventLog;
  alerts: AlertManager | null;
  monitor: Monitor | null;
  token: MonitorToken;
  upstream: UpstreamClient;
  /** The lowest-confidence OCR samples, when OCR_LOW_CONFIDENCE_SAMPLES is set. */
  ocrSamples: OcrSampleKeeper | null;
  /** Starts the check and heartbeat timers (the server entry calls this; tests step checks by hand). */
  startMonitor(): void;
  /**
   * Drains and stops: /readyz turns 503, no new connections, requests in flight get
   * graceMs to finish, then timers, sockets, alert history and the upstream pool close.
   */
  shutdown(graceMs: number): Promise<DrainResult>;
  /** shutdown(0): what is in flight is cut at once (tests). */
  close(): Promise<void>;
  /** Ends a drain in progress at once (a second signal). */
  cutNow(): void;
  /** Open connections, and those shed or refused at MAX_CONNECTIONS. */
  connections(): ConnectionLimitStats;
}

const PACKAGE_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
const HEARTBEAT_MS = 30_000;

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const stdout = opts.logger === false ? null : (opts.stdout ?? new StdoutLog());
  const app = createFastify(config, opts, stdout);
  const parts = createParts(config, opts, app, stdout);
  const { clock, log, upstream, monitored } = parts;

  // On the root instance, before any route: the one error shape for every route and every
  // unknown URL; the Host/Origin guards, JSON parser and secret scrubbing for every request.
  await app.register(errorHandler, { log });
  await app.register(securityPlugin, {
    hosts: {
      bindHost: config.HOST,
      publicUrl: config.PUBLIC_URL,
      allowedHosts: config.ALLOWED_HOSTS,
      allowedOrigins: config.ALLOWED_ORIGINS,
    },
    scrub: parts.scrub,
  });
  // Before the routes it describes: swagger collects them as they are registered.
  await registerOpenApi(app, { version: PACKAGE_VERSION });
  await app.register(websocket, { options: { maxPayload: 4096 } });
  // Before every other route: its timing hooks see only routes registered after them.
  if (monitored) {
    await app.register(monitorPlugin, {
      monitor: monitored.monitor,
      alerts: monitored.alerts,
      log,
      clock,
      access: monitored.access,
      adminToken: config.MONITOR_ADMIN_TOKEN,
      intervalMs: config.MONITOR_INTERVAL_MS,
      windowMs: config.MONITOR_WINDOW_MS,
      ocrSamples: monitored.ocrSamples,
    });
  }
  await app.register(uiPlugin);
  await app.register(healthRoutes, { upstream, clock, draining: () => parts.drain.draining });
  await app.register(modelPlugin, {
    config,
    upstream,
    log,
    clock,
    monitor: monitored?.monitor ?? null,
    imageFetcher: parts.imageFetcher,
    ocrSamples: monitored?.ocrSamples?.keeper ?? null,
  });
  await registerDocsPage(app);
  return appHandle(app, config, parts, opts.onClose);
}

/** What the server entry and the tests hold: the app, its parts, and how to start and stop it. */
function appHandle(
  app: FastifyInstance,
  config: Config,
  parts: AppParts,
  onClose: (() => Promise<void>) | undefined,
): App {
  const { clock, drain, monitored } = parts;
  const monitor = monitored?.monitor ?? null;
  const ocrSamples = monitored?.ocrSamples?.keeper ?? null;
  let stopTasks: (() => void) | undefined;
  let closing: Promise<DrainResult> | undefined;
  const shutdown = (graceMs: number): Promise<DrainResult> => (closing ??= drainAndStop(graceMs));
  const drainAndStop = async (graceMs: number): Promise<DrainResult> => {
    drain.begin(graceMs);
    stopTasks?.();
    monitor?.hub.closeAll();
    await app.close();
    const result = drain.finish();
    // After the last request: its per-request alerts are queued, and the history is written.
    monitored?.alerts.close();
    await ocrSamples?.idle();
    monitored?.gpu?.close();
    monitor?.close();
    await parts.upstream.close();
    await parts.imageFetcher.close();
    await onClose?.();
    return result;
  };
  return {
    app,
    log: parts.log,
    alerts: monitored?.alerts ?? null,
    monitor,
    token: parts.token,
    upstream: parts.upstream,
    ocrSamples,
    startMonitor() {
      if (!monitor || stopTasks) return;
      void monitor.tick(clock());
      stopTasks = startTasks(
        [
          {
            name: 'check',
            everyMs: config.MONITOR_INTERVAL_MS,
            run: (now) => {
              ocrSamples?.sweep(now);
              return monitor.tick(now);
            },
          },
          { name: 'heartbeat', everyMs: HEARTBEAT_MS, run: () => monitor.hub.heartbeat() },
        ],
        clock,
        (task, err) => app.log.error({ err, task }, 'monitor task failed'),
      );
    },
    cutNow: () => drain.cutNow(),
    connections: () => parts.connections.stats,
    shutdown,
    async close() {
      await shutdown(0);
    },
  };
}
