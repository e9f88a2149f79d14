// GET /metrics: Prometheus text format, rendered by prom-client from the Monitor's state.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Monitor } from '../monitor.js';
import type { ZodApp } from '../route-schema.js';

const metricsRouteOptions = {
  schema: {
    tags: ['Monitor'],
    summary: 'Prometheus text format',
    response: {
      200: { content: { 'text/plain': { schema: z.string().describe('Prometheus exposition format 0.0.4') } } },
    },
  },
};

export async function metricsRoute(root: FastifyInstance, opts: { monitor: Monitor }): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  app.get('/metrics', metricsRouteOptions, async (_request, reply) => {
    const text = await opts.monitor.prometheus.metrics();
    return reply.header('content-type', opts.monitor.prometheus.contentType).send(text);
  });
}
