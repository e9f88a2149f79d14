// GET /api/monitor/catalogue publishes each list the UI picks from as the server itself
// defines it: the rule schema's enums, the channel registry's kinds, the webhook formats,
// the model-layer modules and stages, the log's levels and modules. Each list is checked
// against the definition it comes from and against what the API then accepts.
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_TYPES } from '../../src/alerts/notifiers/registry.js';
import { webhookChannel } from '../../src/alerts/notifiers/webhook.js';
import { conditionSchema, ruleInputSchema } from '../../src/alerts/rule-schema.js';
import { LEVELS, LOG_MODULES } from '../../src/log/event-log.js';
import { catalogue } from '../../src/metrics/catalogue.js';
import { MODEL_MODULES } from '../../src/metrics/model-snapshot.js';
import { MODULES, STAGES } from '../../src/metrics/model-stats.js';
import { catalogueResponse } from '../../src/routes/catalogue.js';
import { postJson, startApp, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(): Promise<{ app: TestApp; body: any }> {
  const app = await startApp({}, { probes: false });
  cleanups.push(() => app.close());
  const res = await fetch(`${app.baseUrl}/api/monitor/catalogue`);
  expect(res.status).toBe(200);
  return { app, body: await res.json() };
}

/** The options of a zod enum, whatever default or optional wraps it. */
function enumOptions(schema: unknown): string[] {
  let s = schema as { options?: string[]; unwrap?: () => unknown; def?: { innerType?: unknown } };
  while (!s.options) s = (s.def?.innerType ?? s.unwrap?.()) as typeof s;
  return [...s.options];
}

describe('GET /api/monitor/catalogue', () => {
  it('answers what its published schema describes', async () => {
    const { body } = await setup();
    expect(() => catalogueResponse.strict().parse(body)).not.toThrow();
    expect(body.metrics).toEqual([...catalogue.values()].map((m) => JSON.parse(JSON.stringify(m))));
  });

  it("lists the rule schema's own operators, severities and no-data choices, and the API takes each", async () => {
    const { app, body } = await setup();
    expect(body.rules.ops).toEqual(enumOptions(conditionSchema.shape.op));
    expect(body.rules.severities).toEqual(enumOptions(ruleInputSchema.shape.severity));
    expect(body.rules.noData).toEqual(enumOptions(ruleInputSchema.shape.noData));
    // The defaults are what a rule gets for a field left out.
    const bare = ruleInputSchema.parse({ name: 'x', metric: 'cpu_load_percent', op: '>', threshold: 1 });
    expect(body.rules.defaults).toEqual({
      severity: bare.severity,
      noData: bare.noData,
      repeatInterval: bare.repeatInterval,
      channels: bare.channels,
    });
    for (const [i, op] of body.rules.ops.entries()) {
      const severity = body.rules.severities[i % body.rules.severities.length];
      const noData = body.rules.noData[i % body.rules.noData.length];
      const res = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
        name: `r${i}`,
        metric: 'cpu_load_percent',
        op,
        threshold: 50,
        severity,
        noData,
      });
      expect(res.status, res.text).toBe(201);
    }
    expect(
      (
        await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
          name: 'x',
          metric: 'cpu_load_percent',
          op: '!=',
          threshold: 1,
        })
      ).json.error.message,
    ).toContain(body.rules.ops.join(', '));
    // The special forms name their metric: the API refuses them on any other.
    const sample = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
      name: 's',
      metric: 'cpu_load_percent',
      op: '>',
      threshold: 1,
      sampleSeconds: 5,
    });
    expect(sample.json.error.message).toContain(body.rules.sampleMetric);
    const perRequest = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'p',
      metric: 'cpu_load_percent',
      op: '>',
      threshold: 1,
      perRequest: true,
    });
    expect(perRequest.json.error.message).toContain(body.rules.perRequestMetric);
  });

  it("lists the registry's channel kinds and the webhook formats, and the API takes each format", async () => {
    const { app, body } = await setup();
    expect(body.channels.types).toEqual(CHANNEL_TYPES.map((t) => t.type));
    expect(body.channels.builtIn).toEqual(['console']);
    expect(body.channels.webhookFormats).toEqual(enumOptions(webhookChannel.input.shape.format));
    expect(body.channels.messageStyles).toEqual(enumOptions(webhookChannel.input.shape.style));
    expect(body.channels.robotFormats.every((f: string) => body.channels.webhookFormats.includes(f))).toBe(true);
    const unknownKind = await postJson(`${app.baseUrl}/api/monitor/alerts/channels`, { name: 'x', type: 'pager' });
    expect(unknownKind.json.error.message).toContain(body.channels.types.join(', '));
    for (const format of body.channels.webhookFormats) {
      const res = await postJson(`${app.baseUrl}/api/monitor/alerts/channels`, {
        name: `hook-${format}`,
        type: 'webhook',
        url: 'https://hooks.example/x',
        format,
      });
      expect(res.status, res.text).toBe(201);
    }
  });

  it('lists the model-layer modules and stages, and the log levels and modules', async () => {
    const { app, body } = await setup();
    expect(body.modules).toEqual([...MODULES]);
    expect(body.stages).toEqual([...STAGES]);
    expect(body.modelView.modules).toEqual([...MODEL_MODULES]);
    const model = (await (await fetch(`${app.baseUrl}/api/monitor/model`)).json()) as {
      modules: Array<{ module: string }>;
    };
    expect(model.modules.map((m) => m.module)).toEqual(body.modelView.modules);
    expect(body.log.levels).toEqual([...LEVELS]);
    expect(body.log.modules).toEqual([...LOG_MODULES]);
    for (const level of body.log.levels)
      expect((await fetch(`${app.baseUrl}/api/monitor/logs?level=${level}`)).status).toBe(200);
    expect(body.layers).toEqual([...new Set(body.metrics.map((m: { layer: string }) => m.layer))]);
  });

  it('is described in the OpenAPI document, answer included', async () => {
    const { app } = await setup();
    const spec = (await (await fetch(`${app.baseUrl}/docs/json`)).json()) as any;
    const op = spec.paths['/api/monitor/catalogue'].get;
    const schema = op.responses['200'].content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['metrics', 'rules', 'channels', 'modules', 'stages', 'log']),
    );
    expect(JSON.stringify(schema.properties.rules)).toContain('"critical"');
  });
});
