// A key the route does not take, in the query of any reading API route, is refused by name
// (400), as an unknown key in a body is: `?limt=5` read as a quiet full answer, or
// `/api/monitor/snapshot?window=5m` read as the 1-minute cards, leaves the operator
// trusting an answer to a question they did not ask. Every GET route the API document
// lists is tried, so a route added later is held to it too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { startApp, type TestApp } from '../helpers.js';

let app: TestApp;
let close: () => Promise<void>;
beforeAll(async () => {
  const fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0 } });
  app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
  close = async () => {
    await app.close();
    await fake.close();
  };
});
afterAll(() => close());

/** A path parameter's value its route accepts, so the query is what is judged. */
const PARAMS: Record<string, string> = { seq: '1', file: '0123456789abcdef-1.jpg', id: 'x' };
/** The keys a route cannot answer without: with them, the unknown key is the only fault. */
const REQUIRED: Record<string, string> = { '/api/monitor/series': 'metric=cpu_load_percent&' };

describe('query keys', () => {
  it('refuses a key no reading API route takes, naming it, on every GET route of the API document', async () => {
    const doc = (await (await fetch(`${app.baseUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths)
      .filter(([path, ops]) => path.startsWith('/api/') && 'get' in ops && path !== '/api/monitor/stream')
      .map(([path]) => path.replace(/\{(\w+)\}/g, (_, name: string) => PARAMS[name] ?? '1'));
    expect(routes.length).toBeGreaterThan(15);
    const answers = await Promise.all(
      routes.map(async (path) => {
        const res = await fetch(`${app.baseUrl}${path}?${REQUIRED[path] ?? ''}limt=5`);
        const body = (await res.json()) as { error?: { message?: string } };
        return { path, status: res.status, names: body.error?.message?.includes('limt') ?? false };
      }),
    );
    expect(answers.filter((a) => a.status !== 400 || !a.names)).toEqual([]);
  });

  it('still reads the keys a route takes, and says which key was wrong beside them', async () => {
    expect((await fetch(`${app.baseUrl}/api/monitor/logs?level=warn&limit=5`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/api/monitor/snapshot`)).status).toBe(200);
    const res = await fetch(`${app.baseUrl}/api/monitor/series?metric=latency_ms_p95&windw=5m`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('windw');
  });
});
