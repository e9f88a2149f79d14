// GET /api/monitor/logs: the structured log, newest first, filtered; and raising INFO
// sampling to 100 % for a while (alerts call the same EventLog.boost).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LEVELS, type EventLog } from '../log/event-log.js';
import { parseOrThrow } from '../validation.js';

const logsQuery = z.object({
  level: z.string().optional().transform((v, ctx) => {
    if (v === undefined || v === '') return undefined;
    const up = v.toUpperCase();
    if (!(LEVELS as readonly string[]).includes(up)) {
      ctx.addIssue({ code: 'custom', message: 'expected INFO, WARN or ERROR' });
      return z.NEVER;
    }
    return up as (typeof LEVELS)[number];
  }),
  module: z.string().max(32).optional(),
  q: z.string().max(200).optional(),
  since: z.coerce.number({ message: 'expected a time in ms since the epoch' }).int().nonnegative().optional(),
  limit: z.coerce.number({ message: 'expected a number' }).int().min(1).max(1_000, { message: 'expected at most 1000' }).optional(),
});

const boostBody = z.object({ minutes: z.number({ message: 'expected a number of minutes' }).positive().max(24 * 60, { message: 'expected at most 1440 minutes' }) });

export async function logRoutes(app: FastifyInstance, opts: { log: EventLog; clock: () => number }): Promise<void> {
  app.get('/api/monitor/logs', async (request) => {
    const q = parseOrThrow(logsQuery, request.query);
    const query: Parameters<EventLog['query']>[0] = {};
    if (q.level) query.level = q.level;
    if (q.module) query.module = q.module;
    if (q.q) query.q = q.q;
    if (q.since !== undefined) query.since = q.since;
    if (q.limit !== undefined) query.limit = q.limit;
    return { sampleRate: opts.log.sampleRate(), sampledOut: opts.log.sampledOut, lines: opts.log.query(query) };
  });

  app.post('/api/monitor/logs/boost', async (request) => {
    const { minutes } = parseOrThrow(boostBody, request.body);
    const until = opts.clock() + minutes * 60_000;
    opts.log.boost(until);
    opts.log.warn('alert', 'log sampling raised to 100 %', { until: new Date(until).toISOString(), minutes });
    return { sampleRate: 1, until };
  });
}
