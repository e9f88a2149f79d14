// The Monitor's state and its check: one object the app creates when MONITOR_ENABLED
// is true. check(now) turns windows into series points, builds the cards and pushes
// them to every open Monitor tab; the scheduler calls it, tests call it directly.
import type client from 'prom-client';
import { createPrometheusRegistry } from './metrics/prometheus.js';
import { SeriesStore } from './metrics/series-store.js';
import { collectServiceSeries } from './metrics/service-collector.js';
import { ServiceStats } from './metrics/service-stats.js';
import { buildSnapshot, type GpuStatus, type Snapshot } from './metrics/snapshot.js';
import { StreamHub } from './routes/stream-hub.js';

export interface MonitorOptions {
  intervalMs: number;
  windowMs: number;
  clock: () => number;
  simulated?: boolean;
}

export class Monitor {
  readonly stats: ServiceStats;
  readonly store: SeriesStore;
  readonly hub = new StreamHub();
  readonly registry: client.Registry;
  /** Replaced by the GPU probe; until then the GPU cards say why they are empty. */
  gpuStatus: GpuStatus = { available: false, reason: 'GPU probe not running' };
  /** Counted by the WebSocket server itself, set by the app once it exists. */
  websocketConnections: () => number = () => this.hub.size;
  private last: Snapshot | undefined;

  constructor(readonly opts: MonitorOptions) {
    this.stats = new ServiceStats(opts.clock());
    this.store = new SeriesStore({ intervalMs: opts.intervalMs });
    this.registry = createPrometheusRegistry({
      stats: this.stats,
      store: this.store,
      websocketConnections: () => this.websocketConnections(),
    });
  }

  check(now: number): Snapshot {
    collectServiceSeries({
      stats: this.stats,
      store: this.store,
      windowMs: this.opts.windowMs,
      websocketConnections: this.websocketConnections(),
      now,
    });
    this.last = this.snapshot(now);
    this.hub.broadcast('snapshot', this.last);
    return this.last;
  }

  snapshot(now: number): Snapshot {
    return buildSnapshot({
      store: this.store,
      now,
      intervalMs: this.opts.intervalMs,
      windowMs: this.opts.windowMs,
      gpu: this.gpuStatus,
      simulated: this.opts.simulated ?? false,
    });
  }

  lastSnapshot(): Snapshot | undefined {
    return this.last;
  }
}
