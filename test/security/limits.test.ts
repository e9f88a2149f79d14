// Sizes and shapes have limits, and what is past them gets the API's one error shape:
// JSON bodies within BODY_LIMIT_BYTES on every route (/api/video's JSON too), MP4 uploads
// within VIDEO_MAX_BYTES, malformed HTTP and unreadable URLs, the number of alert rules,
// repeatInterval and surgeBaseline.
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

/** Sends raw bytes and returns the status line and the parsed JSON body of the answer. */
function raw(app: TestApp, bytes: string | Buffer): Promise<{ status: number; json: any; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(app.baseUrl).port), '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status: Number(text.slice(9, 12)), json: body ? JSON.parse(body) : undefined, text });
    });
    socket.write(bytes);
  });
}

describe('body sizes', () => {
  // Each route's own limit is tested in edge-budgets.test.ts; BODY_LIMIT_BYTES caps them all.
  it('refuses a JSON body over BODY_LIMIT_BYTES on every route that takes one, naming the limit', async () => {
    const app = await setup({ BODY_LIMIT_BYTES: '2048' });
    const routes = bodyRoutes(app.app);
    expect(routes.length).toBeGreaterThanOrEqual(15);
    const big = JSON.stringify({ pad: 'x'.repeat(3000) });
    for (const r of routes) {
      const res = await app.app.inject({
        method: r.method as 'POST',
        url: r.url,
        headers: { 'content-type': 'application/json' },
        payload: big,
      });
      expect(res.statusCode, `${r.method} ${r.pattern}`).toBe(413);
      expect(res.json().error, `${r.method} ${r.pattern}`).toMatchObject({
        code: 'BODY_TOO_LARGE',
        message:
          r.pattern === '/api/monitor/logout'
            ? "The request body is larger than the limit of 1024 bytes for POST /api/monitor/logout (this route's own limit; docs/RELIABILITY.md#budgets-at-the-edge)"
            : 'The request body is larger than the limit of 2048 bytes (BODY_LIMIT_BYTES)',
      });
    }
  });

  it('takes an MP4 upload up to VIDEO_MAX_BYTES on /api/video, but its JSON body only up to BODY_LIMIT_BYTES', async () => {
    const app = await setup({ BODY_LIMIT_BYTES: '2048', VIDEO_MAX_BYTES: '8192' });
    const json = await app.app.inject({
      method: 'POST',
      url: '/api/video',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ video: `data:video/mp4;base64,${'A'.repeat(4000)}`, question: 'what happens?' }),
    });
    expect(json.statusCode).toBe(413);
    expect(json.json().error.message).toContain('(BODY_LIMIT_BYTES)');
    // An upload larger than BODY_LIMIT_BYTES but within VIDEO_MAX_BYTES is read (and found not to be an MP4).
    const upload = await app.app.inject({
      method: 'POST',
      url: '/api/video?question=what',
      headers: { 'content-type': 'video/mp4' },
      payload: Buffer.alloc(6000, 7),
    });
    expect(upload.statusCode).toBe(400);
    expect(upload.json().error.field).toBe('video');
    const tooBig = await app.app.inject({
      method: 'POST',
      url: '/api/video?question=what',
      headers: { 'content-type': 'video/mp4' },
      payload: Buffer.alloc(9000, 7),
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.message).toBe(
      'The request body is larger than the limit of 8192 bytes (VIDEO_MAX_BYTES)',
    );
  });
});

describe('malformed HTTP', () => {
  it('answers bad header characters, oversized headers and unreadable URLs in the API error shape', async () => {
    const app = await setup();
    const badChar = await raw(app, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\x01b\r\n\r\n');
    expect(badChar.status).toBe(400);
    expect(badChar.json).toMatchObject({
      error: {
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/^Malformed HTTP request: Invalid header value char/),
      },
    });
    const huge = await raw(app, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge.status).toBe(431);
    expect(huge.json.error.code).toBe('HEADERS_TOO_LARGE');
    const badUrl = await raw(
      app,
      'GET /api/monitor/alerts/rules/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    expect(badUrl.status).toBe(400);
    expect(badUrl.json.error.code).toBe('BAD_REQUEST');
    expect(badUrl.json.error.message).toContain('not a valid url component');
  });

  it('refuses a timeout above the request timeout at start-up', async () => {
    await expect(setup({ HEADERS_TIMEOUT_MS: '90000', REQUEST_TIMEOUT_MS: '60000' })).rejects.toThrow(
      /HEADERS_TIMEOUT_MS="90000": expected at most REQUEST_TIMEOUT_MS/,
    );
  });
});

describe('alert rule limits', () => {
  const rule = (extra: Record<string, unknown> = {}) => ({
    name: 'r',
    metric: 'gpu_temperature_celsius',
    op: '>',
    threshold: 85,
    ...extra,
  });
  const post = (app: TestApp, url: string, payload?: object) =>
    app.app.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });

  it('keeps at most ALERT_RULES_MAX rules', async () => {
    const app = await setup({ ALERT_RULES_MAX: '2' });
    expect((await post(app, '/api/monitor/alerts/rules', rule())).statusCode).toBe(201);
    expect((await post(app, '/api/monitor/alerts/presets/gpu-lost/import')).statusCode).toBe(200);
    const third = await post(app, '/api/monitor/alerts/rules', rule());
    expect(third.statusCode).toBe(409);
    expect(third.json().error).toMatchObject({
      code: 'LIMIT_REACHED',
      message: 'There are 2 alert rules, the most allowed (ALERT_RULES_MAX=2); delete one first',
    });
    // Importing a preset again replaces it: not a new rule.
    expect((await post(app, '/api/monitor/alerts/presets/gpu-lost/import')).statusCode).toBe(200);
  });

  it('sends again at most once a minute, and compares against a baseline within the kept hour', async () => {
    const app = await setup();
    const fast = await post(app, '/api/monitor/alerts/rules', rule({ repeatInterval: '30s' }));
    expect(fast.statusCode).toBe(400);
    expect(fast.json().error).toMatchObject({
      field: 'repeatInterval',
      message: expect.stringContaining('at least 1m'),
    });
    expect((await post(app, '/api/monitor/alerts/rules', rule({ repeatInterval: '1m' }))).statusCode).toBe(201);
    const long = await post(
      app,
      '/api/monitor/alerts/rules',
      rule({ metric: 'requests_per_second', surgeBaseline: '2h' }),
    );
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({
      field: 'surgeBaseline',
      message: expect.stringContaining('at most 60m'),
    });
    expect(
      (await post(app, '/api/monitor/alerts/rules', rule({ metric: 'requests_per_second', surgeBaseline: '1h' })))
        .statusCode,
    ).toBe(201);
  });
});
