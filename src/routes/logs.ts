// GET /api/monitor/logs: the structured log searched on the server over the whole ring
// (`WARN ocr`, `image_hash=ab3f`, free text), newest first, with every match counted by
// event (the summary the operator narrows the search with); a line's context (the lines
// before and after it of the same request, client or module); and raising INFO sampling
// to 100 % for a while (alerts call the same EventLog.boost).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { LEVELS, LOG_MODULES, logLineSchema, type EventLog } from '../log/event-log.js';
import { logSummarySchema } from '../log/log-summary.js';
import { LOG_BACKLOG_BYTES } from '../log/stdout.js';
import type { ZodApp } from '../route-schema.js';
import { numberOnly } from '../validation.js';

/**
 * A query parameter that names one of `values` (empty: none). Another is a 400 listing them:
 * a typo (`module=ocrr`) would otherwise match nothing and read as a quiet log.
 */
function oneOf<T extends string>(values: readonly T[], message: string, normalize = (v: string) => v) {
  return z
    .string()
    .describe(`one of ${values.join(', ')}`)
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const named = normalize(v);
      if (!(values as readonly string[]).includes(named)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return named as T;
    });
}

export const logsQuery = z.strictObject({
  level: oneOf(LEVELS, 'expected INFO, WARN or ERROR', (v) => v.toUpperCase()),
  module: oneOf(LOG_MODULES, `expected one of ${LOG_MODULES.join(', ')}`),
  q: z.string().max(200).optional(),
  since: z.coerce.number({ message: 'expected a time in ms since the epoch' }).int().nonnegative().optional(),
  limit: z.coerce
    .number({ error: numberOnly })
    .int()
    .min(1)
    .max(1_000, { message: 'expected at most 1000' })
    .optional(),
});

export const contextQuery = z.strictObject({
  by: z.enum(['request', 'client', 'module'], { message: 'expected request, client or module' }).default('request'),
  before: z.coerce.number({ error: numberOnly }).int().min(0).max(100, { message: 'expected at most 100' }).default(10),
  after: z.coerce.number({ error: numberOnly }).int().min(0).max(100, { message: 'expected at most 100' }).default(10),
});
export const seqParam = z.object({
  seq: z.coerce
    .number({ message: 'expected a line number (seq)' })
    .int()
    .positive({ message: 'expected a line number (seq)' }),
});

export const boostBody = z.object({
  minutes: z
    .number({ message: 'expected a number of minutes' })
    .positive()
    .max(24 * 60, { message: 'expected at most 1440 minutes' }),
});

export const logsAnswer = z.object({
  sampleRate: z.number().describe('The share of INFO lines kept now (1 while boosted)'),
  configuredSampleRate: z.number().describe('LOG_SAMPLE_RATE: the share kept when not boosted'),
  boostedUntil: z
    .number()
    .nullable()
    .describe('Until when every INFO line is kept (ms since the epoch); null: not boosted'),
  sampledOut: z.number().describe('INFO lines not kept by sampling, since start'),
  stdoutDropped: z
    .number()
    .describe(
      `Lines not written to stdout because it stopped draining (${LOG_BACKLOG_BYTES / 1024 / 1024} MiB waiting), since start; the ring and the stream still have them`,
    ),
  ringSize: z.number().describe('How many lines the ring keeps (LOG_RING_SIZE)'),
  matched: z.number().describe('Lines in the ring that match (all of them, not only those returned)'),
  scanned: z.number().describe('Lines looked at: the whole ring (back to `since`)'),
  summary: logSummarySchema.describe('The matched lines by event (all of them): the counts add up to `matched`'),
  newestSeq: z
    .number()
    .describe('The newest line in the ring when the search began: lines after it are not in the answer'),
  lines: z.array(logLineSchema).describe('Newest first, at most the limit'),
});

export const contextAnswer = z.object({
  by: contextQuery.shape.by.unwrap(),
  value: z.string().describe("The line's request id, client or module"),
  seq: z.number(),
  lines: z.array(logLineSchema).describe('Oldest first, the line itself among them'),
});

export const boostAnswer = z.object({
  sampleRate: z.literal(1),
  until: z.number().describe('Until when every INFO line is kept (ms since the epoch)'),
});

const tags = ['Monitor'];

export async function logRoutes(root: FastifyInstance, opts: { log: EventLog; clock: () => number }): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  app.get(
    '/api/monitor/logs',
    {
      schema: {
        tags,
        summary: 'The structured log, searched over the whole ring, newest first',
        querystring: logsQuery,
        response: { 200: logsAnswer },
      },
    },
    async (request) => {
      const q = request.query;
      const query: Parameters<EventLog['query']>[0] = {};
      if (q.level) query.level = q.level;
      if (q.module) query.module = q.module;
      if (q.q) query.q = q.q;
      if (q.since !== undefined) query.since = q.since;
      if (q.limit !== undefined) query.limit = q.limit;
      const result = await opts.log.search(query);
      return {
        sampleRate: opts.log.sampleRate(),
        configuredSampleRate: opts.log.configuredSampleRate,
        boostedUntil: opts.log.boostedUntil > opts.clock() ? opts.log.boostedUntil : null,
        sampledOut: opts.log.sampledOut,
        stdoutDropped: opts.log.stdoutDropped,
        ringSize: opts.log.capacity,
        matched: result.matched,
        scanned: result.scanned,
        summary: result.summary,
        newestSeq: result.newestSeq,
        lines: result.lines,
      };
    },
  );

  app.get(
    '/api/monitor/logs/:seq/context',
    {
      schema: {
        tags,
        summary: 'The lines around one line, for its request, client or module',
        params: seqParam,
        querystring: contextQuery,
        response: { 200: contextAnswer },
      },
    },
    async (request) => {
      const { seq } = request.params;
      const q = request.query;
      const found = opts.log.context(seq, q.by, q.before, q.after);
      if (!found)
        throw new AppError(
          'NOT_FOUND',
          `Log line ${seq} is no longer in the ring (LOG_RING_SIZE=${opts.log.capacity})`,
          { field: 'seq' },
        );
      if (!found.value)
        throw new AppError('VALIDATION_FAILED', `by: line ${seq} has no ${q.by === 'request' ? 'request id' : q.by}`, {
          field: 'by',
        });
      return { by: q.by, value: found.value, seq, lines: found.lines };
    },
  );

  app.post(
    '/api/monitor/logs/boost',
    {
      schema: {
        tags,
        summary: 'Keep every INFO line for a while',
        body: boostBody,
        response: { 200: boostAnswer },
      },
    },
    async (request) => {
      const { minutes } = request.body;
      const until = opts.clock() + minutes * 60_000;
      opts.log.boost(until);
      opts.log.warn('alert', 'log sampling raised to 100 %', { until: new Date(until).toISOString(), minutes });
      return { sampleRate: 1 as const, until };
    },
  );
}
