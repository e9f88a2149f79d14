// The request guards every route passes first: the Host must be one this server answers
// to (DNS rebinding), a request that changes something (any method but GET/HEAD/OPTIONS,
// and the WebSocket upgrade) must come from this server's own origin when a browser says
// where it comes from, and HTML pages carry a Content-Security-Policy.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody } from '../errors.js';
import { hostMatcher, originMatcher, type HostRules } from './hosts.js';

/** Probes answer any Host: balancers and orchestrators name the server as they like. */
const PROBES = new Set(['/healthz', '/readyz']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Grafana's default policy, tightened: scripts only from this server (no inline, no eval),
 * inline styles allowed (they run nothing), images also from data:/blob: URLs and the
 * http(s) image URLs users paste, no framing (clickjacking), no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: http: https:",
  "media-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Swagger UI's own policy for /docs, less `upgrade-insecure-requests`: served over plain
 * http under a host name (not localhost), that directive makes the browser fetch the
 * page's own scripts and styles as https:// URLs, which fail, and the page stays blank.
 * Over HTTPS it changes nothing: everything the page loads is its own ('self').
 */
export const docsPolicy = (swaggerPolicy: string) =>
  swaggerPolicy
    .split(';')
    .filter((d) => d.trim() !== 'upgrade-insecure-requests')
    .join(';');

const isUpgrade = (request: FastifyRequest) => String(request.headers.upgrade ?? '').toLowerCase() === 'websocket';

function changesState(request: FastifyRequest): boolean {
  return !SAFE_METHODS.has(request.method) || isUpgrade(request);
}

export function installRequestGuards(app: FastifyInstance, rules: HostRules): void {
  const hostAllowed = hostMatcher(rules);
  const originAllowed = originMatcher(rules);

  // Callback-style hooks: on every request's path, no promise per hook.
  app.addHook('onRequest', (request, reply, done) => {
    const host = request.headers.host;
    if (!hostAllowed(host) && !PROBES.has(request.routeOptions.url ?? '')) {
      void reply
        .code(403)
        .send(
          errorBody(
            'HOST_NOT_ALLOWED',
            `Host "${String(host).slice(0, 200)}" is not a name this server answers to (a DNS-rebinding page looks like this); if it is how you reach the server, add it to ALLOWED_HOSTS`,
            403,
          ),
        );
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && changesState(request) && !originAllowed(origin, host)) {
      void reply
        .code(403)
        .send(
          errorBody(
            'ORIGIN_NOT_ALLOWED',
            `A page from ${String(origin).slice(0, 200)} may not change this server (cross-site request refused); to allow that origin, add it to ALLOWED_ORIGINS or set PUBLIC_URL`,
            403,
          ),
        );
      return;
    }
    done();
  });

  // A refused WebSocket upgrade is answered on a socket Node no longer manages: close it,
  // or a client could hold it open forever with no timeout.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 400 && isUpgrade(request)) request.raw.socket.end();
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'same-origin');
    }
    done(null, payload);
  });
}
