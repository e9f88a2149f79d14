// Probes for load balancers and orchestrators: /healthz says the process answers,
// /readyz that it can serve (the model server answers, state is loaded). While the
// server drains for a shutdown, /readyz says 503 at once so balancers stop sending.
import type { FastifyInstance } from 'fastify';
import type { UpstreamClient } from '../upstream/client.js';

const READY_CACHE_MS = 5_000;

export async function healthRoutes(
  app: FastifyInstance,
  opts: { upstream: UpstreamClient; clock: () => number; draining: () => boolean },
): Promise<void> {
  let cached: { at: number; ok: boolean; detail: string } | undefined;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
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
    const body = {
      status: cached.ok ? 'ready' : 'not ready',
      checks: { upstream: { ok: cached.ok, detail: cached.detail } },
    };
    return reply.code(cached.ok ? 200 : 503).send(body);
  });
}
