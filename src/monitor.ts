// The Monitor's state and its check: one object the app creates when MONITOR_ENABLED
// is true. check(now) turns windows into series points, builds the cards and pushes
// them to every open Monitor tab; the scheduler calls it, tests call it directly.
import type { Sender } from './metrics/prometheus-identity.js';
import { availableParallelism } from 'node:os';
import type { EventLog } from './log/event-log.js';
import { healthOf, metricDef } from './metrics/catalogue.js';
import { histogramRoutes, type HistogramRoutes } from './metrics/histogram-routes.js';
import { PrometheusExporter } from './metrics/prometheus.js';
import { staleBefore, type SeriesStore } from './metrics/series-store.js';
import { collectModelSeries } from './metrics/model-collector.js';
import { buildModelSnapshot, type ModelSnapshot } from './metrics/model-snapshot.js';
import { ModelStats, type RequestEvent } from './metrics/model-stats.js';
import { collectServiceSeries } from './metrics/service-collector.js';
import { ServiceStats } from './metrics/service-stats.js';
import { because } from './reasons.js';
import { buildSnapshot, TREND_RULE, type GpuStatus, type Snapshot } from './metrics/snapshot.js';
import type { Spans } from './metrics/change.js';
import { gpuBusySeconds } from './metrics/gpu-busy.js';
import { ClientStats, type TopClients } from './metrics/client-stats.js';
import { MODEL_BASELINE } from './metrics/model-snapshot.js';
import { ThresholdBook } from './metrics/thresholds.js';
import {
  recordEngineSeries,
  recordEventLoopSeries,
  recordGpuSeries,
  recordHostSeries,
  rememberGpuIdentities,
} from './metrics/resource-collector.js';
import type { GpuIdentity } from './metrics/prometheus-readings.js';
import type { EventLoopProbe, EventLoopReading } from './probes/event-loop.js';
import type { EngineReading, UpstreamMetricsProbe } from './probes/upstream-metrics.js';
import type { GpuPollResult, GpuSource } from './probes/gpu-poller.js';
import { gpuLabel, gpuTag } from './probes/gpu-label.js';
import type { HostProbe } from './probes/host.js';
import type { StreamHub } from './stream-hub.js';

/** How long a failed request's ERROR line waits for NVML before using the last check. */
const GPU_FREE_WAIT_MS = 1_000;

/** What the Monitor needs of the alert engine: to be told of every check and every model request. */
export interface AlertEngine {
  onCheck(now: number): void;
  onRequestEvent(e: RequestEvent): void;
}

/**
 * When each metric's alerts were pending or firing over [since, now] (alerts/unrest.ts):
 * those minutes are left out of the cards' normal.
 */
export type UnrestSource = (since: number, now: number) => ReadonlyMap<string, Spans>;

export interface MonitorOptions {
  /** What the node calls itself in its alerts, exported for Prometheus to compare. */
  identity?: Sender;
  intervalMs: number;
  windowMs: number;
  clock: () => number;
  simulated?: boolean;
  /**
   * Shared with the alert engine, so made before both (src/app-parts.ts): the series every
   * check records into, who uses the model, the WebSocket fan-out.
   */
  store: SeriesStore;
  clients: ClientStats;
  hub: StreamHub;
  /** Evaluated after every check, and told of every model request (per-request rules). */
  alerts?: AlertEngine;
  /** The cards' lines: the enabled rules' where they watch a metric, else the defaults. */
  thresholds?: ThresholdBook;
  /** When alerts were restless, for the cards' calm normal. */
  unrest?: UnrestSource;
  /** Open WebSockets as the WebSocket server counts them; the hub's clients by default. */
  websocketConnections?: () => number;
  /** Model requests waiting for a connection to the model server (UPSTREAM_MAX_CONNECTIONS reached). */
  upstreamWaiting?: () => number;
  /** Resource probes; absent in tests that only look at the service layer. */
  gpu?: GpuSource;
  host?: HostProbe;
  /** How long the event loop was held; a stall past the critical threshold is logged. */
  eventLoop?: EventLoopProbe;
  log?: EventLog;
  engine?: UpstreamMetricsProbe;
  /** Whether the model server answers; recorded as upstream_up when configured. */
  upstreamUp?: () => Promise<boolean>;
  /** Routes /metrics times with histograms (METRICS_HISTOGRAM_ROUTES); the model endpoints by default. */
  histogramRoutes?: HistogramRoutes;
}

export class Monitor {
  readonly stats: ServiceStats;
  readonly model: ModelStats;
  readonly clients: ClientStats;
  readonly store: SeriesStore;
  readonly hub: StreamHub;
  /** What GET /metrics renders. */
  readonly prometheus: PrometheusExporter;
  /** Replaced by the GPU probe; until then the GPU cards say why they are empty. */
  gpuStatus: GpuStatus = { available: false, ...because({ code: 'GPU_PROBE_NOT_RUNNING' }) };
  private readonly websocketConnections: () => number;
  private last: Snapshot | undefined;
  private ticking = false;
  /** The model server's own gauges at the last check. */
  engine: EngineReading = { available: false, ...because({ code: 'ENGINE_NOT_READ_YET' }) };
  /** The lines every card colours by (rules and defaults); the log's low-confidence WARN reads it too. */
  readonly thresholds: ThresholdBook;
  /** Which routes /metrics times with histograms (the rules export asks it too). */
  readonly histogramRoutes: HistogramRoutes;
  /** What each GPU index is, as NVML last said: /metrics' uuid and model_name labels. */
  private readonly gpuIdentities = new Map<string, GpuIdentity>();

  /** How often the Monitor checks: a series with no point for longer than one and a half missed a check. */
  get intervalMs(): number {
    return this.opts.intervalMs;
  }

  constructor(private readonly opts: MonitorOptions) {
    this.stats = new ServiceStats(opts.clock());
    this.model = new ModelStats(opts.clock());
    this.store = opts.store;
    this.clients = opts.clients;
    this.hub = opts.hub;
    this.websocketConnections = opts.websocketConnections ?? (() => this.hub.size);
    this.thresholds = opts.thresholds ?? new ThresholdBook();
    const alerts = opts.alerts;
    if (alerts) this.model.onRequest((e) => alerts.onRequestEvent(e));
    this.histogramRoutes = opts.histogramRoutes ?? histogramRoutes([]);
    this.prometheus = new PrometheusExporter({
      stats: this.stats,
      histogramRoutes: this.histogramRoutes,
      model: this.model.totals,
      store: this.store,
      websocketConnections: () => this.websocketConnections(),
      upstreamWaiting: () => opts.upstreamWaiting?.() ?? 0,
      freshSince: () => staleBefore(opts.clock(), opts.intervalMs),
      ...(opts.identity ? { identity: opts.identity } : {}),
      gpuIdentity: (gpu) => this.gpuIdentities.get(gpu),
    });
  }

  /**
   * Reads the probes (NVML calls run on worker threads), then runs the check. The scheduler
   * calls this; a tick still running when the next is due makes the next one skip.
   */
  async tick(now: number): Promise<Snapshot | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    try {
      await this.probe(now);
      return this.check(now);
    } finally {
      this.ticking = false;
    }
  }

  async probe(now: number): Promise<void> {
    // First, before the other probes' own waits: the stall it reports is the one just past.
    if (this.opts.eventLoop) {
      const r = await this.opts.eventLoop.sample();
      recordEventLoopSeries(this.store, r, now);
      this.logStall(r);
    }
    if (this.opts.gpu) {
      const r = await this.opts.gpu.poll(now);
      recordGpuSeries(this.store, r, now);
      rememberGpuIdentities(this.gpuIdentities, r);
      const names: Record<string, string> = {};
      const hosts: Record<string, { host: string; index: number }> = {};
      for (const g of r.readings) {
        const label = gpuLabel(g);
        if (g.name) names[label] = g.name;
        if (g.host !== undefined) hosts[label] = { host: g.host, index: g.index };
      }
      this.gpuStatus = {
        available: r.available,
        names,
        source: this.opts.gpu.source ?? 'nvml',
        ...(Object.keys(hosts).length ? { hosts } : {}),
        ...(this.opts.gpu.simulated ? { simulated: true } : {}),
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        ...(r.reasonParts === undefined ? {} : { reasonParts: r.reasonParts }),
      };
    }
    if (this.opts.host) recordHostSeries(this.store, this.opts.host.sample(now), now);
    if (this.opts.upstreamUp) this.store.record('upstream_up', {}, now, (await this.opts.upstreamUp()) ? 1 : 0);
    if (this.opts.engine) {
      this.engine = await this.opts.engine.sample();
      recordEngineSeries(this.store, this.engine, now);
    }
  }

  /** The live log keeps the blind period: while the loop was held, nothing else could write. */
  private logStall(r: EventLoopReading): void {
    const thresholds = metricDef('event_loop_delay_max_ms')?.thresholds;
    if (r.maxMs === undefined || !thresholds || healthOf(r.maxMs, thresholds) !== 'crit') return;
    this.opts.log?.warn(
      'http',
      `event loop blocked ${(r.maxMs / 1000).toFixed(1)} s: no request was served meanwhile`,
      {
        blocked_ms: Math.round(r.maxMs),
        p99_ms: r.p99Ms ?? null,
        threshold_ms: thresholds.crit,
      },
    );
  }

  /** Stops the probes' own timers. */
  close(): void {
    this.opts.eventLoop?.close();
  }

  check(now: number): Snapshot {
    collectServiceSeries({
      stats: this.stats,
      store: this.store,
      windowMs: this.opts.windowMs,
      websocketConnections: this.websocketConnections(),
      upstreamWaiting: this.opts.upstreamWaiting?.() ?? 0,
      now,
    });
    collectModelSeries(this.model, this.store, this.opts.windowMs, now);
    this.opts.alerts?.onCheck(now);
    this.last = this.snapshot(now);
    this.hub.broadcast('snapshot', this.last);
    return this.last;
  }

  snapshot(now: number): Snapshot {
    return buildSnapshot({
      store: this.store,
      lines: this.thresholds.lines,
      unrest: this.opts.unrest?.(now - TREND_RULE.recentMs - TREND_RULE.baselineMs - 2 * this.opts.intervalMs, now),
      now,
      intervalMs: this.opts.intervalMs,
      windowMs: this.opts.windowMs,
      gpu: this.gpuStatus,
      simulated: this.opts.simulated ?? false,
      cpuCount: availableParallelism(),
    });
  }

  /** The Model Metrics view at `now`: per-module cards and stage means, from the store. */
  modelSnapshot(now: number): ModelSnapshot {
    return buildModelSnapshot({
      store: this.store,
      lines: this.thresholds.lines,
      unrest: this.opts.unrest?.(
        now - MODEL_BASELINE.recentMs - MODEL_BASELINE.baselineMs - 2 * this.opts.intervalMs,
        now,
      ),
      now,
      intervalMs: this.opts.intervalMs,
      windowMs: this.opts.windowMs,
    });
  }

  /** Who uses the model over the window, with each client's share of the GPUs' measured busy time. */
  topClients(now: number, windowMs: number, limit: number): TopClients {
    const busy = gpuBusySeconds(this.store, ClientStats.windowStart(now, windowMs), now);
    return this.clients.top(now, windowMs, limit, busy);
  }

  /** The GPU probe's whole latest reading (GET /api/monitor/gpus); undefined when the probe is off. */
  gpuReading(): { result: GpuPollResult; simulated: boolean; source: 'nvml' | 'dcgm' } | undefined {
    const gpu = this.opts.gpu;
    return gpu && { result: gpu.result, simulated: gpu.simulated ?? false, source: gpu.source ?? 'nvml' };
  }

  /** Free memory of each GPU at the last check: "gpu0=6944MiB gpu1=512MiB (at last check)". */
  gpuFreeSummary(): string | null {
    const parts: string[] = [];
    for (const total of this.store.find('gpu_memory_total_mib')) {
      const gpu = total.labels.gpu ?? '?';
      const used = this.store.latest('gpu_memory_used_mib', { gpu });
      const t = total.ring.last();
      if (t && used) parts.push(`${gpuTag(gpu)}=${Math.round(t.v - used.v)}MiB`);
    }
    return parts.length ? `${parts.join(' ')} (at last check)` : null;
  }

  /**
   * Free memory of each GPU at this moment ("gpu0=124MiB gpu1=6944MiB"), for the ERROR line
   * of a failed request: the last check may be 10 s old, and memory moves faster than that.
   * Falls back to the last check when NVML is not running or does not answer within 1 s.
   */
  async gpuFreeNow(): Promise<string | null> {
    const gpu = this.opts.gpu;
    if (!gpu) return this.gpuFreeSummary();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), GPU_FREE_WAIT_MS);
    });
    try {
      const now = await Promise.race([gpu.freeMemoryNow(), late]);
      return now ? now.map((g) => `gpu${g.gpu}=${Math.round(g.freeMiB)}MiB`).join(' ') : this.gpuFreeSummary();
    } finally {
      clearTimeout(timer);
    }
  }

  lastSnapshot(): Snapshot | undefined {
    return this.last;
  }
}
