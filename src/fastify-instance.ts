// The Fastify instance the app is built on: logging, body and time limits, request ids,
// and the answers to requests that never reach a route. No routes and no plugins here.
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify';
import { z } from 'zod';
import type { AppOptions } from './app-options.js';
import type { Config } from './config.js';
import { newRequestId } from './request-id.js';
import { answerSerializer, zodValidator } from './route-schema.js';
import type { StdoutLog } from './log/stdout.js';
import { clientErrorHandler, frameworkErrors } from './security/client-errors.js';

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * The query of an API route that reads and declares none: a key sent to it is a mistake (a
 * window or a limit meant for another route, a typo), answered 400 naming it rather than
 * read as a quiet answer, as an unknown key in a body is.
 */
const NO_QUERY = z.strictObject({});

function refuseUndeclaredQuery(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (!route.url.startsWith('/api/') || route.schema?.querystring) return;
  if (!methods.every((m) => m === 'GET' || m === 'HEAD')) return;
  route.schema = { ...route.schema, querystring: NO_QUERY };
}

/** `stdout`: where the log goes (null when `opts.logger` is false). */
export function createFastify(config: Config, opts: AppOptions, stdout: StdoutLog | null): FastifyInstance {
  const app = Fastify({
    logger:
      stdout === null
        ? false
        : {
            level: config.LOG_LEVEL,
            // Secrets are write-only: never logged.
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            stream: stdout.stream,
          },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Request lines would drown the structured log; the Monitor counts requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Shutdown drains (src/shutdown.ts): requests in flight finish, then what is left is cut.
    return503OnClosing: false,
    // Slow senders are cut (docs/RELIABILITY.md#bounded-waits); Node checks these every second.
    http: { headersTimeout: config.HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    // Malformed HTTP, timeouts and unreadable URLs answer in the API's error shape too.
    clientErrorHandler,
    frameworkErrors,
    // A client's own X-Request-Id is kept (when it is a plain token), else a short random one:
    // the id an operator searches the log for, returned in every answer's X-Request-Id.
    genReqId: (req) => {
      const sent = req.headers['x-request-id'];
      return typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : newRequestId();
    },
  });
  // Routes declare zod schemas (route-schema.ts): validated with them, answered as described.
  app.setValidatorCompiler(zodValidator);
  app.setSerializerCompiler(answerSerializer(config.CHECK_ANSWERS));
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onRoute', refuseUndeclaredQuery);
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  // Every request has the slot (null but on model routes): the timing hook and the error
  // handler read it whatever the route.
  app.decorateRequest('modelRequest', null);
  return app;
}
