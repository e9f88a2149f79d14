// The rest of the OpenAI surface that clients and SDKs expect besides chat: GET /v1/models
// (relayed, cached a few seconds: every SDK and WebUI lists models, often on every page
// load), and every other /v1/* route the model server offers (completions, embeddings,
// tokenize, audio …) passed through as it is, timed under one label ('/v1/*') so that
// arbitrary paths cannot grow the Monitor's label set.
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { AppError, type ErrorBody, errorBody } from '../errors.js';
import { relayed, type ZodApp } from '../route-schema.js';
import type { UpstreamClient } from '../upstream/client.js';

const MODELS_CACHE_MS = 5_000;
/** Request headers passed to the model server; hop-by-hop and our own are not. */
const PASSED_HEADERS = ['content-type', 'accept', 'accept-encoding', 'openai-beta', 'user-agent'];
/** Response headers passed back to the client. */
const RETURNED_HEADERS = ['content-type', 'content-encoding', 'cache-control', 'x-accel-buffering'];
/** The methods a model server's API uses (`all` would add QUERY, PROPFIND …, which OpenAPI cannot describe). */
const METHODS = new Set<Dispatcher.HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

function isMethod(m: string): m is Dispatcher.HttpMethod {
  return (METHODS as Set<string>).has(m);
}

/** A model server's error body that OpenAI's clients can read already: `{ "error": { "message": … } }`. */
function isOpenAiError(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } } | null;
    return typeof body?.error?.message === 'string';
  } catch {
    return false;
  }
}

/**
 * A model server's refusal in OpenAI's shape, when its own is not (vLLM's 404 has no body,
 * llama.cpp answers some routes in plain text): an SDK then shows what happened, not "404
 * status code (no body)".
 */
function refusal(status: number, route: string, said: string): ErrorBody {
  return errorBody(
    status === 404 ? 'NOT_FOUND' : 'UPSTREAM_ERROR',
    `The model server answered ${status} to ${route}${said ? `: ${said}` : ' (no body)'}`,
    status,
    undefined,
    { openAi: true },
  );
}

/** OpenAI's list of models, as the model server answers it (its own fields pass too). */
const modelList = z.looseObject({
  object: z.literal('list'),
  data: z.array(
    z.looseObject({
      id: z.string(),
      object: z.string(),
      created: z.number().optional(),
      owned_by: z.string().optional(),
    }),
  ),
});

export async function openAiRoutes(
  root: FastifyInstance,
  opts: { upstream: UpstreamClient; clock: () => number },
): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { upstream, clock } = opts;
  let cached: { at: number; status: number; contentType: string; body: string } | undefined;
  let pending: Promise<NonNullable<typeof cached>> | undefined;

  const modelsRoute = {
    config: { monitorGroup: 'model' },
    schema: {
      tags: ['OpenAI'],
      summary: "The model server's models, relayed (cached 5 s)",
      response: { 200: relayed(modelList) },
    },
  } as const;
  app.get('/v1/models', modelsRoute, async (request, reply) => {
    if (!cached || clock() - cached.at >= MODELS_CACHE_MS) {
      // Concurrent page loads share one request to the model server.
      pending ??= (async () => {
        try {
          const res = await upstream.relay(
            'GET',
            '/models',
            { accept: 'application/json' },
            undefined,
            AbortSignal.timeout(10_000),
            request.id,
          );
          const body = await upstream.readText(res);
          const entry = {
            at: clock(),
            status: res.statusCode,
            contentType: String(res.headers['content-type'] ?? 'application/json'),
            body,
          };
          // Only an answer is worth keeping; a failure is asked again next time.
          if (res.statusCode < 400) cached = entry;
          return entry;
        } finally {
          pending = undefined;
        }
      })();
      const fresh = await pending;
      // The model server's status, whatever it is (reply.code() takes only the statuses declared).
      reply.statusCode = fresh.status;
      return reply.header('content-type', fresh.contentType).send(fresh.body);
    }
    reply.statusCode = cached.status;
    return reply.header('content-type', cached.contentType).header('x-cache', 'hit').send(cached.body);
  });

  // Every other /v1 route: its body kept as bytes (whatever its type: JSON, multipart audio).
  await app.register(async (passthrough) => {
    passthrough.removeAllContentTypeParsers();
    passthrough.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const relay: RouteHandlerMethod = async (request, reply) => {
      if (!isMethod(request.method))
        throw new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`);
      const headers: Record<string, string> = {};
      for (const h of PASSED_HEADERS) {
        const v = request.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const ac = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) ac.abort();
      });
      const path = request.url.slice('/v1'.length);
      const body = Buffer.isBuffer(request.body) ? request.body : undefined;
      const res = await upstream.relay(request.method, path, headers, body, ac.signal, request.id);
      if (res.statusCode >= 400) {
        // An error answer is read to its first 64 KiB, as every other one (never the 32 MiB of an answer).
        const text = await upstream.readErrorText(res);
        if (isOpenAiError(text))
          return reply.code(res.statusCode).header('content-type', String(res.headers['content-type'])).send(text);
        const said = upstream.scrub(text.slice(0, 2_000)).trim().replace(/\s+/g, ' ').slice(0, 300);
        return reply
          .code(res.statusCode)
          .header('content-type', 'application/json')
          .send(refusal(res.statusCode, `${request.method} /v1${path.split('?')[0]}`, said));
      }
      for (const h of RETURNED_HEADERS) {
        const v = res.headers[h];
        if (typeof v === 'string') reply.header(h, v);
      }
      res.body.on('error', () => reply.raw.destroy());
      return reply.code(res.statusCode).send(res.body);
    };
    // One route per method, so that each is one operation in the API description.
    const schema = {
      tags: ['OpenAI'],
      summary: 'Any other /v1 route of the model server, passed through',
      response: {
        200: relayed(z.unknown().describe("The model server's answer, as it gave it (JSON, audio, a stream …)")),
      },
    };
    for (const method of METHODS)
      passthrough.route({ method, url: '/v1/*', config: { monitorGroup: 'model' }, schema, handler: relay });
  });
}
