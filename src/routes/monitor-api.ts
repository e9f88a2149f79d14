// The Monitor's JSON API: cards, series, the catalogue and the per-endpoint table.
// Statistics are computed by the metrics store; these handlers only ask and format.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { pointPair } from '../metrics/ring-series.js';
import { parseDuration } from '../duration.js';
import { AppError } from '../errors.js';
import { metricDef } from '../metrics/catalogue.js';
import { clientSummarySchema, moduleSharesSchema, topClientsSchema } from '../metrics/client-stats.js';
import { modelSnapshotSchema } from '../metrics/model-snapshot.js';
import { MAX_WINDOW_MS, type WindowSummary } from '../metrics/sliding-window.js';
import { SERIES_RETENTION_MS } from '../metrics/series-store.js';
import { snapshotSchema } from '../metrics/snapshot.js';
import type { Monitor } from '../monitor.js';
import { gpuHostSchema, gpuProcessSchema } from '../probes/gpu-poller.js';
import { gpuReadingSchema } from '../probes/nvml-device.js';
import { engineReadingSchema } from '../probes/upstream-metrics.js';
import type { ZodApp } from '../route-schema.js';
import { numberOnly } from '../validation.js';
import { CATALOGUE, catalogueResponse } from './catalogue.js';

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

export const seriesQuery = z.strictObject({
  metric: z.string({ message: 'required: the metric name, e.g. latency_ms_p95' }).min(1),
  labels: labelsParam,
  window: duration(SERIES_RETENTION_MS, 15 * 60_000),
});

export const endpointsQuery = z.strictObject({ window: duration(MAX_WINDOW_MS, 60_000) });
export const clientsQuery = z.strictObject({
  window: duration(SERIES_RETENTION_MS, 5 * 60_000),
  limit: z.coerce.number({ error: numberOnly }).int().min(1).max(100).optional(),
});

/** GET /api/monitor/gpus: the GPU probe's whole latest reading. */
export const gpusAnswer = z.object({
  available: z.boolean(),
  simulated: z.boolean().describe('The readings are made up (the demo)'),
  reason: z.string().nullable().describe('Why there are no readings, or why some GPUs are missing'),
  library: z.string().nullable().describe('The NVML library loaded (null when the GPUs are read from DCGM exporters)'),
  driverVersion: z.string().nullable(),
  gpus: z.array(gpuReadingSchema),
  lost: z.array(z.number()).describe('GPUs that answered GPU_IS_LOST at the last check'),
  processes: z.array(gpuProcessSchema).describe('Processes holding GPU memory (refreshed every few checks)'),
  source: z
    .enum(['nvml', 'dcgm'])
    .describe("Where the readings come from: NVML on this machine, or DCGM exporters' pages (GPU_METRICS_URL)"),
  missing: z
    .array(z.string())
    .describe('GPUs (their `gpu` label) whose DCGM exporter stopped giving them at the last check'),
  hosts: z.array(gpuHostSchema).describe('Each GPU host read through its DCGM exporter (empty for NVML)'),
});

/** GET /api/monitor/model: the Model Metrics view in one answer. */
export const modelAnswer = modelSnapshotSchema.extend({
  engine: engineReadingSchema.describe("The model server's own gauges at the last check"),
  clients: z.array(clientSummarySchema).describe('The top 10 clients of the last 5 minutes by request-seconds'),
});

export const seriesAnswer = z.object({
  metric: z.string(),
  unit: z.string(),
  windowMs: z.number(),
  intervalMs: z
    .number()
    .describe('The check interval: more than one and a half of it between two points is a gap (no data), not a line'),
  series: z.array(
    z.object({
      labels: z.record(z.string(), z.string()),
      points: z.array(pointPair).describe('[time ms, value], oldest first'),
    }),
  ),
});

export const clientsAnswer = topClientsSchema.extend({
  windowMs: z.number(),
  clientsTracked: z.number().describe('Clients remembered now (the least recently seen are forgotten past the cap)'),
  modules: moduleSharesSchema.describe("Each module's model requests in the window, and its share of them"),
});

/** An endpoint's window under the names this API has always used (requests, latencyMs…). */
const endpointWindowSchema = z.object({
  windowMs: z.number(),
  coveredMs: z.number().describe('How much time the numbers really cover (shorter than windowMs just after start)'),
  requests: z.number(),
  requestsPerSecond: z.number(),
  status2xx: z.number(),
  status3xx: z.number(),
  status4xx: z.number(),
  status5xx: z.number(),
  errorRatePercent: z.number().nullable().describe('4xx and 5xx as a share of the requests; null: none'),
  errorRate5xxPercent: z.number().nullable().describe('5xx alone as a share of the requests; null: none'),
  latencyMsAvg: z.number().nullable(),
  latencyMsP50: z.number().nullable(),
  latencyMsP95: z.number().nullable(),
  latencyMsP99: z.number().nullable(),
  latencyMsMax: z.number().nullable(),
});

export const endpointsAnswer = z.object({
  windowMs: z.number(),
  endpoints: z
    .array(
      z.object({
        method: z.string(),
        endpoint: z.string().describe('The route pattern, or (unmatched)'),
        group: z.enum(['model', 'monitor', 'other']),
        totals: z
          .object({ '2xx': z.number(), '3xx': z.number(), '4xx': z.number(), '5xx': z.number() })
          .describe('Answers by status class since start'),
        window: endpointWindowSchema,
      }),
    )
    .describe('Every endpoint that has answered since start'),
});

const tags = ['Monitor'];

export async function monitorApiRoutes(
  root: FastifyInstance,
  opts: { monitor: Monitor; clock: () => number },
): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { monitor, clock } = opts;

  app.get(
    '/api/monitor/snapshot',
    { schema: { tags, summary: 'The six cards and the host strip', response: { 200: snapshotSchema } } },
    async () => monitor.snapshot(clock()),
  );

  // Every GPU in full: readings, NVML's samples between checks, and who holds memory.
  app.get(
    '/api/monitor/gpus',
    {
      schema: {
        tags,
        summary: 'Every GPU in full, the driver, the processes holding GPU memory',
        response: { 200: gpusAnswer },
      },
    },
    async () => {
      const reading = monitor.gpuReading();
      if (!reading)
        return {
          available: false,
          simulated: false,
          reason: 'GPU probe disabled',
          library: null,
          driverVersion: null,
          gpus: [],
          lost: [],
          processes: [],
          source: 'nvml' as const,
          missing: [],
          hosts: [],
        };
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
        source: reading.source,
        missing: r.missing ?? [],
        hosts: r.hosts ?? [],
      };
    },
  );

  app.get(
    '/api/monitor/engine',
    {
      schema: {
        tags,
        summary: "The model server's own gauges at the last check",
        response: { 200: engineReadingSchema },
      },
    },
    async () => monitor.engine,
  );

  // The Model Metrics view in one answer: per-module cards, stage means, the model
  // server's gauges and the top clients of the last 5 minutes.
  app.get(
    '/api/monitor/model',
    {
      schema: {
        tags,
        summary: 'The Model Metrics view: per-module cards, stages, errors by code',
        response: { 200: modelAnswer },
      },
    },
    async () => {
      const now = clock();
      return {
        ...monitor.modelSnapshot(now),
        engine: monitor.engine,
        clients: monitor.topClients(now, 5 * 60_000, 10).byRequestSeconds,
      };
    },
  );

  app.get(
    '/api/monitor/catalogue',
    {
      schema: {
        tags,
        summary:
          'Every metric with unit, help, labels and thresholds, and the lists the UI picks from (operators, severities, channel kinds, webhook formats, modules, stages, log levels)',
        response: { 200: catalogueResponse },
      },
    },
    async () => CATALOGUE,
  );

  app.get(
    '/api/monitor/series',
    {
      schema: {
        tags,
        summary: "Points of one metric's series",
        querystring: seriesQuery,
        response: { 200: seriesAnswer },
      },
    },
    async (request) => {
      const q = request.query;
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
        intervalMs: monitor.intervalMs,
        series: monitor.store.find(def.name, q.labels).map((s) => ({
          labels: s.labels,
          points: s.ring.since(since).map((p): [number, number] => [p.t, p.v]),
        })),
      };
    },
  );

  // Who uses the model: top clients by request-seconds (with their share of the GPUs'
  // measured busy time), requests and errors, and each module's share of the traffic
  // (5 minutes by default; up to the last hour).
  app.get(
    '/api/monitor/clients',
    {
      schema: {
        tags,
        summary: "Top clients and each module's share",
        querystring: clientsQuery,
        response: { 200: clientsAnswer },
      },
    },
    async (request) => {
      const q = request.query;
      const now = clock();
      return {
        windowMs: q.window,
        clientsTracked: monitor.clients.size,
        ...monitor.topClients(now, q.window, q.limit ?? 10),
        modules: monitor.clients.moduleShares(now, q.window),
      };
    },
  );

  app.get(
    '/api/monitor/endpoints',
    {
      schema: {
        tags,
        summary: 'Per-endpoint totals and window statistics',
        querystring: endpointsQuery,
        response: { 200: endpointsAnswer },
      },
    },
    async (request) => {
      const q = request.query;
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
            // A Float64Array(6): every index is there (`?? 0` is for the index type only).
            totals: {
              '2xx': ep.statusTotals[2] ?? 0,
              '3xx': ep.statusTotals[3] ?? 0,
              '4xx': ep.statusTotals[4] ?? 0,
              '5xx': ep.statusTotals[5] ?? 0,
            },
            window: endpointWindow(ep.window.summarize(q.window, now)),
          })),
      };
    },
  );
}

/** An endpoint's window under the names this API has always used (requests, latencyMs…). */
function endpointWindow(s: WindowSummary): z.infer<typeof endpointWindowSchema> {
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
