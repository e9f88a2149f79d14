// The app's own list of routes (from Fastify's route tree), so that tests covering "every
// route" also cover a route added tomorrow.
import type { FastifyInstance } from 'fastify';

export interface RouteRef {
  method: string;
  /** The pattern, e.g. /api/monitor/alerts/rules/:id */
  pattern: string;
  /** The pattern with its parameters filled in, ready to request. */
  url: string;
}

const PARAMS: Record<string, string> = { id: 'no-such-id', kind: 'webhook' };

export function routesOf(app: FastifyInstance): RouteRef[] {
  const out: RouteRef[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const pattern = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = pattern;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) {
      out.push({ method, pattern, url: pattern.replace(/:(\w+)/g, (_x, p: string) => PARAMS[p] ?? 'x') });
    }
  }
  return out;
}

/** Routes that take a request body. */
export function bodyRoutes(app: FastifyInstance): RouteRef[] {
  return routesOf(app).filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
}
