// The alert API: rules CRUD, presets and import, channels (a list by name; secrets
// write-only), test notifications, active alerts and history. A rule names only channels
// that are set up (rule-channels.ts). Every body is strict: an unknown key is a 400
// naming it. Mutations need MONITOR_ADMIN_TOKEN (header X-Admin-Token) when one is set.
import type { FastifyInstance } from 'fastify';
import { z, ZodError } from 'zod';
import type { HistoryEntry } from '../alerts/history.js';
import type { AlertManager } from '../alerts/manager.js';
import { PRESETS } from '../alerts/presets.js';
import { explainRule } from '../alerts/explain.js';
import { presetChannels } from '../alerts/rule-channels.js';
import { rulesYaml } from '../alerts/prometheus-rules.js';
import { ruleInputSchema, SEVERITIES, type Rule } from '../alerts/rule-schema.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { AppError } from '../errors.js';
import { adminTokenCheck } from '../security/admin-token.js';
import { parseOrThrow, validationError } from '../validation.js';

export const historyQuery = z.object({
  ruleId: z.string().optional(),
  severity: z.enum(SEVERITIES).optional(),
  since: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(5_000).optional(),
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
}

/** The path parameters of the alert routes, checked here and described in /docs/json. */
export const idParams = z.object({ id: z.string().min(1) });
export const channelParams = z.object({ name: z.string().min(1) });

export async function alertRoutes(app: FastifyInstance, opts: AlertRouteOptions): Promise<void> {
  const { alerts } = opts;
  // Checked before the body is read, and throttled per address (security/admin-token.ts).
  // (`config.adminToken` tells the API description which routes ask for it.)
  const admin = { onRequest: adminTokenCheck(opts.adminToken, opts.clock), config: { adminToken: true } };
  const notFound = (id: string) => new AppError('NOT_FOUND', `No alert rule ${id}`);

  app.get('/api/monitor/alerts/rules', async () => ({ rules: alerts.rules }));
  // The rules as a Prometheus alerting-rules file (docs/SCALE-OUT.md): PromQL over /metrics.
  app.get('/api/monitor/alerts/rules/export.prometheus.yml', async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(
      rulesYaml(alerts.rules, {
        intervalMs: opts.intervalMs,
        windowMs: opts.windowMs,
        modelEndpoints: opts.modelEndpoints(),
      }),
    ),
  );
  app.get('/api/monitor/alerts/rules/:id', async (request) => {
    const { id } = parseOrThrow(idParams, request.params);
    return alerts.rules.find((r) => r.id === id) ?? Promise.reject(notFound(id));
  });
  app.post('/api/monitor/alerts/rules', admin, async (request, reply) => {
    return reply.code(201).send(validated(() => alerts.addRule(request.body)));
  });
  app.put('/api/monitor/alerts/rules/:id', admin, async (request) => {
    const { id } = parseOrThrow(idParams, request.params);
    return validated(() => alerts.updateRule(id, request.body)) ?? Promise.reject(notFound(id));
  });
  app.delete('/api/monitor/alerts/rules/:id', admin, async (request, reply) => {
    const { id } = parseOrThrow(idParams, request.params);
    if (!alerts.deleteRule(id)) throw notFound(id);
    return reply.code(204).send();
  });

  // "Test rule": would this rule be firing now on the data of the last hour, and why.
  // `?ruleId=`: the rule being edited, whose channels deleted since are kept as a save would keep them.
  app.post('/api/monitor/alerts/rules/test', async (request) => {
    const { ruleId } = parseOrThrow(z.strictObject({ ruleId: z.string().min(1).optional() }), request.query);
    const rule = validated(() => ({ id: 'test', ...ruleInputSchema.parse(request.body) }) as Rule);
    alerts.checkChannels(rule.channels, ruleId);
    return explainRule(rule, opts.store, opts.clock(), opts.intervalMs);
  });
  app.get('/api/monitor/alerts/rules/:id/test', async (request) => {
    const { id } = parseOrThrow(idParams, request.params);
    const rule = alerts.rules.find((r) => r.id === id);
    if (!rule) throw notFound(id);
    return explainRule(rule, opts.store, opts.clock(), opts.intervalMs);
  });

  // Each preset says which of its channels are not set up (importing it leaves them out)
  // and, once imported, which of them its rule lacks (import again to add those set up since).
  app.get('/api/monitor/alerts/presets', async () => {
    const known = alerts.channelNames();
    return {
      presets: PRESETS.map((p) => {
        const rule = alerts.rules.find((r) => r.id === `preset:${p.id}`);
        const wanted = p.rule.channels ?? [];
        return {
          ...p,
          imported: rule !== undefined,
          channelsNotSetUp: presetChannels(wanted, known).notSetUp,
          channelsLeftOut: rule ? wanted.filter((c) => !rule.channels.includes(c)) : [],
        };
      }),
    };
  });
  // Answers { rule, channelsNotSetUp }: the rule as imported, and the preset's channels left out.
  app.post('/api/monitor/alerts/presets/:id/import', admin, async (request) => {
    const { id } = parseOrThrow(idParams, request.params);
    return (
      alerts.importPreset(id) ??
      Promise.reject(new AppError('NOT_FOUND', `No preset ${id}; GET /api/monitor/alerts/presets lists them`))
    );
  });

  // Channels: a list of named channels (console built in). PUT replaces the list (or, in
  // the first version's shape, the channels named email and webhook); one channel is
  // added with POST and changed or removed by name. Secrets are never returned.
  const noChannel = (name: string) =>
    new AppError('NOT_FOUND', `No channel ${name}; GET /api/monitor/alerts/channels lists them`, { field: 'name' });
  app.get('/api/monitor/alerts/channels', async () => alerts.channelsView());
  app.put('/api/monitor/alerts/channels', admin, async (request) => {
    validated(() => alerts.setChannels(request.body));
    return alerts.channelsView();
  });
  app.post('/api/monitor/alerts/channels', admin, async (request, reply) => {
    return reply.code(201).send(validated(() => alerts.addChannel(request.body)));
  });
  app.get('/api/monitor/alerts/channels/:name', async (request) => {
    const { name } = parseOrThrow(channelParams, request.params);
    return alerts.channelView(name) ?? Promise.reject(noChannel(name));
  });
  app.put('/api/monitor/alerts/channels/:name', admin, async (request) => {
    const { name } = parseOrThrow(channelParams, request.params);
    return validated(() => alerts.updateChannel(name, request.body)) ?? Promise.reject(noChannel(name));
  });
  app.delete('/api/monitor/alerts/channels/:name', admin, async (request, reply) => {
    const { name } = parseOrThrow(channelParams, request.params);
    if (!alerts.deleteChannel(name)) throw noChannel(name);
    return reply.code(204).send();
  });
  app.post('/api/monitor/alerts/channels/:name/test', admin, async (request) => {
    const { name } = parseOrThrow(channelParams, request.params);
    let attempts: HistoryEntry[];
    try {
      attempts = await alerts.testChannel(name);
    } catch (err) {
      throw new AppError('NOT_FOUND', (err as Error).message, { field: 'name' });
    }
    return { channel: name, delivered: attempts.some((a) => a.ok), attempts };
  });

  app.get('/api/monitor/alerts/silences', async () => ({ silences: alerts.silences }));
  app.post('/api/monitor/alerts/silences', admin, async (request, reply) => {
    return reply.code(201).send(validated(() => alerts.addSilence(request.body)));
  });
  app.delete('/api/monitor/alerts/silences/:id', admin, async (request, reply) => {
    const { id } = parseOrThrow(idParams, request.params);
    if (!alerts.deleteSilence(id)) throw new AppError('NOT_FOUND', `No silence ${id}`);
    return reply.code(204).send();
  });

  app.get('/api/monitor/alerts/active', async () => ({ alerts: alerts.active() }));
  // Acknowledge a firing alert from the console popup, or dismiss a per-request notice (by
  // its requestId: it has no state to acknowledge): every open tab closes it.
  app.post('/api/monitor/alerts/active/ack', async (request) => {
    const body = parseOrThrow(
      z.strictObject({
        ruleId: z.string().min(1),
        labels: z.record(z.string(), z.string()).default({}),
        by: z.string().max(100).default('operator'),
        /** A per-request notice: the request it is about (it is dismissed, not acknowledged). */
        requestId: z.string().min(1).max(200).optional(),
      }),
      request.body,
    );
    if (body.requestId !== undefined) {
      if (!alerts.dismissRequestNotice(body.ruleId, body.requestId, body.by))
        throw new AppError(
          'NOT_FOUND',
          `No notice of rule ${body.ruleId} for request ${body.requestId} (dismissed already, or not among the last 200)`,
          { field: 'requestId' },
        );
      return { dismissed: true };
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
    return { acknowledged: true };
  });
  app.get('/api/monitor/alerts/history', async (request) => {
    const q = parseOrThrow(historyQuery, request.query);
    return { history: alerts.historyQuery(q) };
  });
}
