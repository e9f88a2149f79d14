// A rule is a few kilobytes at most: label count, label names (Prometheus' own) and values,
// its name and its durations are bounded, each refusal a 400 naming the field; nothing is
// saved. A rule saved before these limits still loads and evaluates, and the export says
// it must be edited first.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RULE_LIMITS } from '../../src/alerts/rule-schema.js';
import { MAX_DURATION_CHARS } from '../../src/duration.js';
import { postJson, startApp, steppedClock, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(dataDir?: string) {
  const app = await startApp(dataDir ? { DATA_DIR: dataDir } : {}, { clock: steppedClock(), probes: false });
  cleanups.push(() => app.close());
  return app;
}

const base = { name: 'GPU memory', metric: 'gpu_memory_utilization_percent', op: '>', threshold: 90 };
const post = (app: TestApp, body: unknown, path = '/rules') =>
  postJson(`${app.baseUrl}/api/monitor/alerts${path}`, body);
const rulesFile = (app: TestApp) => join(app.dataDir, 'alert-rules.json');
const fileBytes = (app: TestApp) => {
  try {
    return statSync(rulesFile(app)).size;
  } catch {
    return 0;
  }
};

describe('rule limits', () => {
  it('refuses each oversize or ill-formed part with a 400 naming the field, and saves nothing', async () => {
    const app = await start();
    expect((await post(app, { ...base, labels: { gpu: '0' } })).status).toBe(201);
    const before = fileBytes(app);
    const many = Object.fromEntries(Array.from({ length: RULE_LIMITS.labels + 1 }, (_, i) => [`l${i}`, '0']));
    const cases: Array<[unknown, string, RegExp]> = [
      // The adversarial run's injection: a label name that closed the selector in the export.
      [
        { ...base, labels: { 'gpu="0"} or vector(1000) or x{y': '0' } },
        'labels.gpu="0"} or vector(1000) or x{y',
        /Prometheus label name/,
      ],
      [{ ...base, labels: many }, 'labels', /at most 16 labels \(got 17\)/],
      [{ ...base, labels: { __name__: 'x' } }, 'labels.__name__', /reserved by Prometheus/],
      [{ ...base, labels: { '0gpu': 'x' } }, 'labels.0gpu', /not starting with a digit/],
      [{ ...base, labels: { gpu: 'x'.repeat(RULE_LIMITS.labelValueChars + 1) } }, 'labels.gpu', /at most 256/],
      [{ ...base, labels: { gpu: '\ud800' } }, 'labels.gpu', /lone UTF-16 surrogate/],
      [{ ...base, name: 'n'.repeat(RULE_LIMITS.nameChars + 1) }, 'name', /at most 200 characters/],
      [{ ...base, for: `1${' '.repeat(120_000)}x` }, 'for', /at most 32 characters/],
      [{ ...base, keepFiringFor: '2y' }, 'keepFiringFor', /at most 1y/],
      [{ ...base, and: { metric: 'gpu_utilization_percent', op: '>', threshold: 1, for: '1h1h' } }, 'and.for', /1h30m/],
      [
        { ...base, and: { metric: 'gpu_utilization_percent', op: '>', threshold: 1, labels: { 'a-b': '1' } } },
        'and.labels.a-b',
        /Prometheus label name/,
      ],
      // Labels that match no series: the rule would be saved and never fire.
      [
        { ...base, labels: { bogus: '1' } },
        'labels.bogus',
        /gpu_memory_utilization_percent has no label bogus \(its labels: gpu\)/,
      ],
      [{ ...base, labels: { gpu: '' } }, 'labels.gpu', /expected a value/],
      [
        { ...base, and: { metric: 'cpu_load_percent', op: '>', threshold: 1, labels: { gpu: '0' } } },
        'and.labels.gpu',
        /cpu_load_percent has no label gpu \(it has none\)/,
      ],
    ];
    for (const [body, field, message] of cases) {
      const res = await post(app, body);
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'VALIDATION_FAILED', field });
      expect(res.json.error.message).toMatch(message);
    }
    expect(fileBytes(app)).toBe(before);
  });

  it('names an over-long key by its first characters only', async () => {
    const app = await start();
    const key = 'k'.repeat(200_000); // within the rules route's body limit
    const res = await post(app, { ...base, labels: { [key]: '0' } });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe(`labels.${'k'.repeat(64)}…(200000 chars)`);
    expect(res.json.error.message).toMatch(/at most 64 characters/);
    expect(res.text.length).toBeLessThan(1_000);
    const unknown = await post(app, {
      ...base,
      [key]: 1,
      ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`x${i}`, i])),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.field).toBe(`${'k'.repeat(64)}…(200000 chars)`);
    expect(unknown.json.error.message).toContain('(also "x1", "x2", "x3", 2 more)');
    expect(unknown.text.length).toBeLessThan(1_000);
  });

  it(`answers a ${MAX_DURATION_CHARS + 1}-character duration on the test route at once, and takes 1h30m`, async () => {
    const app = await start();
    const res = await post(app, { ...base, for: `1${' '.repeat(120_000)}x` }, '/rules/test');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ field: 'for' });
    const ok = await post(app, { ...base, for: '1h30m', labels: { gpu: '0' } });
    expect(ok.status).toBe(201);
    const yaml = await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
    expect(yaml).toContain('for: "1h30m"');
  });

  it('loads a rule saved before the limits, and the export says to edit it', async () => {
    const first = await start();
    expect((await post(first, { ...base, labels: { gpu: '0' } })).status).toBe(201);
    const doc = JSON.parse(readFileSync(rulesFile(first), 'utf8')) as { data: Array<Record<string, unknown>> };
    doc.data[0]!.labels = {
      'gpu-index': '0',
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`l${i}`, ''])),
    };
    doc.data[0]!.name = 'x'.repeat(300);
    writeFileSync(rulesFile(first), JSON.stringify(doc));
    const again = await start(first.dataDir);
    const rules = ((await (await fetch(`${again.baseUrl}/api/monitor/alerts/rules`)).json()) as any).rules;
    expect(rules).toHaveLength(1);
    const yaml = await (await fetch(`${again.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
    expect(yaml).toMatch(
      /^# {3}x{300} \(.+\): saved before today's rule limits \(labels: expected at most 16 labels \(got 21\)\): edit the rule to export it$/m,
    );
    // Not exported: the only alert is the export's own check of the node's names.
    expect([...yaml.matchAll(/^ {6}- alert: (.+)$/gm)].map((m) => m[1])).toEqual(['"Qwen3VLMonitorLabelsDisagree"']);
  });
});
