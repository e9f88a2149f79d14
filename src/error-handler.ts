// Every answer that fails leaves in the one JSON shape of errors.ts: our AppErrors as they
// are, Fastify's own errors (body too large, bad JSON, wrong media type) mapped to our
// codes, anything else a 500 that names the request id, and no route a 404. Each failure
// is logged once, with the context an operator needs to act on it.
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, errorBody, onOpenAiSurface } from './errors.js';
import type { EventLog } from './log/event-log.js';
import { clientId } from './routes/client-id.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route that takes a file as the body (not JSON): its own limit and the setting behind it, named in its 413. */
    upload?: { maxBytes: number; setting: string };
  }
}

/** The 413 names the limit that refused the body, and where it comes from. */
function bodyTooLarge(request: FastifyRequest): AppError {
  const upload = request.routeOptions.config.upload;
  if (upload !== undefined && !/json/i.test(String(request.headers['content-type'] ?? '')))
    return new AppError(
      'BODY_TOO_LARGE',
      `The request body is larger than the limit of ${upload.maxBytes} bytes (${upload.setting})`,
    );
  const serverLimit = request.server.initialConfig.bodyLimit ?? 0;
  const limit = request.routeOptions.bodyLimit ?? serverLimit;
  if (limit >= serverLimit)
    return new AppError(
      'BODY_TOO_LARGE',
      `The request body is larger than the limit of ${serverLimit} bytes (BODY_LIMIT_BYTES)`,
    );
  return new AppError(
    'BODY_TOO_LARGE',
    `The request body is larger than the limit of ${limit} bytes for ${request.method} ${request.routeOptions.url} (this route's own limit; docs/RELIABILITY.md#budgets-at-the-edge)`,
  );
}

const FASTIFY_ERRORS: Record<string, (err: FastifyError, request: FastifyRequest) => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (_e, request) => bodyTooLarge(request),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) =>
    new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `${e.message}: send application/json (POST /api/video also takes the video itself as video/mp4 or video/quicktime)`,
    ),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new AppError('BAD_REQUEST', 'The request body is empty; expected a JSON object'),
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => new AppError('BAD_REQUEST', `The request body is not valid JSON: ${e.message}`),
};

const hasBody = (request: FastifyRequest) =>
  request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;

/** An error message as one log-friendly line. */
function oneLine(message: string): string {
  return (message.split('\n')[0] ?? '').slice(0, 300);
}

/** Context an operator needs to act on a failed request; never bodies or images. */
function requestContext(request: FastifyRequest, err: AppError) {
  return {
    request_id: request.id,
    client: clientId(request),
    method: request.method,
    endpoint: request.routeOptions.url ?? '(unmatched)',
    status: err.statusCode,
    code: err.code,
    message: err.message,
  };
}

/** Our error for whatever a handler, a hook or Fastify threw; null for a bug. */
function mapError(err: FastifyError | AppError, request: FastifyRequest): AppError | null {
  if (err instanceof AppError) return err;
  const fastifyError = err.code ? FASTIFY_ERRORS[err.code] : undefined;
  if (fastifyError) return fastifyError(err, request);
  if (err.statusCode && err.statusCode < 500)
    return new AppError('BAD_REQUEST', err.message, { statusCode: err.statusCode });
  return null;
}

async function errorHandlers(app: FastifyInstance, opts: { log: EventLog }): Promise<void> {
  const { log } = opts;
  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    let mapped = mapError(err, request);
    if (!mapped) {
      // A bug: its stack goes to stdout only; the Monitor's log gets one line saying what failed.
      app.log.error({ err, request_id: request.id }, 'unhandled error');
      mapped = new AppError('INTERNAL', oneLine(err.message));
    }
    if (request.modelRequest) mapped = request.modelRequest.fail(mapped);
    else if (mapped.statusCode >= 500) log.error('http', 'Request failed', requestContext(request, mapped));
    else log.info('http', 'Request rejected', requestContext(request, mapped));
    // Refused before its body was read (a wrong key, a body over the limit): close the
    // connection after the answer rather than read the rest of what the client sends.
    if (!request.raw.complete && hasBody(request)) reply.header('connection', 'close');
    if (mapped.code === 'INTERNAL')
      return reply.code(500).send(errorBody('INTERNAL', `Internal server error (request ${request.id})`, 500));
    return reply.code(mapped.statusCode).send(mapped.toJSON({ openAi: onOpenAiSurface(request.url) }));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`, 404)),
  );
  // HTTP's and OpenAI's conventions on every refusal, whoever answered it (a handler, a
  // guard, the shutdown): a 401 says how to authenticate (RFC 9110), a 429 or 503 when to
  // come back, so an SDK waits that long instead of retrying at once.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const status = reply.statusCode;
    if (status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', AUTHENTICATE);
    if ((status === 429 || status === 503) && !reply.hasHeader('retry-after'))
      reply.header('retry-after', String(RETRY_AFTER_S));
    done(null, payload);
  });
}

/** A key goes in `Authorization: Bearer …` (API_KEYS, the Monitor token); the cookie comes from /api/monitor/login. */
const AUTHENTICATE = 'Bearer realm="qwen3-vl-webui"';
/** When a refusal names no time of its own: long enough for a model server to free memory or a restart to end. */
const RETRY_AFTER_S = 5;

/**
 * Not encapsulated (fastify-plugin): the handlers must be the root instance's, so that
 * every route of every plugin, and every unknown URL, answers in the same shape.
 */
export const errorHandler: FastifyPluginAsync<{ log: EventLog }> = fp(errorHandlers, {
  name: 'error-handler',
  fastify: '5.x',
});
