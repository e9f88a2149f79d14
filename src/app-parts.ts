// The app's collaborators, made in dependency order, each given what it needs in its
// constructor; buildApp then hands them to the plugins. What reads what can be followed
// here from top to bottom: nothing is wired in after it has been made.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { alertSite } from './alerts/alert-site.js';
import { removeLeftoverTempFiles } from './json-file.js';
import { AlertManager } from './alerts/manager.js';
import { unrestByMetric } from './alerts/unrest.js';
import type { AppOptions } from './app-options.js';
import { loadOrCreateToken, type MonitorToken } from './auth.js';
import { maxWebSockets, type Config } from './config.js';
import { EventLog, type LogLine } from './log/event-log.js';
import { secretScrubber, urlPassword, type Scrub } from './log/scrub-secrets.js';
import type { StdoutLog } from './log/stdout.js';
import { ClientStats } from './metrics/client-stats.js';
import { histogramRoutes } from './metrics/histogram-routes.js';
import { SeriesStore } from './metrics/series-store.js';
import { ThresholdBook } from './metrics/thresholds.js';
import { Monitor } from './monitor.js';
import { ImageFetcher } from './pipeline/image-input.js';
import { OcrSampleKeeper } from './pipeline/ocr-samples.js';
import { DcgmGpuSource } from './probes/dcgm-exporter.js';
import { EventLoopProbe } from './probes/event-loop.js';
import { GpuPoller, type GpuSource } from './probes/gpu-poller.js';
import { HostProbe } from './probes/host.js';
import { UpstreamMetricsProbe } from './probes/upstream-metrics.js';
import type { LoginRouteOptions } from './routes/login.js';
import { SampleLinks } from './routes/ocr-samples.js';
import { ConnectionLimit, openFilesLimit } from './security/connection-limit.js';
import { SessionStore } from './security/sessions.js';
import { guessThrottle } from './security/guesses.js';
import { Drain } from './shutdown.js';
import { StreamHub } from './stream-hub.js';
import { UpstreamClient } from './upstream/client.js';

export interface AppParts {
  clock: () => number;
  log: EventLog;
  token: MonitorToken;
  /** Replaces the configured secrets wherever they could leave in an answer. */
  scrub: Scrub;
  upstream: UpstreamClient;
  imageFetcher: ImageFetcher;
  connections: ConnectionLimit;
  drain: Drain;
  /** Null when MONITOR_ENABLED is false. */
  monitored: MonitorParts | null;
}

/** What exists only when the Monitor is on. */
export interface MonitorParts {
  monitor: Monitor;
  alerts: AlertManager;
  /** Who may see the Monitor: the token, its sessions, the throttle on wrong guesses. */
  access: LoginRouteOptions;
  /** NVML, DCGM exporters (GPU_METRICS_URL), or what the caller reads GPUs through; null with probes off. */
  gpu: GpuSource | null;
  /** The lowest-confidence OCR images (OCR_LOW_CONFIDENCE_SAMPLES), and links to them. */
  ocrSamples: { keeper: OcrSampleKeeper; links: SampleLinks } | null;
}

export function createParts(
  config: Config,
  opts: AppOptions,
  app: FastifyInstance,
  stdout: StdoutLog | null,
): AppParts {
  const clock = opts.clock ?? Date.now;
  // Before anything is written: temp files of saves a crash interrupted.
  const leftoverTemps = removeLeftoverTempFiles(config.DATA_DIR);
  const token = loadOrCreateToken(config.DATA_DIR, config.MONITOR_TOKEN);
  // Secrets the model server could echo back, or a bug put in a message: never relayed.
  const scrub = secretScrubber([
    config.UPSTREAM_API_KEY,
    ...config.API_KEYS,
    token.token,
    config.MONITOR_ADMIN_TOKEN,
    urlPassword(config.UPSTREAM_URL),
  ]);
  const upstream = new UpstreamClient({
    url: config.UPSTREAM_URL,
    apiKey: config.UPSTREAM_API_KEY,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    maxAnswerBytes: config.UPSTREAM_MAX_ANSWER_BYTES,
    scrub,
    connections: config.UPSTREAM_MAX_CONNECTIONS ?? config.MAX_CONNECTIONS,
  });
  const imageFetcher = new ImageFetcher(config.IMAGE_FETCH_ALLOW);
  // The Monitor's live feed: log lines, alerts and every check's cards go out through it.
  const hub = config.MONITOR_ENABLED
    ? new StreamHub({ maxSockets: maxWebSockets(config), maxSocketsPerClient: config.MAX_WEBSOCKETS_PER_CLIENT })
    : null;
  const log = new EventLog({
    capacity: config.LOG_RING_SIZE,
    sampleRate: config.LOG_SAMPLE_RATE,
    clock,
    ...(opts.random ? { random: opts.random } : {}),
    stdoutDropped: () => stdout?.dropped ?? 0,
    sinks: [
      (line) => {
        const obj = { module: line.module, event: line.event, ...line.params };
        if (line.level === 'ERROR') app.log.error(obj, line.event);
        else if (line.level === 'WARN') app.log.warn(obj, line.event);
        else app.log.info(obj, line.event);
      },
      ...(hub ? [(line: LogLine) => hub.broadcast('log', line)] : []),
    ],
  });

  let pressureLoggedAt = -Infinity;
  const connections = new ConnectionLimit(app.server, config.MAX_CONNECTIONS, (stats) => {
    // At most one line a minute: a flood must not flood the log too.
    if (clock() - pressureLoggedAt < 60_000) return;
    pressureLoggedAt = clock();
    log.warn('http', 'connection limit reached: closing the slowest waiting connections', {
      max_connections: config.MAX_CONNECTIONS,
      ...stats,
    });
  });
  const fdLimit = openFilesLimit();
  if (fdLimit !== null && config.MAX_CONNECTIONS + 256 > fdLimit) {
    log.warn('http', 'MAX_CONNECTIONS leaves too few file descriptors', {
      max_connections: config.MAX_CONNECTIONS,
      open_files_limit: fdLimit,
      fix: 'lower MAX_CONNECTIONS or raise the limit (ulimit -n)',
    });
  }
  if (leftoverTemps.length)
    log.warn('alert', 'removed temp files left by an interrupted save', {
      data_dir: config.DATA_DIR,
      files: leftoverTemps.join(', '),
    });
  // Its onRequest hook goes first, before any plugin's: a draining server answers 503 at once.
  const drain = new Drain(app, (open) => {
    // WebSockets were told 1001 at the start; whoever has not gone is dropped now.
    for (const ws of app.websocketServer?.clients ?? []) ws.terminate();
    if (open > 0) log.warn('http', 'shutdown grace over: requests cut', { cut: open });
  });

  const monitored = hub ? createMonitorParts(config, opts, { app, clock, log, token, upstream, hub }) : null;
  return { clock, log, token, scrub, upstream, imageFetcher, connections, drain, monitored };
}

/** DCGM exporters' pages where GPU_METRICS_URL names them, else NVML on this machine. */
function gpuSource(config: Config): GpuSource {
  if (config.GPU_METRICS_URL.length === 0) return new GpuPoller({ library: config.NVML_LIBRARY });
  return new DcgmGpuSource({ targets: config.GPU_METRICS_URL, timeoutMs: config.GPU_METRICS_TIMEOUT_MS });
}

interface MonitorDeps {
  app: FastifyInstance;
  clock: () => number;
  log: EventLog;
  token: MonitorToken;
  upstream: UpstreamClient;
  hub: StreamHub;
}

/**
 * The store, the alert engine and the Monitor. The alert engine reads the store and is
 * told of every check, so the store comes first, then the engine, then the Monitor.
 */
function createMonitorParts(config: Config, opts: AppOptions, deps: MonitorDeps): MonitorParts {
  const { app, clock, log, token, upstream, hub } = deps;
  const gpu = opts.probes === false ? null : (opts.gpu ?? gpuSource(config));
  const store = new SeriesStore({ intervalMs: config.MONITOR_INTERVAL_MS });
  const clients = new ClientStats();

  // Lowest-confidence OCR images, for OCR alerts (opt-in).
  const keeper =
    config.OCR_LOW_CONFIDENCE_SAMPLES > 0
      ? new OcrSampleKeeper({
          dir: join(config.DATA_DIR, 'ocr-samples'),
          capacity: config.OCR_LOW_CONFIDENCE_SAMPLES,
          clock,
          log,
        })
      : null;
  keeper?.load();
  const links = new SampleLinks(token.token, config.PUBLIC_URL ?? '');

  const site = alertSite(config);
  const alerts = new AlertManager({
    dataDir: config.DATA_DIR,
    ...(opts.stateIo ? { io: opts.stateIo } : {}),
    maxRules: config.ALERT_RULES_MAX,
    store,
    intervalMs: config.MONITOR_INTERVAL_MS,
    clock,
    log,
    clients,
    // Asked at a check, once the Monitor below exists.
    modelEndpoints: (): readonly string[] => monitor.stats.modelEndpoints(),
    broadcast: (n) => hub.broadcast('alert', n),
    broadcastAck: (ack) => hub.broadcast('alert', { ack: true, ...ack }),
    gpuSamples: (g) => gpu?.result.samples?.[g],
    monitorUrl: `${site.externalUrl}/#monitor`,
    site,
    ...(keeper
      ? {
          ocrSamples: {
            lowest: (now: number, n: number) => keeper.lowest(now, n),
            read: (f: string) => keeper.read(f),
            link: (f: string, now: number) => links.link(f, now),
          },
        }
      : {}),
    ...(opts.alertSleep ? { sleep: opts.alertSleep } : {}),
  });
  alerts.load();
  // One line per metric: the enabled rule watching it (an AND rule's condition while its
  // other one holds, read from the store), else the default; the log's low-confidence WARN
  // is the confidence card's warning line (OCR_CONFIDENCE_THRESHOLD until a rule sets one).
  const thresholds = new ThresholdBook(
    () => alerts.config.rules,
    { ocr_confidence_mean: { warn: config.OCR_CONFIDENCE_THRESHOLD } },
    store,
  );

  const monitor = new Monitor({
    identity: site,
    intervalMs: config.MONITOR_INTERVAL_MS,
    windowMs: config.MONITOR_WINDOW_MS,
    clock,
    simulated: opts.simulated ?? false,
    histogramRoutes: histogramRoutes(config.METRICS_HISTOGRAM_ROUTES),
    store,
    clients,
    hub,
    alerts,
    thresholds,
    unrest: (since, now) =>
      unrestByMetric(
        alerts.historyQuery({ since, limit: Number.MAX_SAFE_INTEGER }),
        alerts.config.rules,
        alerts.active(),
        since,
        now,
      ),
    log,
    ...(gpu ? { gpu, host: new HostProbe(), eventLoop: new EventLoopProbe() } : {}),
    ...(config.UPSTREAM_URL ? { upstreamUp: async () => (await upstream.ping('/models', 2_000)).ok } : {}),
    engine: new UpstreamMetricsProbe(
      config.UPSTREAM_METRICS_URL ?? UpstreamMetricsProbe.metricsUrlFor(config.UPSTREAM_URL),
    ),
    // As the WebSocket server counts them, once @fastify/websocket has made it.
    websocketConnections: () => app.websocketServer?.clients.size ?? hub.size,
    upstreamWaiting: () => upstream.waiting,
  });

  const sessions = new SessionStore(config.DATA_DIR, token.token, clock, opts.stateIo);
  const sessionProblem = sessions.load();
  if (sessionProblem) log.error('http', 'monitor sessions file unreadable', { problem: sessionProblem });
  const access = { token: token.token, sessions, throttle: guessThrottle('monitorToken', clock), log };

  return { monitor, alerts, access, gpu, ocrSamples: keeper ? { keeper, links } : null };
}
