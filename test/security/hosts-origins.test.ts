// Same-origin protection with plain requests over TCP: a DNS-rebinding Host is refused,
// a request from another origin may not change anything or open the stream, requests
// from the server's own pages, from PUBLIC_URL / ALLOWED_ORIGINS and from scripts with
// no Origin keep working.
import { request as httpRequest } from 'node:http';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startApp, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startApp(env, { probes: false });
  cleanups.push(() => app.close());
  return app;
}

/** A raw HTTP request, with whatever Host and Origin a browser (or an attacker's page) would send. */
function send(
  app: TestApp,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const { port } = new URL(app.baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const webhook = (url: string) => ({ webhook: { url, format: 'generic' } });

describe('Host check (DNS rebinding)', () => {
  it('refuses a name the server does not answer to, on reads and on changes, and the change is not made', async () => {
    const app = await setup();
    const port = new URL(app.baseUrl).port;
    const rebind = { host: `rebind.attacker.example:${port}` };
    const read = await send(app, 'GET', '/api/monitor/snapshot', rebind);
    expect(read.status).toBe(403);
    expect(read.json.error.code).toBe('HOST_NOT_ALLOWED');
    expect(read.json.error.message).toContain('ALLOWED_HOSTS');
    const put = await send(
      app,
      'PUT',
      '/api/monitor/alerts/channels',
      rebind,
      webhook('https://attacker.example/hook'),
    );
    expect(put.status).toBe(403);
    expect(
      (await send(app, 'GET', '/api/monitor/alerts/channels', {})).json.channels.find((c: any) => c.name === 'webhook'),
    ).toBeUndefined();
    expect(
      (await send(app, 'POST', '/v1/chat/completions', rebind, { messages: [{ role: 'user', content: 'hi' }] })).status,
    ).toBe(403);
    // Probes answer whatever name a balancer uses.
    expect((await send(app, 'GET', '/healthz', rebind)).status).toBe(200);
  });

  it('answers to loopback names, IP addresses, its own host name, HOST, PUBLIC_URL and ALLOWED_HOSTS', async () => {
    const app = await setup({ PUBLIC_URL: 'https://vlm.example.com', ALLOWED_HOSTS: 'gpu-box.lan,.corp.example' });
    const port = new URL(app.baseUrl).port;
    for (const host of [
      'localhost',
      '127.0.0.1',
      '[::1]',
      '10.1.2.3',
      'app.localhost',
      hostname(),
      'vlm.example.com',
      'GPU-BOX.lan',
      'a.corp.example',
      'corp.example',
    ]) {
      const res = await send(app, 'GET', '/api/monitor/snapshot', { host: `${host}:${port}` });
      expect(res.status, host).toBe(200);
    }
    expect((await send(app, 'GET', '/api/monitor/snapshot', { host: 'notcorp.example' })).status).toBe(403);
    expect((await send(app, 'GET', '/api/monitor/snapshot', { host: 'vlm.example.com.attacker.example' })).status).toBe(
      403,
    );
  });

  it('ALLOWED_HOSTS=* turns the check off', async () => {
    const app = await setup({ ALLOWED_HOSTS: '*' });
    expect((await send(app, 'GET', '/api/monitor/snapshot', { host: 'anything.example' })).status).toBe(200);
  });
});

describe('Origin check (cross-site requests)', () => {
  it('refuses a change from another origin, accepts the same origin and scripts that send none', async () => {
    const app = await setup();
    const host = new URL(app.baseUrl).host;
    const crossSite = await send(app, 'POST', '/api/monitor/alerts/presets/gpu-memory-pressure/import', {
      host,
      origin: 'http://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.json.error).toEqual({
      code: 'ORIGIN_NOT_ALLOWED',
      app_code: 'ORIGIN_NOT_ALLOWED',
      message: expect.stringContaining('http://evil.example'),
      type: 'permission_error',
      param: null,
    });
    // Another port on the same machine is another origin too.
    expect(
      (
        await send(
          app,
          'PUT',
          '/api/monitor/alerts/channels',
          { host, origin: 'http://127.0.0.1:1' },
          webhook('https://attacker.example/hook'),
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await send(
          app,
          'POST',
          '/api/monitor/alerts/silences',
          { host, origin: 'null' },
          { kind: 'once', startsAt: 0, endsAt: 1 },
        )
      ).status,
    ).toBe(403);
    expect((await send(app, 'GET', '/api/monitor/alerts/rules', {})).json.rules).toEqual([]);
    expect(
      (await send(app, 'GET', '/api/monitor/alerts/channels', {})).json.channels.find((c: any) => c.name === 'webhook'),
    ).toBeUndefined();

    // Reading is not refused by Origin (the browser keeps the answer from the other page).
    expect((await send(app, 'GET', '/api/monitor/snapshot', { host, origin: 'http://evil.example' })).status).toBe(200);
    // The server's own page, and curl.
    expect(
      (await send(app, 'POST', '/api/monitor/alerts/presets/gpu-memory-pressure/import', { host, origin: app.baseUrl }))
        .status,
    ).toBe(200);
    expect(
      (await send(app, 'PUT', '/api/monitor/alerts/channels', { host }, webhook('https://hooks.example/a'))).status,
    ).toBe(200);
  });

  it('accepts PUBLIC_URL and ALLOWED_ORIGINS (behind a proxy that rewrites Host)', async () => {
    const app = await setup({ PUBLIC_URL: 'https://vlm.example.com', ALLOWED_ORIGINS: 'https://ops.example.com:8443' });
    const host = new URL(app.baseUrl).host;
    expect(
      (
        await send(app, 'POST', '/api/monitor/alerts/presets/gpu-memory-pressure/import', {
          host,
          origin: 'https://vlm.example.com',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send(app, 'POST', '/api/monitor/alerts/presets/gpu-memory-critical/import', {
          host,
          origin: 'https://ops.example.com:8443',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send(app, 'POST', '/api/monitor/alerts/presets/gpu-lost/import', {
          host,
          origin: 'https://ops.example.com',
        })
      ).status,
    ).toBe(403);
  });

  it('refuses the WebSocket upgrade from another origin and opens it for the own origin', async () => {
    const app = await setup();
    const url = `${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`;
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, { origin: 'http://evil.example' });
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode!);
        req.destroy();
      });
      ws.on('open', () => reject(new Error('a cross-site page opened the stream')));
    });
    expect(refused).toBe(403);
    const first = await new Promise<any>((resolve, reject) => {
      const ws = new WebSocket(url, { origin: app.baseUrl });
      ws.on('message', (m) => {
        resolve(JSON.parse(m.toString()));
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(first.type).toBe('snapshot');
  });

  it('refuses ALLOWED_ORIGINS entries that are not origins, at start-up', async () => {
    await expect(setup({ ALLOWED_ORIGINS: 'https://ok.example,evil.example/path' })).rejects.toThrow(
      /ALLOWED_ORIGINS.*scheme:\/\/host/,
    );
  });
});

describe('security headers', () => {
  it('sends a Content-Security-Policy and no-framing on the UI, nosniff everywhere', async () => {
    const app = await setup();
    const page = await fetch(`${app.baseUrl}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await fetch(`${app.baseUrl}/api/monitor/snapshot`);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
