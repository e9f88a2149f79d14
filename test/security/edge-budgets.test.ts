// Budgets before work, at the HTTP edge: every route's body limit fits the route (the
// sign-in form takes kilobytes, not 50 MiB) and its 413 names that limit; the JSON
// budgets refuse the issue's `[{},{},…]` before it is parsed; a client that must
// authenticate (Monitor token, admin token, API key) is refused before its body is read.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers.js';
import { bodyRoutes } from './routes.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startApp({ UPSTREAM_URL: 'http://127.0.0.1:9/v1', ...env }, { probes: false });
  cleanups.push(() => app.close());
  return app;
}

const KiB = 1024;
const MODEL = 'BODY_LIMIT_BYTES';
/** The limits docs/RELIABILITY.md ("Budgets at the edge") promises, by route. */
const LIMITS: Record<string, number | typeof MODEL> = {
  'POST /api/monitor/login': 4 * KiB,
  'POST /api/monitor/logout': 1 * KiB,
  'POST /api/monitor/logs/boost': 16 * KiB,
  'POST /api/monitor/alerts/rules': 256 * KiB,
  'PUT /api/monitor/alerts/rules/:id': 256 * KiB,
  'POST /api/monitor/alerts/rules/test': 256 * KiB,
  'POST /api/monitor/alerts/presets/:id/import': 16 * KiB,
  'PUT /api/monitor/alerts/channels': 256 * KiB,
  'POST /api/monitor/alerts/channels': 64 * KiB,
  'PUT /api/monitor/alerts/channels/:name': 64 * KiB,
  'POST /api/monitor/alerts/channels/:name/test': 16 * KiB,
  'POST /api/monitor/alerts/silences': 16 * KiB,
  'POST /api/monitor/alerts/active/ack': 16 * KiB,
  'POST /api/gui/feedback': 8 * KiB,
  'POST /api/ocr': MODEL,
  'POST /api/gui/execute': MODEL,
  'POST /api/video': MODEL,
  'POST /v1/chat/completions': MODEL,
};

/** A JSON body of exactly `bytes` bytes. */
const bodyOf = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - '{"pad":""}'.length) });

describe('body limits per route', () => {
  it('gives every route a limit that fits it, and the 413 names that limit', async () => {
    const modelLimit = 1024 * KiB;
    const app = await setup({ BODY_LIMIT_BYTES: String(modelLimit) });
    const routes = bodyRoutes(app.app);
    const unlisted = routes.map((r) => `${r.method} ${r.pattern}`).filter((k) => !(k in LIMITS));
    expect(unlisted, 'a new route: give it a limit in src/security/body-limits.ts and here').toEqual([]);
    for (const r of routes) {
      const where = `${r.method} ${r.pattern}`;
      const listed = LIMITS[where]!;
      const limit = listed === MODEL ? modelLimit : listed;
      const send = (payload: string) =>
        app.app.inject({
          method: r.method as 'POST',
          url: r.url,
          headers: { 'content-type': 'application/json' },
          payload,
        });
      const over = await send(bodyOf(limit + 1));
      expect(over.statusCode, where).toBe(413);
      expect(over.json().error.message, where).toBe(
        listed === MODEL
          ? `The request body is larger than the limit of ${limit} bytes (BODY_LIMIT_BYTES)`
          : `The request body is larger than the limit of ${limit} bytes for ${where} (this route's own limit; docs/RELIABILITY.md#budgets-at-the-edge)`,
      );
      expect((await send(bodyOf(limit))).statusCode, where).not.toBe(413);
    }
    // The pass-through to the model server keeps BODY_LIMIT_BYTES too.
    const passthrough = await app.app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: { 'content-type': 'application/json' },
      payload: bodyOf(modelLimit + 1),
    });
    expect(passthrough.json().error.message).toContain(`${modelLimit} bytes (BODY_LIMIT_BYTES)`);
  });

  it('takes any rule the rule schema could accept: a rule with 64 labels of 1 KiB is not refused for its size', async () => {
    const app = await setup();
    const labels = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`label_${i}`, 'v'.repeat(1024)]));
    const res = await app.app.inject({
      method: 'POST',
      url: '/api/monitor/alerts/rules/test',
      payload: { name: 'big', metric: 'gpu_temperature_celsius', op: '>', threshold: 1, labels },
    });
    expect(res.statusCode).not.toBe(413);
  });

  it('answers a 50 MiB `[{},…]` sent to the sign-in form from afar with 413 at once, and stays up', async () => {
    const app = await setup();
    const port = Number(new URL(app.baseUrl).port);
    const total = 50 * 1024 * KiB;
    const answer = await new Promise<{ head: string; sent: number }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let head = '';
      let sent = 0;
      let answered = false;
      socket.on('data', (d) => {
        head += d;
        if (!answered && head.includes('\r\n\r\n')) {
          answered = true;
          resolve({ head, sent });
          socket.destroy();
        }
      });
      socket.on('error', (err) => (answered ? undefined : reject(err)));
      socket.write(
        `POST /api/monitor/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 203.0.113.9\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n[`,
      );
      const chunk = '{},'.repeat(64 * 1024);
      const pump = () => {
        while (!answered && sent < total - chunk.length) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    expect(answer.head).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.head).toMatch(/connection: close/i);
    expect(answer.sent).toBeLessThan(total / 4);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  });
});

describe('JSON budgets', () => {
  it("refuses the issue's 5.7 MiB `[{},{},…]` before parsing it, naming the budget", async () => {
    const app = await setup();
    const post = (payload: string) =>
      app.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        payload,
      });
    const flat = await post(`[${'{},'.repeat(1_990_000)}{}]`);
    expect(flat.statusCode).toBe(413);
    expect(flat.json().error).toMatchObject({
      code: 'BODY_TOO_LARGE',
      message: expect.stringMatching(
        /^\(body\): more than 10000 entries in one list or object \(the JSON width budget/,
      ),
    });
    // The same values in lists of 5 000: within the width, past the node budget.
    const lists = `[${Array(400)
      .fill(`[${'{},'.repeat(4_999)}{}]`)
      .join(',')}]`;
    expect(lists.length).toBeGreaterThan(5.7 * 1024 * KiB);
    const nested = await post(lists);
    expect(nested.statusCode).toBe(413);
    expect(nested.json().error).toMatchObject({
      code: 'BODY_TOO_LARGE',
      message: expect.stringMatching(/^The request body has more than 100000 JSON values \(the JSON node budget/),
    });
    const wide = await post(
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stop: Array(20_000).fill('x') }),
    );
    expect(wide.statusCode).toBe(413);
    expect(wide.json().error).toMatchObject({
      field: 'stop',
      message: expect.stringMatching(/^stop: more than 10000 entries in one list or object \(the JSON width budget/),
    });
    expect((await app.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('authentication before the body is read', () => {
  // A body the parser would refuse (400): a client refused first gets 401 instead.
  const notJson = '{"not json';
  const send = (app: TestApp, url: string, headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    app.app.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers: { 'content-type': 'application/json', ...headers },
      payload: notJson,
    });

  it('checks the Monitor token, the admin token and the API key before parsing', async () => {
    const app = await setup({ MONITOR_ADMIN_TOKEN: 'admin-token-0123456789', API_KEYS: 'client-key-0123456789' });
    expect((await send(app, '/api/monitor/alerts/rules', {}, '203.0.113.7')).statusCode).toBe(401);
    for (const headers of [{}, { 'x-admin-token': 'wrong-admin-token-0123' }]) {
      const res = await send(app, '/api/monitor/alerts/rules', headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('X-Admin-Token');
    }
    expect(
      (await send(app, '/api/monitor/alerts/rules', { 'x-admin-token': 'admin-token-0123456789' })).statusCode,
    ).toBe(400);
    for (const url of ['/v1/chat/completions', '/api/ocr', '/api/gui/feedback', '/v1/embeddings']) {
      expect((await send(app, url, {})).statusCode, url).toBe(401);
      expect((await send(app, url, { authorization: 'Bearer wrong-key-0123456789' })).statusCode, url).toBe(401);
    }
    expect(
      (await send(app, '/v1/chat/completions', { authorization: 'Bearer client-key-0123456789' })).statusCode,
    ).toBe(400);
  });

  it('closes the connection of a refused client rather than read the 40 MiB it announced', async () => {
    const app = await setup({ API_KEYS: 'client-key-0123456789' });
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(app.baseUrl).port), '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: ${40 * 1024 * KiB}\r\n\r\n{"messages":[`,
      );
    });
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head).toMatch(/connection: close/i);
  });
});
