// Per-client attribution: requests, errors and inference request-seconds per client and
// per module, in one-minute buckets for the last hour. Request-seconds add up the time each
// request spent in inference: requests running together each count, so they are a load,
// not GPU time; given the GPUs' measured busy time, each client's share of it is GPU time
// that adds up to no more than the GPUs can give. Bounded: at most maxClients clients are
// tracked; the one seen least recently is forgotten first.
import { z } from 'zod';
import { MODULES, perModule, type ModuleName } from './model-stats.js';

const MINUTE = 60_000;
/** An hour's window touches 61 minutes: the 60 whole ones and the one it began in. */
const BUCKETS = 61;

class Bucket {
  minute = -1;
  requests = 0;
  errors = 0;
  inferenceMs = 0;
  inputTokens = 0;
  reset(minute: number): void {
    this.minute = minute;
    this.requests = this.errors = this.inferenceMs = this.inputTokens = 0;
  }
}

class Series {
  readonly buckets = Array.from({ length: BUCKETS }, () => new Bucket());
  add(now: number, ok: boolean, inferenceMs: number, inputTokens: number): void {
    const minute = Math.floor(now / MINUTE);
    const b = this.buckets[minute % BUCKETS];
    if (!b) return;
    if (b.minute !== minute) b.reset(minute);
    b.requests++;
    if (!ok) b.errors++;
    b.inferenceMs += inferenceMs;
    b.inputTokens += inputTokens;
  }
  /** Totals over the minutes that touch [now - windowMs, now]. */
  sum(now: number, windowMs: number): { requests: number; errors: number; inferenceMs: number; inputTokens: number } {
    const nowMinute = Math.floor(now / MINUTE);
    const first = ClientStats.windowStart(now, windowMs) / MINUTE;
    let requests = 0,
      errors = 0,
      inferenceMs = 0,
      inputTokens = 0;
    for (const b of this.buckets) {
      if (b.minute < first || b.minute > nowMinute) continue;
      requests += b.requests;
      errors += b.errors;
      inferenceMs += b.inferenceMs;
      inputTokens += b.inputTokens;
    }
    return { requests, errors, inferenceMs, inputTokens };
  }
}

export const clientSummarySchema = z.object({
  client: z.string(),
  requests: z.number(),
  errors: z.number(),
  requestSeconds: z
    .number()
    .describe('Seconds its requests spent in inference, added up (requests at the same time each count)'),
  sharePercent: z.number().describe("Its share of every client's request-seconds in the window, percent"),
  gpuBusySeconds: z
    .number()
    .nullable()
    .describe(
      "That share of the GPUs' measured busy time in the window (GPU-seconds); null when no GPU is read. All clients together never pass GPUs × window",
    ),
  modules: z.partialRecord(z.enum(MODULES), z.number()).describe('Its requests by module (modules it used)'),
});
export type ClientSummary = z.infer<typeof clientSummarySchema>;

export const topClientsSchema = z.object({
  fromMs: z.number().describe('The minutes counted: whole minutes touching [now − window, now]'),
  toMs: z.number(),
  requestSecondsTotal: z.number().describe("Every client's request-seconds in those minutes"),
  gpuBusySecondsTotal: z.number().nullable().describe("The GPUs' measured busy time in those minutes, when known"),
  byRequestSeconds: z.array(clientSummarySchema),
  byRequests: z.array(clientSummarySchema),
  byErrors: z.array(clientSummarySchema),
});
export type TopClients = z.infer<typeof topClientsSchema>;

/** Each module's model requests over a window, and its share of them (null: no request at all). */
const moduleShare = z.object({ requests: z.number(), sharePercent: z.number().nullable() });
// An object with one key per module (not a record keyed by an enum, which OpenAPI 3.0 cannot name).
export const moduleSharesSchema = z.object(
  Object.fromEntries(MODULES.map((m) => [m, moduleShare])) as Record<(typeof MODULES)[number], typeof moduleShare>,
);
export type ModuleShares = z.infer<typeof moduleSharesSchema>;

/** How stale a client's place in the recency order may get before it is moved to the front. */
const RECENCY_RESOLUTION_MS = 1_000;

export class ClientStats {
  private readonly clients = new Map<string, { total: Series; modules: Map<ModuleName, Series>; touchedAt: number }>();
  private readonly modules = perModule(() => new Series());
  /** Clients forgotten to stay within maxClients. */
  evicted = 0;

  constructor(private readonly maxClients = 1_000) {}

  record(client: string, module: ModuleName, ok: boolean, inferenceMs: number, now: number, inputTokens = 0): void {
    let entry = this.clients.get(client);
    if (!entry) {
      entry = { total: new Series(), modules: new Map(), touchedAt: now };
      if (this.clients.size >= this.maxClients) {
        const oldest = this.clients.keys().next();
        if (!oldest.done) this.clients.delete(oldest.value);
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
    entry.total.add(now, ok, inferenceMs, inputTokens);
    let m = entry.modules.get(module);
    if (!m) {
      m = new Series();
      entry.modules.set(module, m);
    }
    m.add(now, ok, inferenceMs, inputTokens);
    this.modules[module].add(now, ok, inferenceMs, inputTokens);
  }

  /** Requests (or their input tokens) of one module per client, over the minutes that touch [end − windowMs, end]. */
  moduleTotals(
    module: ModuleName,
    what: 'requests' | 'inputTokens',
    end: number,
    windowMs: number,
  ): Map<string, number> {
    const out = new Map<string, number>();
    for (const [client, entry] of this.clients) {
      const n = entry.modules.get(module)?.sum(end, windowMs)[what] ?? 0;
      if (n > 0) out.set(client, n);
    }
    return out;
  }

  /**
   * The first minute the window's totals count: they sum whole minutes, every one that
   * touches [now − windowMs, now], so a window of a minute counts 60 to 120 s and never less
   * (counting only the minute now is in, it covered 2 s just after each full minute).
   */
  static windowStart(now: number, windowMs: number): number {
    return Math.floor((now - windowMs) / MINUTE) * MINUTE;
  }

  /**
   * The top `limit` clients by request-seconds, requests and errors over the window.
   * `gpuBusySeconds`: the GPUs' measured busy time over [windowStart, now], shared out by
   * request-seconds; null when no GPU is read.
   */
  top(now: number, windowMs: number, limit = 10, gpuBusySeconds: number | null = null): TopClients {
    const all: ClientSummary[] = [];
    for (const [client, e] of this.clients) {
      const t = e.total.sum(now, windowMs);
      if (t.requests === 0) continue;
      const modules: ClientSummary['modules'] = {};
      for (const [m, s] of e.modules) {
        const r = s.sum(now, windowMs).requests;
        if (r > 0) modules[m] = r;
      }
      const requestSeconds = t.inferenceMs / 1_000;
      all.push({
        client,
        requests: t.requests,
        errors: t.errors,
        requestSeconds,
        sharePercent: 0,
        gpuBusySeconds: null,
        modules,
      });
    }
    const total = all.reduce((a, c) => a + c.requestSeconds, 0);
    for (const c of all) {
      c.sharePercent = total > 0 ? (c.requestSeconds / total) * 100 : 0;
      c.gpuBusySeconds = gpuBusySeconds === null || total === 0 ? null : (gpuBusySeconds * c.requestSeconds) / total;
    }
    const by = (k: 'requestSeconds' | 'requests' | 'errors') =>
      [...all]
        .filter((c) => c[k] > 0)
        .sort((a, b) => b[k] - a[k])
        .slice(0, limit);
    const byRequestSeconds = by('requestSeconds');
    return {
      fromMs: ClientStats.windowStart(now, windowMs),
      toMs: now,
      requestSecondsTotal: total,
      gpuBusySecondsTotal: gpuBusySeconds,
      byRequestSeconds,
      byRequests: by('requests'),
      byErrors: by('errors'),
    };
  }

  /** Each module's share of model requests over the window, in percent. */
  moduleShares(now: number, windowMs: number): ModuleShares {
    const counts = MODULES.map((m) => [m, this.modules[m].sum(now, windowMs).requests] as const);
    const total = counts.reduce((a, [, n]) => a + n, 0);
    return Object.fromEntries(
      counts.map(([m, n]) => [m, { requests: n, sharePercent: total ? (n / total) * 100 : null }]),
    ) as ModuleShares;
  }

  get size(): number {
    return this.clients.size;
  }
}
