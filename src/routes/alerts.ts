// The alert API: rules CRUD, presets and import, channels (a list by name; secrets
// write-only), test notifications, active alerts and history. A rule names only channels
// that are set up (rule-channels.ts). Every body is strict: an unknown key is a 400
// naming it. Mutations need MONITOR_ADMIN_TOKEN (header X-Admin-Token) when one is set.
import type { FastifyInstance } from 'fastify';
import { z, ZodError } from 'zod';
import {
  ackAnswerSchema,
  ackBodySchema,
  activeAlertSchema,
  channelTestSchema,
  presetAnswerSchema,
  presetImportSchema,
} from '../alerts/answers.js';
import { ruleExplanationSchema } from '../alerts/explain.js';
import { channelListBodySchema } from '../alerts/channel-list.js';
import { historyEntrySchema } from '../alerts/history.js';
import type { AlertManager } from '../alerts/manager.js';
import { channelBodySchema, channelEditSchema, channelViewSchema } from '../alerts/notifiers/registry.js';
import { silenceAnswerSchema, silenceInputSchema } from '../alerts/silence.js';
import { PRESETS } from '../alerts/presets.js';
import { explainRule } from '../alerts/explain.js';
import { presetChannels } from '../alerts/rule-channels.js';
import { rulesYaml } from '../alerts/prometheus-rules.js';
import { ruleAnswerSchema, ruleInputSchema, SEVERITIES, type Rule } from '../alerts/rule-schema.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { AppError } from '../errors.js';
import { adminTokenCheck } from '../security/admin-token.js';
import type { ZodApp } from '../route-schema.js';
import { numberOnly, validationError } from '../validation.js';

export const historyQuery = z.strictObject({
  ruleId: z.string().optional(),
  severity: z.enum(SEVERITIES).optional(),
  since: z.coerce.number({ message: 'expected a time in ms since the epoch' }).int().nonnegative().optional(),
  limit: z.coerce.number({ error: numberOnly }).int().min(1).max(5_000).optional(),
});

/** Runs a manager mutation, turning its zod errors into the API's 400 naming the field. */
function validated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof ZodError ? validationError(err) : err;
  }
}

export interface AlertRouteOptions {
  alerts: AlertManager;
  adminToken: string | undefined;
  store: SeriesStore;
  clock: () => number;
  intervalMs: number;
  /** The Monitor's sliding window and model endpoints, for the Prometheus rules export. */
  windowMs: number;
  modelEndpoints: () => string[];
  /** Whether /metrics has a route's latency and size histograms: rules on others are not exported. */
  histogramEndpoint: (endpoint: string) => boolean;
}

const idParams = z.object({ id: z.string().min(1) });
const channelParams = z.object({ name: z.string().min(1) });
const tags = ['Alerts'];
const noContent = z.undefined();

export async function alertRoutes(root: FastifyInstance, opts: AlertRouteOptions): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { alerts } = opts;
  // Checked before the body is read, and throttled per address (security/admin-token.ts).
  // (`config.adminToken` tells the API description which routes ask for it.)
  const admin = { onRequest: adminTokenCheck(opts.adminToken, opts.clock), config: { adminToken: true } };
  const notFound = (id: string) => new AppError('NOT_FOUND', `No alert rule ${id}`);
  const explain = (rule: Rule) => explainRule(rule, opts.store, opts.clock(), opts.intervalMs);

  app.get(
    '/api/monitor/alerts/rules',
    { schema: { tags, summary: 'The alert rules', response: { 200: z.object({ rules: z.array(ruleAnswerSchema) }) } } },
    async () => ({ rules: [...alerts.config.rules] }),
  );
  // The rules as a Prometheus alerting-rules file (docs/SCALE-OUT.md): PromQL over /metrics.
  app.get(
    '/api/monitor/alerts/rules/export.prometheus.yml',
    {
      schema: {
        tags,
        summary: 'The rules as a Prometheus alerting-rules file (YAML), for promtool and a fleet Prometheus',
        response: {
          200: {
            content: {
              'application/yaml': {
                schema: z
                  .string()
                  .describe('A Prometheus alerting-rules file: groups of rules in PromQL over /metrics'),
              },
            },
          },
        },
      },
    },
    async (_request, reply) =>
      reply.type('application/yaml; charset=utf-8').send(
        rulesYaml(alerts.config.rules, {
          intervalMs: opts.intervalMs,
          windowMs: opts.windowMs,
          modelEndpoints: opts.modelEndpoints(),
          histogramEndpoint: opts.histogramEndpoint,
        }),
      ),
  );
  app.get(
    '/api/monitor/alerts/rules/:id',
    { schema: { tags, summary: 'One rule', params: idParams, response: { 200: ruleAnswerSchema } } },
    async (request) =>
      alerts.config.rules.find((r) => r.id === request.params.id) ?? Promise.reject(notFound(request.params.id)),
  );
  app.post(
    '/api/monitor/alerts/rules',
    {
      ...admin,
      schema: { tags, summary: 'Creates a rule', body: ruleInputSchema, response: { 201: ruleAnswerSchema } },
    },
    async (request, reply) => reply.code(201).send(alerts.config.addRule(request.body)),
  );
  // PUT replaces a rule, or creates it under that id: a fleet gives one rule one id on every
  // node, so the node's alerts and Prometheus' (the export labels them by it) are one.
  app.put(
    '/api/monitor/alerts/rules/:id',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Replaces a rule, or creates it under this id (the same rule, the same id, on every node of a fleet)',
        params: z.object({
          id: z.string().regex(/^[A-Za-z0-9][\w.:-]{0,127}$/, {
            message: 'expected an id of letters, digits, "_", ".", ":" or "-" (at most 128), e.g. gpu-memory-fleet',
          }),
        }),
        body: ruleInputSchema,
        response: { 200: ruleAnswerSchema, 201: ruleAnswerSchema },
      },
    },
    async (request, reply) => {
      const updated = alerts.config.updateRule(request.params.id, request.body);
      if (updated) return reply.code(200).send(updated);
      return reply.code(201).send(alerts.config.addRule(request.body, request.params.id));
    },
  );
  app.delete(
    '/api/monitor/alerts/rules/:id',
    { ...admin, schema: { tags, summary: 'Deletes a rule', params: idParams, response: { 204: noContent } } },
    async (request, reply) => {
      if (!alerts.config.deleteRule(request.params.id)) throw notFound(request.params.id);
      return reply.code(204).send();
    },
  );

  // "Test rule": would this rule be firing now on the data of the last hour, and why.
  // `?ruleId=`: the rule being edited, whose channels deleted since are kept as a save would keep them.
  app.post(
    '/api/monitor/alerts/rules/test',
    {
      schema: {
        tags,
        summary:
          'Would this rule be firing now, and why (replays the last hour); ?ruleId= tests an edit of that rule, keeping the channels it already names',
        querystring: z.strictObject({ ruleId: z.string().min(1).optional() }),
        body: ruleInputSchema,
        response: { 200: ruleExplanationSchema },
      },
    },
    async (request) => {
      const rule: Rule = { id: 'test', ...request.body };
      alerts.config.checkChannels(rule.channels, request.query.ruleId);
      return explain(rule);
    },
  );
  app.get(
    '/api/monitor/alerts/rules/:id/test',
    {
      schema: {
        tags,
        summary: 'Would this stored rule be firing now, and why',
        params: idParams,
        response: { 200: ruleExplanationSchema },
      },
    },
    async (request) => {
      const rule = alerts.config.rules.find((r) => r.id === request.params.id);
      if (!rule) throw notFound(request.params.id);
      return explain(rule);
    },
  );

  // Each preset says which of its channels are not set up (importing it leaves them out)
  // and, once imported, which of them its rule lacks (import again to add those set up since).
  const presets = PRESETS.map((p) => ({ ...p, rule: ruleInputSchema.parse(p.rule) }));
  app.get(
    '/api/monitor/alerts/presets',
    {
      schema: {
        tags,
        summary: 'Ready-made rules',
        response: { 200: z.object({ presets: z.array(presetAnswerSchema) }) },
      },
    },
    async () => {
      const known = alerts.config.channelNames();
      return {
        presets: presets.map((p) => {
          const rule = alerts.config.rules.find((r) => r.id === `preset:${p.id}`);
          const wanted = p.rule.channels;
          return {
            ...p,
            imported: rule !== undefined,
            channelsNotSetUp: presetChannels(wanted, known).notSetUp,
            channelsLeftOut: rule ? wanted.filter((c) => !rule.channels.includes(c)) : [],
          };
        }),
      };
    },
  );
  app.post(
    '/api/monitor/alerts/presets/:id/import',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Imports a preset with the channels that are set up (idempotent); answers { rule, channelsNotSetUp }',
        params: idParams,
        response: { 200: presetImportSchema },
      },
    },
    async (request) =>
      alerts.config.importPreset(request.params.id) ??
      Promise.reject(
        new AppError('NOT_FOUND', `No preset ${request.params.id}; GET /api/monitor/alerts/presets lists them`),
      ),
  );

  // Channels: a list of named channels (console built in). PUT replaces the list (or, in
  // the first version's shape, the channels named email and webhook); one channel is
  // added with POST and changed or removed by name. Secrets are never returned.
  const noChannel = (name: string) =>
    new AppError('NOT_FOUND', `No channel ${name}; GET /api/monitor/alerts/channels lists them`, { field: 'name' });
  const channelList = z.object({ channels: z.array(channelViewSchema) });
  app.get(
    '/api/monitor/alerts/channels',
    {
      schema: {
        tags,
        summary: 'The alert channels, console first (secrets never shown, URLs masked)',
        response: { 200: channelList },
      },
    },
    async () => alerts.config.channelsView(),
  );
  // The body is read by the manager: a list of channels, or the first version's { email, webhook }.
  app.put(
    '/api/monitor/alerts/channels',
    {
      ...admin,
      schema: {
        tags,
        summary:
          "Replaces the list (omitted secrets are kept by name); the first version's { email, webhook } is taken too",
        body: channelListBodySchema,
        response: { 200: channelList },
      },
    },
    async (request) => {
      validated(() => alerts.config.setChannels(request.body));
      return alerts.config.channelsView();
    },
  );
  app.post(
    '/api/monitor/alerts/channels',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Adds a channel (409 when its name is taken)',
        body: channelBodySchema,
        response: { 201: channelViewSchema },
      },
    },
    async (request, reply) => reply.code(201).send(validated(() => alerts.config.addChannel(request.body))),
  );
  app.get(
    '/api/monitor/alerts/channels/:name',
    {
      schema: {
        tags,
        summary: 'One channel (secrets never shown)',
        params: channelParams,
        response: { 200: channelViewSchema },
      },
    },
    async (request) => alerts.config.channelView(request.params.name) ?? Promise.reject(noChannel(request.params.name)),
  );
  app.put(
    '/api/monitor/alerts/channels/:name',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Replaces one channel; omitted secrets and masked URLs are kept',
        params: channelParams,
        body: channelEditSchema,
        response: { 200: channelViewSchema },
      },
    },
    async (request) =>
      validated(() => alerts.config.updateChannel(request.params.name, request.body)) ??
      Promise.reject(noChannel(request.params.name)),
  );
  app.delete(
    '/api/monitor/alerts/channels/:name',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Deletes a channel (rules that name it are kept, and warned about)',
        params: channelParams,
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      if (!alerts.config.deleteChannel(request.params.name)) throw noChannel(request.params.name);
      return reply.code(204).send();
    },
  );
  app.post(
    '/api/monitor/alerts/channels/:name/test',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Sends a test notification on one channel',
        params: channelParams,
        response: { 200: channelTestSchema },
      },
    },
    async (request) => {
      const { name } = request.params;
      // A channel not set up is its 404; any other failure is what it is (a 5xx), not a 404.
      const attempts = await alerts.testChannel(name);
      return { channel: name, delivered: attempts.some((a) => a.ok), attempts };
    },
  );

  app.get(
    '/api/monitor/alerts/silences',
    {
      schema: { tags, summary: 'Silences', response: { 200: z.object({ silences: z.array(silenceAnswerSchema) }) } },
    },
    async () => ({ silences: [...alerts.config.silences] }),
  );
  app.post(
    '/api/monitor/alerts/silences',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Creates a silence (once, or daily in a time zone)',
        body: silenceInputSchema,
        response: { 201: silenceAnswerSchema },
      },
    },
    async (request, reply) => reply.code(201).send(alerts.config.addSilence(request.body)),
  );
  app.delete(
    '/api/monitor/alerts/silences/:id',
    { ...admin, schema: { tags, summary: 'Deletes a silence', params: idParams, response: { 204: noContent } } },
    async (request, reply) => {
      if (!alerts.config.deleteSilence(request.params.id))
        throw new AppError('NOT_FOUND', `No silence ${request.params.id}`);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/monitor/alerts/active',
    {
      schema: {
        tags,
        summary: 'What is pending or firing',
        response: { 200: z.object({ alerts: z.array(activeAlertSchema) }) },
      },
    },
    async () => ({ alerts: alerts.active() }),
  );
  // Acknowledge a firing alert from the console popup, or dismiss a per-request notice (by
  // its requestId: it has no state to acknowledge): every open tab closes it.
  app.post(
    '/api/monitor/alerts/active/ack',
    {
      schema: {
        tags,
        summary:
          'Acknowledges a firing alert in every open Monitor tab, or dismisses a per-request notice (with its requestId)',
        body: ackBodySchema,
        response: { 200: ackAnswerSchema },
      },
    },
    async (request) => {
      const body = request.body;
      if (body.requestId !== undefined) {
        if (!alerts.dismissRequestNotice(body.ruleId, body.requestId, body.by))
          throw new AppError(
            'NOT_FOUND',
            `No notice of rule ${body.ruleId} for request ${body.requestId} (dismissed already, or not among the last 200)`,
            { field: 'requestId' },
          );
        return { dismissed: true as const };
      }
      if (alerts.isPerRequest(body.ruleId))
        throw new AppError(
          'VALIDATION_FAILED',
          `requestId: rule ${body.ruleId} raises one notice per request; dismiss one with its requestId`,
          { field: 'requestId' },
        );
      if (!alerts.acknowledge(body.ruleId, body.labels, body.by))
        throw new AppError(
          'NOT_FOUND',
          `No firing alert for rule ${body.ruleId} with labels ${JSON.stringify(body.labels)}`,
          { field: 'ruleId' },
        );
      return { acknowledged: true as const };
    },
  );
  app.get(
    '/api/monitor/alerts/history',
    {
      schema: {
        tags,
        summary: 'State changes and delivery attempts, newest first',
        querystring: historyQuery,
        response: { 200: z.object({ history: z.array(historyEntrySchema) }) },
      },
    },
    async (request) => ({ history: alerts.historyQuery(request.query) }),
  );
}
