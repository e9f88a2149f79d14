// Who sent a request, for per-client attribution and log context: an API key (as a
// short hash, never the key), an X-Client-Id header, or the peer address.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

const SAFE_ID = /^[\w.@:-]{1,64}$/;

export function clientId(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ') && auth.length > 7) {
    return `key:${createHash('sha256').update(auth.slice(7).trim()).digest('hex').slice(0, 8)}`;
  }
  const header = request.headers['x-client-id'];
  if (typeof header === 'string' && SAFE_ID.test(header)) return header;
  return `ip:${request.ip}`;
}
