// The app factory: composes the WebUI's route plugins and, when MONITOR_ENABLED, the
// Monitor (timing hooks, store, API, stream, /metrics). Tests and the server entry both
// build the app here.
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import fastifyStatic from '@fastify/static';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bearer, hasApiKey, loadOrCreateToken, monitorAccess, type MonitorToken } from './auth.js';
import type { Config } from './config.js';
import { AppError } from './errors.js';
import { errorHandler } from './error-handler.js';
import { EventLog } from './log/event-log.js';
import { Monitor } from './monitor.js';
import { logRoutes } from './routes/logs.js';
import { alertRoutes } from './routes/alerts.js';
import { AlertManager } from './alerts/manager.js';
import { alertSite } from './alerts/alert-site.js';
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
import { GpuPoller, type GpuSource } from './probes/gpu-poller.js';
import { HostProbe } from './probes/host.js';
import { UpstreamMetricsProbe } from './probes/upstream-metrics.js';
import { startTasks } from './scheduler.js';
import { Drain, type DrainResult } from './shutdown.js';
import { removeLeftoverTempFiles, type FileIo } from './alerts/json-file.js';
import { installRequestGuards } from './security/guard.js';
import { installJsonParser } from './security/json-body.js';
import { installResponseScrubbing } from './security/scrub-responses.js';
import { secretScrubber, urlPassword } from './log/scrub-secrets.js';
import { clientErrorHandler, frameworkErrors } from './security/client-errors.js';
import { ConnectionLimit, openFilesLimit, type ConnectionLimitStats } from './security/connection-limit.js';
import { SessionStore } from './security/sessions.js';
import { FailureThrottle } from './security/throttle.js';
import { checkToken } from './routes/login.js';
import { UpstreamClient } from './upstream/client.js';
import { ImageFetcher } from './pipeline/image-input.js';
import { OcrSampleKeeper } from './pipeline/ocr-samples.js';
import { ocrSampleRoutes, SampleLinks } from './routes/ocr-samples.js';

export interface AppOptions {
  clock?: () => number;
  /** Sees every route as it is registered (the OpenAPI test checks none is undocumented). */
  onRoute?: (route: RouteOptions) => void;
  /** Labels everything as simulated (the demo). */
  simulated?: boolean;
  /** false in tests that want a quiet console. */
  logger?: boolean;
  /** Backoff wait between alert delivery attempts (tests make it instant). */
  alertSleep?: (ms: number) => Promise<void>;
  /** Random source of log sampling (seeded in tests). */
  random?: () => number;
  /** false: no GPU or host probes (tests of the service layer). */
  probes?: boolean;
  /** How state files are written (tests inject a full or read-only disk). */
  stateIo?: FileIo;
  /** Reads GPUs through this instead of NVML (the demo's simulated GPUs). */
  gpu?: GpuSource;
  /** Runs after the server has closed (the demo stops its simulator here). */
  onClose?: () => Promise<void>;
}

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
  const clock = opts.clock ?? Date.now;
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
  let pressureLoggedAt = -Infinity;
  const connections = new ConnectionLimit(app.server, config.MAX_CONNECTIONS, (stats) => {
    // At most one line a minute: a flood must not flood the log too.
    if (clock() - pressureLoggedAt < 60_000) return;
    pressureLoggedAt = clock();
    log.warn('http', 'connection limit reached: closing the slowest waiting connections', { max_connections: config.MAX_CONNECTIONS, ...stats });
  });
  // Before anything is written: temp files of saves a crash interrupted.
  const leftoverTemps = removeLeftoverTempFiles(config.DATA_DIR);
  const token = loadOrCreateToken(config.DATA_DIR, config.MONITOR_TOKEN);
  const imageFetcher = new ImageFetcher(config.IMAGE_FETCH_ALLOW);
  // Secrets the model server could echo back, or a bug put in a message: never relayed.
  const scrub = secretScrubber([config.UPSTREAM_API_KEY, ...config.API_KEYS, token.token, config.MONITOR_ADMIN_TOKEN, urlPassword(config.UPSTREAM_URL)]);
  installResponseScrubbing(app, scrub);
  const upstream = new UpstreamClient({
    url: config.UPSTREAM_URL,
    apiKey: config.UPSTREAM_API_KEY,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    scrub,
  });
  const monitor = config.MONITOR_ENABLED
    ? new Monitor({
        intervalMs: config.MONITOR_INTERVAL_MS,
        windowMs: config.MONITOR_WINDOW_MS,
        clock,
        simulated: opts.simulated ?? false,
        ...(opts.probes === false ? {} : { gpu: opts.gpu ?? new GpuPoller({ library: config.NVML_LIBRARY }), host: new HostProbe() }),
        ...(config.UPSTREAM_URL ? { upstreamUp: async () => (await upstream.ping('/models', 2_000)).ok } : {}),
        engine: new UpstreamMetricsProbe(config.UPSTREAM_METRICS_URL ?? UpstreamMetricsProbe.metricsUrlFor(config.UPSTREAM_URL)),
      })
    : null;

  const log = new EventLog({
    capacity: config.LOG_RING_SIZE,
    sampleRate: config.LOG_SAMPLE_RATE,
    clock,
    ...(opts.random ? { random: opts.random } : {}),
    sinks: [
      (line) => {
        const obj = { module: line.module, event: line.event, ...line.params };
        if (line.level === 'ERROR') app.log.error(obj, line.event);
        else if (line.level === 'WARN') app.log.warn(obj, line.event);
        else app.log.info(obj, line.event);
      },
      ...(monitor ? [(line: Parameters<typeof monitor.hub.broadcast>[1]) => monitor.hub.broadcast('log', line)] : []),
    ],
  });
  const fdLimit = openFilesLimit();
  if (fdLimit !== null && config.MAX_CONNECTIONS + 256 > fdLimit) {
    log.warn('http', 'MAX_CONNECTIONS leaves too few file descriptors', { max_connections: config.MAX_CONNECTIONS, open_files_limit: fdLimit, fix: 'lower MAX_CONNECTIONS or raise the limit (ulimit -n)' });
  }
  if (leftoverTemps.length) log.warn('alert', 'removed temp files left by an interrupted save', { data_dir: config.DATA_DIR, files: leftoverTemps.join(', ') });

  // Lowest-confidence OCR images, for OCR alerts (opt-in).
  const ocrSamples = monitor && config.OCR_LOW_CONFIDENCE_SAMPLES > 0
    ? new OcrSampleKeeper({ dir: join(config.DATA_DIR, 'ocr-samples'), capacity: config.OCR_LOW_CONFIDENCE_SAMPLES, clock, log })
    : null;
  ocrSamples?.load();
  const sampleLinks = new SampleLinks(token.token, config.PUBLIC_URL ?? '');

  const site = alertSite(config);
  const alerts = monitor
    ? new AlertManager({
        dataDir: config.DATA_DIR,
        ...(opts.stateIo ? { io: opts.stateIo } : {}),
        maxRules: config.ALERT_RULES_MAX,
        store: monitor.store,
        intervalMs: config.MONITOR_INTERVAL_MS,
        clock,
        log,
        clients: monitor.clients,
        broadcast: (n) => monitor.hub.broadcast('alert', n),
        broadcastAck: (ack) => monitor.hub.broadcast('alert', { ack: true, ...ack }),
        gpuSamples: (gpu) => monitor.opts.gpu?.result.samples?.[gpu],
        monitorUrl: `${site.externalUrl}/#monitor`,
        site,
        ...(ocrSamples ? { ocrSamples: { lowest: (now: number, n: number) => ocrSamples.lowest(now, n), read: (f: string) => ocrSamples.read(f), link: (f: string, now: number) => sampleLinks.link(f, now) } } : {}),
        ...(opts.alertSleep ? { sleep: opts.alertSleep } : {}),
      })
    : null;
  if (monitor && alerts) {
    alerts.load();
    monitor.alerts = alerts;
    monitor.model.onRequest((e) => alerts.onRequestEvent(e));
  }

  await app.register(errorHandler, { log });

  app.decorateRequest('modelRequest', null);
  const drain = new Drain(app, (open) => {
    // WebSockets were told 1001 at the start; whoever has not gone is dropped now.
    for (const ws of app.websocketServer?.clients ?? []) ws.terminate();
    if (open > 0) log.warn('http', 'shutdown grace over: requests cut', { cut: open });
  });
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

  if (monitor) {
    const sessions = new SessionStore(config.DATA_DIR, token.token, clock, opts.stateIo);
    const sessionProblem = sessions.load();
    if (sessionProblem) log.error('http', 'monitor sessions file unreadable', { problem: sessionProblem });
    const login = { token: token.token, sessions, throttle: new FailureThrottle({ clock }) };
    await app.register(loginRoutes, login);
    const accessOf = (request: FastifyRequest) => monitorAccess({ remoteAddress: request.socket.remoteAddress, headers: request.headers }, token.token, sessions);
    const mayAccess = (request: FastifyRequest) => ['loopback', 'session', 'token'].includes(accessOf(request));
    if (ocrSamples) await app.register(ocrSampleRoutes, { keeper: ocrSamples, links: sampleLinks, mayAccess, clock });
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
      await guarded.register(alertRoutes, { alerts: alerts!, adminToken: config.MONITOR_ADMIN_TOKEN, store: monitor.store, clock, intervalMs: config.MONITOR_INTERVAL_MS, windowMs: config.MONITOR_WINDOW_MS, modelEndpoints: () => monitor.stats.modelEndpoints() });
    });
    app.addHook('onReady', async () => {
      monitor.websocketConnections = () => app.websocketServer.clients.size;
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
    monitor?.opts.gpu?.close();
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
