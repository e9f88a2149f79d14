// All time series the Monitor keeps, each a RingSeries sized to hold the retention at
// the check interval. The number of series is capped: a label set that would pass the
// cap is refused and counted, never stored.
import { RingSeries, type Point } from './ring-series.js';

export type Labels = Readonly<Record<string, string>>;

export interface SeriesInfo {
  metric: string;
  labels: Labels;
}

interface Entry extends SeriesInfo {
  ring: RingSeries;
}

export interface SeriesStoreOptions {
  intervalMs: number;
  /** How long a series keeps points; at least one hour. */
  retentionMs?: number;
  maxSeries?: number;
}

export function seriesKey(metric: string, labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return metric;
  names.sort();
  return `${metric}{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}

/** Every series keeps at least this much history (one point per check). */
export const SERIES_RETENTION_MS = 3_600_000;
/** A point older than this many checks is stale: the cards and /metrics show no value rather than an old one. */
export const STALE_AFTER_CHECKS = 3;
/** The time before which a series' newest point is stale. */
export const staleBefore = (now: number, intervalMs: number): number => now - intervalMs * STALE_AFTER_CHECKS;

export class SeriesStore {
  readonly capacity: number;
  readonly maxSeries: number;
  private readonly entries = new Map<string, Entry>();
  /** Series by metric name: rules and cards look up one metric at a time. */
  private readonly byMetric = new Map<string, Entry[]>();
  /** Points refused because the series cap was reached. */
  droppedPoints = 0;
  /** When the first point was recorded: the server's history begins there (null before). */
  historyStart: number | null = null;

  constructor(opts: SeriesStoreOptions) {
    const retentionMs = Math.max(opts.retentionMs ?? SERIES_RETENTION_MS, SERIES_RETENTION_MS);
    // +1 so a full hour of points spans a full hour (both ends included).
    this.capacity = Math.ceil(retentionMs / opts.intervalMs) + 1;
    this.maxSeries = opts.maxSeries ?? 2_000;
  }

  get size(): number {
    return this.entries.size;
  }

  record(metric: string, labels: Labels, t: number, v: number): boolean {
    if (!Number.isFinite(v)) return false; // a missing reading is absent, not 0 or NaN
    const key = seriesKey(metric, labels);
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.maxSeries) {
        this.droppedPoints++;
        return false;
      }
      entry = { metric, labels: { ...labels }, ring: new RingSeries(this.capacity) };
      this.entries.set(key, entry);
      const list = this.byMetric.get(metric);
      if (list) list.push(entry);
      else this.byMetric.set(metric, [entry]);
    }
    entry.ring.push(t, v);
    if (this.historyStart === null || t < this.historyStart) this.historyStart = t;
    return true;
  }

  /**
   * A check read the series and had nothing to record (no requests in the window: no
   * latency, no error rate): its newest point stops being the value now for every reader
   * (cards, rules, /metrics), where a missed check leaves it standing until it is stale.
   */
  recordEmpty(metric: string, labels: Labels, t: number): void {
    this.entries.get(seriesKey(metric, labels))?.ring.markEmpty(t);
  }

  /** Series of `metric` whose labels include every pair in `match`. */
  find(metric: string, match: Labels = {}): Array<SeriesInfo & { ring: RingSeries }> {
    const all = this.byMetric.get(metric) ?? [];
    const keys = Object.keys(match);
    if (keys.length === 0) return all.slice();
    return all.filter((e) => keys.every((k) => e.labels[k] === match[k]));
  }

  /**
   * Series of `metric` matching `match` that agree with `labels` on every label both have:
   * where an AND rule's second condition is read for one series of its first.
   */
  findAgreeing(metric: string, match: Labels, labels: Labels): Array<SeriesInfo & { ring: RingSeries }> {
    return this.find(metric, match).filter((s) =>
      Object.entries(labels).every(([k, v]) => s.labels[k] === undefined || s.labels[k] === v),
    );
  }

  ring(metric: string, labels: Labels): RingSeries | undefined {
    return this.entries.get(seriesKey(metric, labels))?.ring;
  }

  latest(metric: string, labels: Labels): Point | undefined {
    return this.entries.get(seriesKey(metric, labels))?.ring.last();
  }

  list(): SeriesInfo[] {
    return [...this.entries.values()].map(({ metric, labels }) => ({ metric, labels }));
  }
}
