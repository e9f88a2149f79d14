// The OpenAPI description of every public route, served at /docs/json (a browsable page
// at /docs). Each route declares its schemas once, in zod (route-schema.ts): Fastify
// validates with them, the handlers are typed by them, and the transform below writes them
// as OpenAPI, with the one error shape (errors.ts) for every 4xx and 5xx and who may call
// the route. So the description cannot drift from what the server accepts and answers.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';
import { COOKIE_NAME } from '../auth.js';
import { errorBodySchema } from '../errors.js';
import { answerJsonSchema } from '../route-schema.js';
import { docsPolicy } from '../security/guard.js';
import { TOPIC_LIST } from '../stream-hub.js';

/** A route's group in the description; it also says who may call it (securityOf). */
export type Tag = 'OpenAI' | 'Model' | 'Health' | 'Monitor' | 'Alerts' | 'Access';

const TAGS: Record<Tag, string> = {
  OpenAI: "OpenAI's API, relayed to the model server and timed",
  Model: 'OCR, GUI steps and video, built on the model server',
  Health: 'Probes for load balancers and orchestrators',
  Monitor: "The Monitor's readings: cards, series, endpoints, GPUs, the log",
  Alerts: 'Alert rules, presets, silences, channels, history',
  Access: 'Starting and ending a Monitor session',
};

/** What a route accepts, as JSON Schema (OpenAPI 3.0 flavour); transforms documented by their input. */
export function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'openapi-3.0',
  }) as Record<string, unknown>;
  return rest;
}

/** Every error's one shape (errors.ts), as the description gives it for each 4xx and 5xx. */
const ERROR_SCHEMA = answerJsonSchema(errorBodySchema);

/** `/v1/*`'s path parameter, as the description names it (a `*` is no OpenAPI name). */
const passthroughPath = z.object({
  path: z.string().describe('The rest of the route, slashes included: embeddings, audio/transcriptions …'),
});

const STATUS_TEXT: Record<string, string> = {
  '101': 'Switching protocols: the messages below follow',
  '200': 'OK',
  '201': 'Created',
  '204': 'No content',
  '302': 'Found: go to the Location given',
};

/**
 * A route's declared answers as OpenAPI writes them: a zod schema (JSON), or a `content`
 * map by media type (text, YAML, images). A 204's and a redirect's have no body.
 */
function documentedAnswers(response: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [code, answer] of Object.entries((response ?? {}) as Record<string, unknown>)) {
    const description = STATUS_TEXT[code] ?? 'OK';
    if (answer instanceof z.ZodType) {
      out[code] =
        code === '204' || code === '302'
          ? { description: answer.description ?? description }
          : { description, ...answerJsonSchema(answer) };
    } else if (answer && typeof answer === 'object' && 'content' in answer) {
      const { content, ...rest } = answer as { content: Record<string, { schema: unknown }> };
      out[code] = {
        description,
        ...rest,
        content: Object.fromEntries(
          Object.entries(content).map(([type, { schema }]) => [
            type,
            { schema: schema instanceof z.ZodType ? answerJsonSchema(schema) : schema },
          ]),
        ),
      };
    }
  }
  return out;
}

/** "POST /api/monitor/alerts/rules/:id" → "postApiMonitorAlertsRulesById": unique, stable, readable. */
function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[^a-zA-Z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/**
 * Who may call a route, as the server checks it: the model routes a key of API_KEYS; the
 * Monitor the monitor token or a session (either one), and the routes that change alerts
 * the admin token besides; health probes nothing.
 */
function securityOf(tag: Tag | undefined, adminToken: boolean): Array<Record<string, string[]>> {
  if (tag === 'OpenAI' || tag === 'Model') return [{ apiKey: [] }];
  if (tag === 'Health' || tag === 'Access') return [];
  const admin = adminToken ? { adminToken: [] } : {};
  return [
    { monitorToken: [], ...admin },
    { monitorSession: [], ...admin },
  ];
}

/** Routes that serve files (the UI, uPlot, the docs page itself) stay out of the description. */
function hidden(url: string): boolean {
  return url === '*' || url === '/*' || url.startsWith('/vendor/') || url.startsWith('/docs');
}

/** Registered on the root instance, before the routes it describes (swagger watches onRoute). */
export async function registerOpenApi(app: FastifyInstance, opts: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Qwen3-VL WebUI with a built-in Monitor',
        version: opts.version,
        description:
          'Chat, OCR, GUI and video in front of an OpenAI-compatible Qwen3-VL server, and the Monitor. ' +
          'Errors: { "error": { "code", "message", "field"?, "type", "param" } }. ' +
          `Live feed: a WebSocket at /api/monitor/stream sends {"type":${TOPIC_LIST},"data":…} messages.`,
      },
      tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
      servers: [{ url: '/', description: 'This server' }],
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'One of API_KEYS, on the model routes, when API_KEYS is set',
          },
          monitorToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'The monitor token (MONITOR_TOKEN; loopback clients need none)',
          },
          monitorSession: {
            type: 'apiKey',
            in: 'cookie',
            name: COOKIE_NAME,
            description: 'The session POST /api/monitor/login starts, instead of the monitor token',
          },
          adminToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Admin-Token',
            description: 'MONITOR_ADMIN_TOKEN, on every route that changes alerts, when it is set',
          },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      if (hidden(url) || !schema?.summary) return { schema: { ...schema, hide: true }, url };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      // `/v1/*` as OpenAPI can write it: a named path parameter.
      const documentedUrl = url === '/v1/*' ? '/v1/:path' : url;
      const tag = schema.tags?.[0] as Tag | undefined;
      // (@fastify/websocket hides its routes; the WebSocket's schema documents it all the same.)
      const out: FastifySchema & Record<string, unknown> = { ...schema, hide: false };
      for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
        const zod = schema[part];
        if (zod instanceof z.ZodType) out[part] = inputJsonSchema(zod);
      }
      if (url === '/v1/*') out.params = inputJsonSchema(passthroughPath);
      out.response = {
        ...documentedAnswers(schema.response),
        '4xx': { description: 'Refused: the error says which field and why', ...ERROR_SCHEMA },
        '5xx': { description: 'Failed: the server, or the model server behind it', ...ERROR_SCHEMA },
      };
      // One operation per route and method (a route of several methods would share it).
      const [method] = methods;
      if (method !== undefined && methods.length === 1) out.operationId = operationId(method, url);
      out.security = securityOf(tag, route.config?.adminToken === true);
      return { schema: out, url: documentedUrl };
    },
  });
}

/**
 * The browsable page (/docs) and the description (/docs/json). Registered after the
 * Monitor, like every other route, so that its requests are timed too.
 */
export async function registerDocsPage(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, transformStaticCSP: docsPolicy });
}
