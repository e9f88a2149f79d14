// GET /metrics: Prometheus text format, rendered by prom-client from the Monitor's state,
// gzipped when the scraper asks (Prometheus always does: the text shrinks about 15×).
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Monitor } from '../monitor.js';
import { answerJsonSchema, type ZodApp } from '../route-schema.js';
import { acceptsGzip } from './accept-encoding.js';

// zlib's callback form: compressed on libuv's thread pool, off the event loop.
const gzipAsync = promisify(gzip);

/** The text, or its gzipped bytes: described as the text, which is what a client reads. */
const exposition = z
  .custom<string | Buffer>()
  .meta(answerJsonSchema(z.string().describe('Prometheus exposition format 0.0.4')));

const metricsRouteOptions = {
  schema: {
    tags: ['Monitor'],
    summary: 'Prometheus text format (gzipped when Accept-Encoding allows gzip)',
    response: {
      200: { content: { 'text/plain': { schema: exposition } } },
    },
  },
};

export async function metricsRoute(root: FastifyInstance, opts: { monitor: Monitor }): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  app.get('/metrics', metricsRouteOptions, async (request, reply) => {
    const text = await opts.monitor.prometheus.metrics();
    reply.header('content-type', opts.monitor.prometheus.contentType).header('vary', 'Accept-Encoding');
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(text);
    return reply.header('content-encoding', 'gzip').send(await gzipAsync(text));
  });
}
