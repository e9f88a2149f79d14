// GET /metrics: Prometheus text format, rendered by prom-client from the Monitor's state.
import type { FastifyInstance } from 'fastify';
import type { Monitor } from '../monitor.js';

export async function metricsRoute(app: FastifyInstance, opts: { monitor: Monitor }): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    const text = await opts.monitor.prometheus.metrics();
    return reply.header('content-type', opts.monitor.prometheus.contentType).send(text);
  });
}
