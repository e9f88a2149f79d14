// Probes for load balancers and orchestrators: /healthz says the process answers,
// /readyz that it can serve (the model server answers, state is loaded). While the
// server drains for a shutdown, /readyz says 503 at once so balancers stop sending.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ZodApp } from '../route-schema.js';
import type { UpstreamClient } from '../upstream/client.js';

const check = z.object({ ok: z.boolean(), detail: z.string() });
/** /readyz's answer, 200 or 503 alike: the checks that decide it, each with why. */
const readiness = z.object({
  status: z.enum(['ready', 'not ready', 'shutting down']),
  checks: z.object({ upstream: check.optional(), shutdown: check.optional() }),
});
const tags = ['Health'];

const READY_CACHE_MS = 5_000;

export async function healthRoutes(
  root: FastifyInstance,
  opts: { upstream: UpstreamClient; clock: () => number; draining: () => boolean },
): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  let cached: { at: number; ok: boolean; detail: string } | undefined;

  app.get(
    '/healthz',
    { schema: { tags, summary: 'The process answers', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  const readyRoute = {
    schema: {
      tags,
      summary: 'The model server answers (503 with the reason, or while shutting down)',
      response: { 200: readiness, 503: readiness },
    },
  };
  app.get('/readyz', readyRoute, async (_request, reply) => {
    if (opts.draining()) {
      return reply.code(503).send({
        status: 'shutting down',
        checks: { shutdown: { ok: false, detail: 'the server is draining its requests before it stops' } },
      });
    }
    const now = opts.clock();
    // Cached briefly so a tight probe loop does not become load on the model server.
    if (!cached || now - cached.at > READY_CACHE_MS) {
      const r = await opts.upstream.ping('/models', 2_000);
      cached = { at: opts.clock(), ...r };
    }
    const checks = { upstream: { ok: cached.ok, detail: cached.detail } };
    return cached.ok
      ? reply.code(200).send({ status: 'ready', checks })
      : reply.code(503).send({ status: 'not ready', checks });
  });
}
