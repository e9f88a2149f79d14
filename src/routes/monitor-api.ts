// The Monitor's JSON API: cards, series, the catalogue and the per-endpoint table.
// Statistics are computed by the metrics store; these handlers only ask and format.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { AppError } from '../errors.js';
import { metricDef } from '../metrics/catalogue.js';
import { MAX_WINDOW_MS, type WindowSummary } from '../metrics/sliding-window.js';
import { SERIES_RETENTION_MS } from '../metrics/series-store.js';
import type { Monitor } from '../monitor.js';
import { parseOrThrow } from '../validation.js';
import { CATALOGUE } from './catalogue.js';

const duration = (max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const ms = parseDuration(v);
      if (ms === null || ms <= 0 || ms > max) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration such as 30s, 5m or 1h, at most ${max / 60_000} minutes`,
        });
        return z.NEVER;
      }
      return ms;
    });

/** `gpu=0,endpoint=/v1/chat/completions` or a JSON object. */
const labelsParam = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (!v) return {} as Record<string, string>;
    if (v.trim().startsWith('{')) {
      try {
        const o = JSON.parse(v) as unknown;
        if (o && typeof o === 'object' && !Array.isArray(o) && Object.values(o).every((x) => typeof x === 'string')) {
          return o as Record<string, string>;
        }
      } catch {
        // reported below
      }
      ctx.addIssue({
        code: 'custom',
        message: 'expected a JSON object of string values, or name=value pairs separated by commas',
      });
      return z.NEVER;
    }
    const out: Record<string, string> = {};
    for (const pair of v.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected name=value, got "${pair}"` });
        return z.NEVER;
      }
      out[pair.slice(0, eq).trim()] = pair
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
    }
    return out;
  });

export const seriesQuery = z.object({
  metric: z.string({ message: 'required: the metric name, e.g. latency_ms_p95' }).min(1),
  labels: labelsParam,
  window: duration(SERIES_RETENTION_MS, 15 * 60_000),
});

export const endpointsQuery = z.object({ window: duration(MAX_WINDOW_MS, 60_000) });
export const clientsQuery = z.object({
  window: duration(SERIES_RETENTION_MS, 5 * 60_000),
  limit: z.coerce.number({ message: 'expected a number' }).int().min(1).max(100).optional(),
});

export async function monitorApiRoutes(
  app: FastifyInstance,
  opts: { monitor: Monitor; clock: () => number },
): Promise<void> {
  const { monitor, clock } = opts;

  app.get('/api/monitor/snapshot', async () => monitor.snapshot(clock()));

  // Every GPU in full: readings, NVML's samples between checks, and who holds memory.
  app.get('/api/monitor/gpus', async () => {
    const reading = monitor.gpuReading();
    if (!reading) return { available: false, reason: 'GPU probe disabled', gpus: [], processes: [] };
    const r = reading.result;
    return {
      available: r.available,
      simulated: reading.simulated,
      reason: r.reason ?? null,
      library: r.library ?? null,
      driverVersion: r.driverVersion ?? null,
      gpus: r.readings,
      lost: r.lost,
      processes: r.processes,
    };
  });

  app.get('/api/monitor/engine', async () => monitor.engine);

  // The Model Metrics view in one answer: per-module cards, stage means, the model
  // server's gauges and the top clients of the last 5 minutes.
  app.get('/api/monitor/model', async () => {
    const now = clock();
    return {
      ...monitor.modelSnapshot(now),
      engine: monitor.engine,
      clients: monitor.topClients(now, 5 * 60_000, 10).byRequestSeconds,
    };
  });

  app.get('/api/monitor/catalogue', async () => CATALOGUE);

  app.get('/api/monitor/series', async (request) => {
    const q = parseOrThrow(seriesQuery, request.query);
    const def = metricDef(q.metric);
    if (!def) {
      throw new AppError(
        'VALIDATION_FAILED',
        `metric: unknown metric "${q.metric}"; GET /api/monitor/catalogue lists them`,
        { field: 'metric' },
      );
    }
    const now = clock();
    const since = now - q.window;
    return {
      metric: def.name,
      unit: def.unit,
      windowMs: q.window,
      series: monitor.store.find(def.name, q.labels).map((s) => ({
        labels: s.labels,
        points: s.ring.since(since).map((p) => [p.t, p.v] as const),
      })),
    };
  });

  // Who uses the model: top clients by request-seconds (with their share of the GPUs'
  // measured busy time), requests and errors, and each module's share of the traffic
  // (5 minutes by default; up to the last hour).
  app.get('/api/monitor/clients', async (request) => {
    const q = parseOrThrow(clientsQuery, request.query);
    const now = clock();
    return {
      windowMs: q.window,
      clientsTracked: monitor.clients.size,
      ...monitor.topClients(now, q.window, q.limit ?? 10),
      modules: monitor.clients.moduleShares(now, q.window),
    };
  });

  app.get('/api/monitor/endpoints', async (request) => {
    const q = parseOrThrow(endpointsQuery, request.query);
    const now = clock();
    return {
      windowMs: q.window,
      endpoints: monitor.stats
        .all()
        .filter((ep) => ep.durations.count > 0)
        .map((ep) => ({
          method: ep.method,
          endpoint: ep.endpoint,
          group: ep.group,
          totals: {
            '2xx': ep.statusTotals[2],
            '3xx': ep.statusTotals[3],
            '4xx': ep.statusTotals[4],
            '5xx': ep.statusTotals[5],
          },
          window: endpointWindow(ep.window.summarize(q.window, now)),
        })),
    };
  });
}

/** An endpoint's window under the names this API has always used (requests, latencyMs…). */
function endpointWindow(s: WindowSummary) {
  return {
    windowMs: s.windowMs,
    coveredMs: s.coveredMs,
    requests: s.count,
    requestsPerSecond: s.perSecond,
    status2xx: s.status2xx,
    status3xx: s.status3xx,
    status4xx: s.status4xx,
    status5xx: s.status5xx,
    errorRatePercent: s.errorRatePercent,
    errorRate5xxPercent: s.errorRate5xxPercent,
    latencyMsAvg: s.mean,
    latencyMsP50: s.p50,
    latencyMsP95: s.p95,
    latencyMsP99: s.p99,
    latencyMsMax: s.max,
  };
}
