// Per-client attribution: requests, errors and GPU-seconds (inference time) per client
// and per module, in one-minute buckets for the last hour. Bounded: at most maxClients
// clients are tracked; the one seen least recently is forgotten first.
import { MODULES, type ModuleName } from './model-stats.js';

const MINUTE = 60_000;
const BUCKETS = 60;

class Bucket {
  minute = -1;
  requests = 0;
  errors = 0;
  inferenceMs = 0;
  reset(minute: number): void {
    this.minute = minute;
    this.requests = this.errors = this.inferenceMs = 0;
  }
}

class Series {
  readonly buckets = Array.from({ length: BUCKETS }, () => new Bucket());
  add(now: number, ok: boolean, inferenceMs: number): void {
    const minute = Math.floor(now / MINUTE);
    const b = this.buckets[minute % BUCKETS]!;
    if (b.minute !== minute) b.reset(minute);
    b.requests++;
    if (!ok) b.errors++;
    b.inferenceMs += inferenceMs;
  }
  /** Totals over the minutes that touch [now - windowMs, now]. */
  sum(now: number, windowMs: number): { requests: number; errors: number; inferenceMs: number } {
    const nowMinute = Math.floor(now / MINUTE);
    const first = nowMinute - Math.ceil(windowMs / MINUTE) + 1;
    let requests = 0,
      errors = 0,
      inferenceMs = 0;
    for (const b of this.buckets) {
      if (b.minute < first || b.minute > nowMinute) continue;
      requests += b.requests;
      errors += b.errors;
      inferenceMs += b.inferenceMs;
    }
    return { requests, errors, inferenceMs };
  }
}

export interface ClientSummary {
  client: string;
  requests: number;
  errors: number;
  gpuSeconds: number;
  modules: Partial<Record<ModuleName, number>>;
}

/** How stale a client's place in the recency order may get before it is moved to the front. */
const RECENCY_RESOLUTION_MS = 1_000;

export class ClientStats {
  private readonly clients = new Map<string, { total: Series; modules: Map<ModuleName, Series>; touchedAt: number }>();
  private readonly modules = new Map<ModuleName, Series>(MODULES.map((m) => [m, new Series()]));
  /** Clients forgotten to stay within maxClients. */
  evicted = 0;

  constructor(private readonly maxClients = 1_000) {}

  record(client: string, module: ModuleName, ok: boolean, inferenceMs: number, now: number): void {
    let entry = this.clients.get(client);
    if (!entry) {
      entry = { total: new Series(), modules: new Map(), touchedAt: now };
      if (this.clients.size >= this.maxClients) {
        this.clients.delete(this.clients.keys().next().value!);
        this.evicted++;
      }
      this.clients.set(client, entry);
    } else if (now - entry.touchedAt >= RECENCY_RESOLUTION_MS) {
      // Map order is recency. Moving a busy client on every request costs two hash
      // operations each time; once a second keeps the order true to within that second.
      entry.touchedAt = now;
      this.clients.delete(client);
      this.clients.set(client, entry);
    }
    entry.total.add(now, ok, inferenceMs);
    let m = entry.modules.get(module);
    if (!m) {
      m = new Series();
      entry.modules.set(module, m);
    }
    m.add(now, ok, inferenceMs);
    this.modules.get(module)!.add(now, ok, inferenceMs);
  }

  /** The top `limit` clients by GPU-seconds, requests and errors over the window. */
  top(
    now: number,
    windowMs: number,
    limit = 10,
  ): { byGpuSeconds: ClientSummary[]; byRequests: ClientSummary[]; byErrors: ClientSummary[] } {
    const all: ClientSummary[] = [];
    for (const [client, e] of this.clients) {
      const t = e.total.sum(now, windowMs);
      if (t.requests === 0) continue;
      const modules: ClientSummary['modules'] = {};
      for (const [m, s] of e.modules) {
        const r = s.sum(now, windowMs).requests;
        if (r > 0) modules[m] = r;
      }
      all.push({ client, requests: t.requests, errors: t.errors, gpuSeconds: t.inferenceMs / 1_000, modules });
    }
    const by = (k: 'gpuSeconds' | 'requests' | 'errors') =>
      [...all]
        .filter((c) => c[k] > 0)
        .sort((a, b) => b[k] - a[k])
        .slice(0, limit);
    return { byGpuSeconds: by('gpuSeconds'), byRequests: by('requests'), byErrors: by('errors') };
  }

  /** Each module's share of model requests over the window, in percent. */
  moduleShares(now: number, windowMs: number): Record<ModuleName, { requests: number; sharePercent: number | null }> {
    const counts = MODULES.map((m) => [m, this.modules.get(m)!.sum(now, windowMs).requests] as const);
    const total = counts.reduce((a, [, n]) => a + n, 0);
    return Object.fromEntries(
      counts.map(([m, n]) => [m, { requests: n, sharePercent: total ? (n / total) * 100 : null }]),
    ) as Record<ModuleName, { requests: number; sharePercent: number | null }>;
  }

  get size(): number {
    return this.clients.size;
  }
}
