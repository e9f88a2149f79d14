// The app factory: composes the WebUI's route plugins and, when MONITOR_ENABLED, the
// Monitor (timing hooks, store, API, stream, /metrics). Tests and the server entry both
// build the app here.
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearer, hasApiKey, monitorAccess, type MonitorToken } from './auth.js';
import type { Config } from './config.js';
import { AppError } from './errors.js';
import { errorHandler } from './error-handler.js';
import type { AppOptions } from './app-options.js';
import { createParts } from './app-parts.js';
import type { EventLog } from './log/event-log.js';
import type { Monitor } from './monitor.js';
import type { AlertManager } from './alerts/manager.js';
import type { UpstreamClient } from './upstream/client.js';
import type { OcrSampleKeeper } from './pipeline/ocr-samples.js';
import { logRoutes } from './routes/logs.js';
import { alertRoutes } from './routes/alerts.js';
import type { ModelRouteOptions } from './routes/model-route-options.js';
import { guiRoutes } from './routes/gui.js';
import { ocrRoutes } from './routes/ocr.js';
import { videoRoutes } from './routes/video.js';
import { chatRoutes } from './routes/chat.js';
import { openAiRoutes } from './routes/openai.js';
import { registerOpenApi } from './routes/openapi.js';
import { healthRoutes } from './routes/health.js';
import { loginRoutes } from './routes/login.js';
import { metricsRoute } from './routes/metrics.js';
import { monitorApiRoutes } from './routes/monitor-api.js';
import { streamRoute } from './routes/stream.js';
import { installTimingHooks } from './routes/timing.js';
import { trackModelRequests } from './routes/model-request-hook.js';
import { installClientLoadHooks } from './routes/client-load.js';
import { startTasks } from './scheduler.js';
import type { DrainResult } from './shutdown.js';
import { installRequestGuards } from './security/guard.js';
import { installJsonParser } from './security/json-body.js';
import { installResponseScrubbing } from './security/scrub-responses.js';
import { clientErrorHandler, frameworkErrors } from './security/client-errors.js';
import type { ConnectionLimitStats } from './security/connection-limit.js';
import { checkToken } from './routes/login.js';
import { ocrSampleRoutes } from './routes/ocr-samples.js';

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

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));
const PACKAGE_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));
const HEARTBEAT_MS = 30_000;

const REQUEST_ID = /^[\w.:-]{1,64}$/;

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const app = Fastify({
    logger: opts.logger === false ? false : {
      level: config.LOG_LEVEL,
      // Secrets are write-only: never logged.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Request lines would drown the structured log; the Monitor counts requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Shutdown drains (src/shutdown.ts): requests in flight finish, then what is left is cut.
    return503OnClosing: false,
    // Slow senders are cut (docs/RELIABILITY.md#bounded-waits); Node checks these every second.
    http: { headersTimeout: config.HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // Malformed HTTP, timeouts and unreadable URLs answer in the API's error shape too.
    clientErrorHandler,
    frameworkErrors,
    // A client's own X-Request-Id is kept (when it is a plain token), else a short random one:
    // the id an operator searches the log for, returned in every answer's X-Request-Id.
    genReqId: (req) => {
      const sent = req.headers['x-request-id'];
      return typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomBytes(6).toString('hex');
    },
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  const parts = createParts(config, opts, app);
  const { clock, log, token, upstream, imageFetcher, connections, drain, monitored } = parts;
  const monitor = monitored?.monitor ?? null;
  const alerts = monitored?.alerts ?? null;
  const ocrSamples = monitored?.ocrSamples?.keeper ?? null;
  installResponseScrubbing(app, parts.scrub);

  await app.register(errorHandler, { log });

  app.decorateRequest('modelRequest', null);
  installJsonParser(app);
  installRequestGuards(app, { bindHost: config.HOST, publicUrl: config.PUBLIC_URL, allowedHosts: config.ALLOWED_HOSTS, allowedOrigins: config.ALLOWED_ORIGINS });
  if (monitor) {
    installTimingHooks(app, monitor.stats, clock);
    installClientLoadHooks(app, monitor.stats.load);
  }
  await registerOpenApi(app, { version: PACKAGE_VERSION });
  await app.register(websocket, { options: { maxPayload: 4096 } });

  // The browser UI: plain ES modules from public/, uPlot from its package. No build step.
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', index: ['index.html'], cacheControl: true, maxAge: 60_000 });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/vendor/uplot/', decorateReply: false });
  await app.register(healthRoutes, { upstream, clock, draining: () => drain.draining });

  await app.register(async (models) => {
    if (config.API_KEYS.length > 0) {
      models.addHook('onRequest', async (request) => {
        if (!hasApiKey({ remoteAddress: request.socket.remoteAddress, headers: request.headers }, config.API_KEYS)) {
          throw new AppError('UNAUTHORIZED', 'This server requires an API key: send Authorization: Bearer <key>');
        }
      });
    }
    trackModelRequests(models, {
      log, clock, stats: monitor?.model ?? null, clients: monitor?.clients ?? null,
      gpuFree: monitor ? () => monitor.gpuFreeNow() : undefined,
    });
    await models.register(chatRoutes, { upstream, chatStats: monitor?.stats.chat ?? null, defaultModel: config.UPSTREAM_MODEL, clock });
    await models.register(openAiRoutes, { upstream, clock });
    const modelOpts: ModelRouteOptions = {
      upstream,
      log,
      modelStats: monitor?.model ?? null,
      clock,
      defaultModel: config.UPSTREAM_MODEL,
      imageLimits: { maxBytes: config.IMAGE_MAX_BYTES, fetchTimeoutMs: config.IMAGE_FETCH_TIMEOUT_MS, fetcher: imageFetcher },
      imageBudget: { maxPixels: config.IMAGE_MAX_PIXELS, maxSide: config.IMAGE_MAX_SIDE, maxInputPixels: config.IMAGE_MAX_INPUT_PIXELS, onFailure: config.IMAGE_ON_PREPROC_FAILURE },
      ocrConfidenceThreshold: config.OCR_CONFIDENCE_THRESHOLD,
      ocrMaxTokens: config.OCR_MAX_TOKENS,
      guiStepTimeoutMs: config.GUI_STEP_TIMEOUT_MS,
      video: {
        fps: config.VIDEO_FPS,
        minFrames: config.VIDEO_MIN_FRAMES,
        maxFrames: config.VIDEO_MAX_FRAMES,
        frameBudget: { maxPixels: config.VIDEO_FRAME_MAX_PIXELS, maxInputPixels: config.IMAGE_MAX_INPUT_PIXELS, onFailure: config.IMAGE_ON_PREPROC_FAILURE },
        maxBytes: config.VIDEO_MAX_BYTES,
      },
      ocrSamples,
    };
    await models.register(ocrRoutes, modelOpts);
    await models.register(guiRoutes, modelOpts);
    await models.register(videoRoutes, modelOpts);
  });

  if (monitor && monitored) {
    const login = monitored.access;
    const { sessions } = login;
    await app.register(loginRoutes, login);
    const accessOf = (request: FastifyRequest) => monitorAccess({ remoteAddress: request.socket.remoteAddress, headers: request.headers }, token.token, sessions);
    const mayAccess = (request: FastifyRequest) => ['loopback', 'session', 'token'].includes(accessOf(request));
    if (monitored.ocrSamples) await app.register(ocrSampleRoutes, { ...monitored.ocrSamples, mayAccess, clock });
    await app.register(async (guarded) => {
      guarded.addHook('onRequest', async (request, reply) => {
        const access = accessOf(request);
        if (access === 'loopback' || access === 'session') return;
        // A Bearer token is a guess like a login: throttled the same way.
        if (access === 'token' || access === 'wrong-token') return checkToken(request, reply, bearer(request.headers)!, login);
        throw new AppError('UNAUTHORIZED', 'The Monitor needs the monitor token: open the link printed at start-up, or send Authorization: Bearer <token>');
      });
      await guarded.register(monitorApiRoutes, { monitor, clock });
      await guarded.register(streamRoute, { monitor, clock });
      await guarded.register(metricsRoute, { monitor });
      await guarded.register(logRoutes, { log, clock });
      await guarded.register(alertRoutes, { alerts: monitored.alerts, adminToken: config.MONITOR_ADMIN_TOKEN, store: monitor.store, clock, intervalMs: config.MONITOR_INTERVAL_MS, windowMs: config.MONITOR_WINDOW_MS, modelEndpoints: () => monitor.stats.modelEndpoints() });
    });
  }

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
    alerts?.close();
    await ocrSamples?.idle();
    monitored?.gpu?.close();
    await upstream.close();
    await imageFetcher.close();
    await opts.onClose?.();
    return result;
  };
  return {
    app,
    log,
    alerts,
    monitor,
    token,
    upstream,
    ocrSamples,
    startMonitor() {
      if (!monitor || stopTasks) return;
      void monitor.tick(clock());
      stopTasks = startTasks(
        [
          {
            name: 'check', everyMs: config.MONITOR_INTERVAL_MS, run: (now) => {
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
    connections: () => connections.stats,
    shutdown,
    async close() {
      await shutdown(0);
    },
  };
}
