// Property-based fuzzing of every route's body (fast-check): malformed, deep, oversized,
// prototype-polluting and wrongly typed JSON, and mutations of each route's valid body.
// The properties: no answer is a 5xx, every refusal is the one error shape naming a field
// that was really sent with its real reason, and the server is alive at the end.
// FUZZ_RUNS (default 10 000) and FUZZ_SEED repeat or widen a run.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { MAX_JSON_DEPTH } from '../../src/security/json-body.js';
import { startApp, type TestApp } from '../helpers.js';
import { bodyRoutes, type RouteRef } from './routes.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

/** A 1×1 PNG. */
const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const RULE = {
  name: 'GPU hot',
  metric: 'gpu_temperature_celsius',
  labels: { gpu: '0' },
  op: '>',
  threshold: 85,
  consecutiveChecks: 3,
  severity: 'warning',
  channels: ['console'],
  repeatInterval: '4h',
};

/** A valid body for each route: the fuzzer mutates these, so it reaches past the first check. */
const EXAMPLES: Record<string, unknown> = {
  'POST /v1/chat/completions': {
    model: 'm',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image_url', image_url: { url: PNG } },
        ],
      },
    ],
    max_tokens: 8,
    temperature: 0.5,
  },
  'POST /api/ocr': { image: PNG, language: 'en' },
  'POST /api/gui/execute': { screenshot: PNG, instruction: 'click login', history: ['opened the app'] },
  'POST /api/gui/feedback': { stepId: 'step-1', success: false, reason: 'missed' },
  'POST /api/video': { frames: [PNG, PNG, PNG, PNG], question: 'what happens?', framesFps: 2 },
  'POST /api/monitor/login': { token: 'a-wrong-token-of-length' },
  'POST /api/monitor/logs/boost': { minutes: 5 },
  'POST /api/monitor/alerts/rules': RULE,
  'POST /api/monitor/alerts/rules/test': RULE,
  'PUT /api/monitor/alerts/rules/:id': RULE,
  'PUT /api/monitor/alerts/channels': {
    webhook: { url: 'https://hooks.example/x', format: 'generic', timeoutMs: 1000 },
    email: { host: 'smtp.example', port: 587, from: 'a@example.com', to: ['b@example.com'] },
  },
  'POST /api/monitor/alerts/silences': {
    kind: 'daily',
    start: '01:50',
    end: '02:10',
    timeZone: 'Asia/Shanghai',
    matchers: { severity: 'warning' },
    comment: 'hot update',
  },
  'POST /api/monitor/alerts/active/ack': { ruleId: 'r', labels: { gpu: '0' }, by: 'lin' },
};

/** Routes whose body is not read and whose work is an outgoing call (a channel test): not fuzzed. */
const SKIP = new Set(['POST /api/monitor/alerts/channels/:kind/test']);

let fake: FakeUpstream;
let app: TestApp;
let routes: RouteRef[];

beforeAll(async () => {
  fake = await startFakeUpstream({ behavior: { errorRate: 0, ttftMs: 0, tokenIntervalMs: 0, spread: 0, tokens: 3 } });
  app = await startApp(
    { UPSTREAM_URL: fake.url, UPSTREAM_MODEL: 'm', LOG_LEVEL: 'silent', LOG_SAMPLE_RATE: '0' },
    { probes: false, alertSleep: async () => {} },
  );
  routes = bodyRoutes(app.app).filter((r) => !SKIP.has(`${r.method} ${r.pattern}`));
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

/** Every path to a value inside `v` (the fuzzer replaces or removes one). */
function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}

function setAt(base: unknown, path: Array<string | number>, value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy: any = structuredClone(base);
  let cur = copy;
  for (const p of path.slice(0, -1)) cur = cur[p];
  const last = path.at(-1)!;
  if (remove) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ minLength: 0, maxLength: 30 }),
  fc.string({ minLength: 4_000, maxLength: 12_000 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    -1e-308,
    2 ** 53 + 1,
    '',
    ' ',
    '\u0000',
    '\uD800',
    'data:,',
    'http://',
    '../../etc/passwd',
    '<script>alert(1)</script>',
  ),
  fc.array(fc.constantFrom(PNG, '', 'x', null), { maxLength: 40 }),
);

type Case = { route: RouteRef; kind: string; body: string };

const caseArb: fc.Arbitrary<Case> = fc.nat().chain((n) => {
  const route = routes[n % routes.length]!;
  const example = EXAMPLES[`${route.method} ${route.pattern}`] ?? {};
  const ps = paths(example);
  const text =
    (kind: string) =>
    (b: string): Case => ({ route, kind, body: b });
  return fc.oneof(
    {
      weight: 40,
      arbitrary: fc
        .tuple(fc.nat(), oddValue, fc.boolean())
        .map(([i, v, remove]) =>
          text('mutated')(JSON.stringify(setAt(example, ps[i % ps.length]!, v, remove && ps.length > 1))),
        ),
    },
    { weight: 15, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => text('random')(JSON.stringify(v) ?? 'null')) },
    { weight: 10, arbitrary: fc.string({ maxLength: 200 }).map(text('garbage')) },
    {
      weight: 5,
      arbitrary: fc.nat().map((i) => {
        const s = JSON.stringify(example);
        return text('truncated')(s.slice(0, i % Math.max(1, s.length)));
      }),
    },
    {
      weight: 10,
      arbitrary: fc
        .tuple(fc.integer({ min: 2, max: 5_000 }), fc.boolean())
        .map(([d, arr]) =>
          text('deep')(arr ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`),
        ),
    },
    {
      weight: 10,
      arbitrary: fc
        .tuple(
          fc.nat(),
          fc.constantFrom(
            '"__proto__":{"polluted":1}',
            '"constructor":{"prototype":{"polluted":1}}',
            '"__proto__":null',
          ),
        )
        .map(([i, key]) => {
          // The key goes into the body itself or into one of its objects.
          const s = JSON.stringify(example);
          const opens = [...s.matchAll(/\{/g)].map((m) => m.index!);
          if (opens.length === 0) return text('proto')(`{${key}}`);
          const at = opens[i % opens.length]! + 1;
          return text('proto')(`${s.slice(0, at)}${key}${s[at] === '}' ? '' : ','}${s.slice(at)}`);
        }),
    },
    {
      weight: 10,
      arbitrary: fc
        .tuple(fc.nat(), fc.integer({ min: 5_000, max: 40_000 }))
        .map(([i, len]) => text('long')(JSON.stringify(setAt(example, ps[i % ps.length]!, 'x'.repeat(len), false)))),
    },
  );
});

/** The value at a field path such as `messages[0].content` in the sent JSON, or undefined. */
function sentAt(body: string, field: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[m[1] ?? m[2]!];
  }
  return v;
}

const timing = new Map<string, number>();
const stats = { cases: 0, byStatus: new Map<number, number>(), byKind: new Map<string, number>() };

describe(`fuzzing every route's body (${RUNS} cases)`, () => {
  it('never answers 5xx, refuses in one error shape with the real reason, and stays up', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(14);
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ route, kind, body }) => {
        const t0 = performance.now();
        const res = await app.app.inject({
          method: route.method as 'POST',
          url: route.url,
          headers: { 'content-type': 'application/json' },
          payload: body,
        });
        const key = `${route.method} ${route.pattern} ${res.statusCode}`;
        timing.set(key, (timing.get(key) ?? 0) + performance.now() - t0);
        stats.cases++;
        stats.byStatus.set(res.statusCode, (stats.byStatus.get(res.statusCode) ?? 0) + 1);
        stats.byKind.set(kind, (stats.byKind.get(kind) ?? 0) + 1);
        const where = `${route.method} ${route.pattern} (${kind}) → ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect(res.statusCode, where).toBeLessThan(500);
        if (res.statusCode < 400) return;
        const json = res.json();
        expect(Object.keys(json), where).toEqual(['error']);
        expect(typeof json.error.code, where).toBe('string');
        expect(typeof json.error.message, where).toBe('string');
        if (json.error.field !== undefined) {
          expect(typeof json.error.field, where).toBe('string');
          // "required" only for what was not sent.
          const sent = sentAt(body, json.error.field);
          if (sent !== undefined) expect(json.error.message, where).not.toMatch(/: required/);
        }
        if (kind === 'deep' && body.length > 2 * (MAX_JSON_DEPTH + 1) * 5) {
          expect(json.error.message, where).toMatch(/nested deeper than 64 levels|larger than the limit/);
        }
        if (kind === 'proto')
          expect(json.error.message, where).toMatch(/is not allowed|not valid JSON|larger than the limit/);
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS);
    // Alive, over a real socket.
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    if (process.env.FUZZ_REPORT)
      console.log(
        [...timing]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([k, v]) => `${k}: ${Math.round(v)} ms`)
          .join('\n'),
      );
    if (process.env.FUZZ_REPORT)
      console.log({
        cases: stats.cases,
        byStatus: Object.fromEntries(stats.byStatus),
        byKind: Object.fromEntries(stats.byKind),
      });
  }, 300_000);

  it("refuses the issue's examples with the real reason", async () => {
    const post = (url: string, payload: string) =>
      app.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
    const deep = await post(
      '/v1/chat/completions',
      `{"messages":[{"role":"user","content":"hi"}],"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    );
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/^extra(\[0\])+: nested deeper than 64 levels$/),
    });
    const proto = await post('/api/ocr', `{"image":${JSON.stringify(PNG)},"__proto__":{"isAdmin":true}}`);
    expect(proto.statusCode).toBe(400);
    expect(proto.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: '__proto__',
      message: '__proto__: a key named __proto__ is not allowed',
    });
    const long = await post('/api/gui/execute', JSON.stringify({ screenshot: PNG, instruction: 'x'.repeat(5_000) }));
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({
      field: 'instruction',
      message: 'instruction: expected at most 4000 characters (got 5000)',
    });
    const typed = await post('/api/ocr', JSON.stringify({ image: 42 }));
    expect(typed.json().error.message).toBe(
      'image: expected the image as a data URL, base64 or an http(s) URL, got number',
    );
    const missing = await post('/api/ocr', '{}');
    expect(missing.json().error.message).toBe('image: required: the image as a data URL, base64 or an http(s) URL');
  });
});
