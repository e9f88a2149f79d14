// The OpenAPI description of every public route, served at /docs/json (a browsable page
// at /docs). Built from the very zod schemas the handlers validate with, so it cannot
// drift from what the server accepts. The schemas are attached for the description only
// (@fastify/swagger's transform): validation stays the handlers' zod, whose 400 names the
// deepest field, rather than a second validator with other messages.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ruleAnswerSchema, ruleInputSchema } from '../alerts/rule-schema.js';
import { channelBodySchema, channelListBodySchema } from '../alerts/notifiers/registry.js';
import { silenceAnswerSchema, silenceInputSchema } from '../alerts/silence.js';
import { historyEntrySchema } from '../alerts/history.js';
import { channelParams, historyQuery, idParams } from './alerts.js';
import { catalogueResponse } from './catalogue.js';
import { chatRequestSchema } from './chat-schema.js';
import { executeBody, feedbackBody, guiAnswer } from './gui.js';
import { loginBody } from './login.js';
import { boostBody, contextQuery, logsQuery, seqParam } from './logs.js';
import { clientsQuery, endpointsQuery, seriesQuery } from './monitor-api.js';
import { ocrAnswer, ocrBody } from './ocr.js';
import { videoAnswer, videoBody } from './video.js';
import { docsPolicy } from '../security/guard.js';
import { COOKIE_NAME } from '../auth.js';
import { clientMessage, serverMessage } from '../stream-hub.js';

interface RouteDoc {
  summary: string;
  tag: 'OpenAI' | 'Model' | 'Health' | 'Monitor' | 'Alerts' | 'Access';
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /** The 2xx answer, where a schema describes it. */
  response?: z.ZodType;
  /** The success status when it is not 200 (101 a WebSocket, 201 created, 204 no content). */
  status?: 101 | 201 | 204;
  /** More than the summary says. */
  description?: string;
}

/** A chat completion as OpenAI's clients read it; the model server's own fields pass too. */
const chatCompletion = z.looseObject({
  id: z.string(),
  object: z.string(),
  created: z.number(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: z.number(),
      message: z.looseObject({ role: z.string(), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: z
    .looseObject({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .optional(),
});

const TAGS: Record<RouteDoc['tag'], string> = {
  OpenAI: "OpenAI's API, relayed to the model server and timed",
  Model: 'OCR, GUI steps and video, built on the model server',
  Health: 'Probes for load balancers and orchestrators',
  Monitor: "The Monitor's readings: cards, series, endpoints, GPUs, the log",
  Alerts: 'Alert rules, presets, silences, channels, history',
  Access: 'Starting and ending a Monitor session',
};

const id = idParams;
const channelName = channelParams;

/** Every public route, by `METHOD url`: the test checks nothing registered is missing here. */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'POST /v1/chat/completions': {
    tag: 'OpenAI',
    summary: 'Chat about images (OpenAI-compatible); stream: true relays the SSE stream',
    body: chatRequestSchema,
    response: chatCompletion,
  },
  'GET /v1/models': { tag: 'OpenAI', summary: "The model server's models, relayed (cached 5 s)" },
  ...Object.fromEntries(
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => [
      `${m} /v1/*`,
      {
        tag: 'OpenAI',
        summary: 'Any other /v1 route of the model server, passed through',
        params: z.object({
          path: z.string().describe('The rest of the route, slashes included: embeddings, audio/transcriptions …'),
        }),
      },
    ]),
  ),
  'POST /api/ocr': {
    tag: 'Model',
    summary: 'The text of an image, with a confidence',
    body: ocrBody,
    response: ocrAnswer,
  },
  'POST /api/gui/execute': {
    tag: 'Model',
    summary: 'The next GUI action for a screenshot and an instruction',
    body: executeBody,
    response: guiAnswer,
  },
  'POST /api/gui/feedback': { tag: 'Model', summary: "Whether executing a step's action worked", body: feedbackBody },
  'POST /api/video': {
    tag: 'Model',
    summary: 'An answer about a video (MP4/MOV, a URL, or frames); the MP4 may also be the body',
    body: videoBody,
    response: videoAnswer,
  },
  'GET /healthz': { tag: 'Health', summary: 'The process answers' },
  'GET /readyz': { tag: 'Health', summary: 'The model server answers (503 with the reason, or while shutting down)' },
  'GET /metrics': { tag: 'Monitor', summary: 'Prometheus text format' },
  'GET /monitor': { tag: 'Access', summary: 'The start-up link: sets the Monitor cookie from ?token= and redirects' },
  'GET /api/monitor/stream': {
    tag: 'Monitor',
    summary: 'The live feed: a WebSocket of snapshots, points, log lines and alerts',
    description:
      'Upgrade to a WebSocket (a plain GET is 404). The server sends JSON messages: {"type":"snapshot"|"point"|"log"|"alert","data":…}, ' +
      "and answers the client's. The client may send " +
      JSON.stringify(jsonSchema(clientMessage)) +
      ' (subscribe narrows the topics; all four by default). Past MAX_WEBSOCKETS_PER_CLIENT or MAX_WEBSOCKETS the upgrade is ' +
      'refused with 429 or 503 and Retry-After.',
    response: serverMessage,
    status: 101,
  },
  'POST /api/monitor/login': {
    tag: 'Access',
    summary: 'Starts a Monitor session (cookie)',
    body: loginBody,
    status: 204,
  },
  'POST /api/monitor/logout': { tag: 'Access', summary: "Ends this browser's session" },
  'GET /api/monitor/snapshot': { tag: 'Monitor', summary: 'The six cards and the host strip' },
  'GET /api/monitor/series': { tag: 'Monitor', summary: "Points of one metric's series", query: seriesQuery },
  'GET /api/monitor/endpoints': {
    tag: 'Monitor',
    summary: 'Per-endpoint totals and window statistics',
    query: endpointsQuery,
  },
  'GET /api/monitor/clients': { tag: 'Monitor', summary: "Top clients and each module's share", query: clientsQuery },
  'GET /api/monitor/engine': { tag: 'Monitor', summary: "The model server's own gauges at the last check" },
  'GET /api/monitor/model': {
    tag: 'Monitor',
    summary: 'The Model Metrics view: per-module cards, stages, errors by code',
  },
  'GET /api/monitor/gpus': {
    tag: 'Monitor',
    summary: 'Every GPU in full, the driver, the processes holding GPU memory',
  },
  'GET /api/monitor/catalogue': {
    tag: 'Monitor',
    summary:
      'Every metric with unit, help, labels and thresholds, and the lists the UI picks from (operators, severities, channel kinds, webhook formats, modules, stages, log levels)',
    response: catalogueResponse,
  },
  'GET /api/monitor/logs': {
    tag: 'Monitor',
    summary: 'The structured log, searched over the whole ring, newest first',
    query: logsQuery,
  },
  'GET /api/monitor/logs/:seq/context': {
    tag: 'Monitor',
    summary: 'The lines around one line, for its request, client or module',
    query: contextQuery,
    params: seqParam,
  },
  'POST /api/monitor/logs/boost': { tag: 'Monitor', summary: 'Keep every INFO line for a while', body: boostBody },
  'GET /api/monitor/ocr-samples/:file': {
    tag: 'Monitor',
    summary: 'A lowest-confidence OCR thumbnail (Monitor access or a signed link)',
  },
  'GET /api/monitor/alerts/rules': {
    tag: 'Alerts',
    summary: 'The alert rules',
    response: z.object({ rules: z.array(ruleAnswerSchema) }),
  },
  'POST /api/monitor/alerts/rules': {
    tag: 'Alerts',
    summary: 'Creates a rule',
    body: ruleInputSchema,
    response: ruleAnswerSchema,
    status: 201,
  },
  'POST /api/monitor/alerts/rules/test': {
    tag: 'Alerts',
    summary:
      'Would this rule be firing now, and why (replays the last hour); ?ruleId= tests an edit of that rule, keeping the channels it already names',
    body: ruleInputSchema,
  },
  'GET /api/monitor/alerts/rules/export.prometheus.yml': {
    tag: 'Alerts',
    summary: 'The rules as a Prometheus alerting-rules file (YAML), for promtool and a fleet Prometheus',
  },
  'GET /api/monitor/alerts/rules/:id': { tag: 'Alerts', summary: 'One rule', params: id, response: ruleAnswerSchema },
  'PUT /api/monitor/alerts/rules/:id': {
    tag: 'Alerts',
    summary: 'Replaces a rule',
    body: ruleInputSchema,
    params: id,
    response: ruleAnswerSchema,
  },
  'DELETE /api/monitor/alerts/rules/:id': { tag: 'Alerts', summary: 'Deletes a rule', params: id, status: 204 },
  'GET /api/monitor/alerts/rules/:id/test': {
    tag: 'Alerts',
    summary: 'Would this stored rule be firing now, and why',
    params: id,
  },
  'GET /api/monitor/alerts/presets': { tag: 'Alerts', summary: 'Ready-made rules' },
  'POST /api/monitor/alerts/presets/:id/import': {
    tag: 'Alerts',
    summary: 'Imports a preset with the channels that are set up (idempotent); answers { rule, channelsNotSetUp }',
    params: id,
  },
  'GET /api/monitor/alerts/silences': {
    tag: 'Alerts',
    summary: 'Silences',
    response: z.object({ silences: z.array(silenceAnswerSchema) }),
  },
  'POST /api/monitor/alerts/silences': {
    tag: 'Alerts',
    summary: 'Creates a silence (once, or daily in a time zone)',
    body: silenceInputSchema,
    response: silenceAnswerSchema,
    status: 201,
  },
  'DELETE /api/monitor/alerts/silences/:id': { tag: 'Alerts', summary: 'Deletes a silence', params: id, status: 204 },
  'GET /api/monitor/alerts/channels': {
    tag: 'Alerts',
    summary: 'The alert channels, console first (secrets never shown, URLs masked)',
  },
  'PUT /api/monitor/alerts/channels': {
    tag: 'Alerts',
    summary:
      "Replaces the list (omitted secrets are kept by name); the first version's { email, webhook } is taken too",
    body: channelListBodySchema,
  },
  'POST /api/monitor/alerts/channels': {
    tag: 'Alerts',
    summary: 'Adds a channel (409 when its name is taken)',
    body: channelBodySchema,
    status: 201,
  },
  'GET /api/monitor/alerts/channels/:name': {
    tag: 'Alerts',
    summary: 'One channel (secrets never shown)',
    params: channelName,
  },
  'PUT /api/monitor/alerts/channels/:name': {
    tag: 'Alerts',
    summary: 'Replaces one channel; omitted secrets and masked URLs are kept',
    body: channelBodySchema,
    params: channelName,
  },
  'DELETE /api/monitor/alerts/channels/:name': {
    tag: 'Alerts',
    summary: 'Deletes a channel (rules that name it are kept, and warned about)',
    params: channelName,
    status: 204,
  },
  'POST /api/monitor/alerts/channels/:name/test': {
    tag: 'Alerts',
    summary: 'Sends a test notification on one channel',
    params: channelName,
  },
  'GET /api/monitor/alerts/active': { tag: 'Alerts', summary: 'What is pending or firing' },
  'POST /api/monitor/alerts/active/ack': {
    tag: 'Alerts',
    summary:
      'Acknowledges a firing alert in every open Monitor tab, or dismisses a per-request notice (with its requestId)',
  },
  'GET /api/monitor/alerts/history': {
    tag: 'Alerts',
    summary: 'State changes and delivery attempts, newest first',
    query: historyQuery,
    response: z.object({ history: z.array(historyEntrySchema) }),
  },
};

/** What the handler accepts, as JSON Schema (OpenAPI 3.0 flavour); transforms documented by their input. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'openapi-3.0',
  }) as Record<string, unknown>;
  return rest;
}

/** Every error's one shape (errors.ts), as the description gives it for each 4xx and 5xx. */
const ERROR_SCHEMA = jsonSchema(
  z.object({
    error: z.object({
      code: z.string().describe("Ours; on /v1/*, OpenAI's where it has one (context_length_exceeded …)"),
      app_code: z.string().describe('Always ours: VALIDATION_FAILED, UPSTREAM_TIMEOUT …'),
      message: z.string(),
      field: z.string().optional().describe('The field that was refused, e.g. messages[0].content[0].image_url.url'),
      type: z.string().describe("OpenAI's kind of error: invalid_request_error, authentication_error …"),
      param: z.string().nullable(),
    }),
  }),
  'output',
);

/** "POST /api/monitor/alerts/rules/:id" → "postApiMonitorAlertsRulesById": unique, stable, readable. */
function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[^a-zA-Z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/**
 * Who may call a route, as the server checks it: the model routes a key of API_KEYS; the
 * Monitor the monitor token or a session (either one), and the routes that change alerts
 * the admin token besides; health probes nothing.
 */
function securityOf(tag: RouteDoc['tag'], adminToken: boolean): Array<Record<string, string[]>> {
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
          'Live feed: a WebSocket at /api/monitor/stream sends {"type":"snapshot"|"point"|"log"|"alert","data":…} messages.',
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
      if (hidden(url)) return { schema: { ...schema, hide: true }, url };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const doc = methods.map((m) => ROUTE_DOCS[`${m} ${url}`]).find((d) => d !== undefined);
      if (!doc) return { schema, url };
      // `/v1/*` as OpenAPI can write it: a named path parameter (a `*` is none).
      const documentedUrl = url === '/v1/*' ? '/v1/:path' : url;
      // (A WebSocket route is hidden by @fastify/websocket; the table documents it all the same.)
      const out: Record<string, unknown> = { ...schema, hide: false, summary: doc.summary, tags: [doc.tag] };
      if (doc.description) out.description = doc.description;
      if (doc.body) out.body = jsonSchema(doc.body);
      if (doc.query) out.querystring = jsonSchema(doc.query);
      if (doc.params) out.params = jsonSchema(doc.params);
      const ok = doc.status ?? 200;
      out.response = {
        [ok]: {
          description:
            { 101: 'Switching protocols: the messages below follow', 201: 'Created', 204: 'No content' }[ok as 101] ??
            'OK',
          ...(doc.response ? jsonSchema(doc.response, 'output') : {}),
        },
        '4xx': { description: 'Refused: the error says which field and why', ...ERROR_SCHEMA },
        '5xx': { description: 'Failed: the server, or the model server behind it', ...ERROR_SCHEMA },
      };
      // One operation per route and method (a route of several methods would share it).
      if (methods.length === 1) out.operationId = operationId(methods[0]!, url);
      out.security = securityOf(doc.tag, route.config?.adminToken === true);
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
