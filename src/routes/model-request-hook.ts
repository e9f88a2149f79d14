// Every model route's request gets its ModelRequest before anything else runs, so that even
// a body that fails to parse is accounted for under its module (src/pipeline/model-request.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { ModuleName } from '../metrics/model-stats.js';
import { ModelRequest, type ModelRequestDeps } from '../pipeline/model-request.js';
import { clientId } from './client-id.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The model module a route serves (vlm, ocr, gui, video): its requests are ModelRequests. */
    module?: ModuleName;
  }
  interface FastifyRequest {
    modelRequest: ModelRequest | null;
  }
}

export function trackModelRequests(app: FastifyInstance, deps: ModelRequestDeps): void {
  app.addHook('onRequest', (request, reply, done) => {
    // One read of routeOptions: Fastify builds a new object of twelve fields at each. The
    // route's config carries its URL too.
    const config = request.routeOptions.config;
    if (config.module) {
      request.modelRequest = new ModelRequest(deps, config.module, {
        requestId: request.id,
        client: clientId(request),
        endpoint: config.url,
        response: reply.raw,
      });
    }
    done();
  });
}

/** The request's ModelRequest; a route that asks for one without `config.module` is a bug. */
export function modelRequestOf(request: FastifyRequest): ModelRequest {
  if (!request.modelRequest) throw new AppError('INTERNAL', `route ${request.routeOptions.url} has no config.module`);
  return request.modelRequest;
}
