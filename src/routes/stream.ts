// WebSocket GET /api/monitor/stream: the live feed of the Monitor tab.
import type { FastifyInstance } from 'fastify';
import type { Monitor } from '../monitor.js';

export async function streamRoute(
  app: FastifyInstance,
  opts: { monitor: Monitor; clock: () => number },
): Promise<void> {
  app.get('/api/monitor/stream', { websocket: true }, (socket) => {
    // A new tab gets the current cards at once instead of waiting for the next check,
    // built now like GET /api/monitor/snapshot, so the two never disagree.
    opts.monitor.hub.add(socket, { type: 'snapshot', data: opts.monitor.snapshot(opts.clock()) });
  });
}
