// Monitor WebSockets have a budget below MAX_CONNECTIONS (MAX_WEBSOCKETS, a quarter of it
// by default) and a cap per client address (MAX_WEBSOCKETS_PER_CLIENT): the 520
// sockets from one client took every connection and /healthz got ECONNRESET. Real `ws`
// clients against a real listener, with a small MAX_CONNECTIONS to keep it light.
import WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, maxWebSockets } from '../../src/config.js';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { WebSocketBudget } from '../../src/security/websocket-budget.js';
import { startApp, userMessage, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Attempt {
  socket: WebSocket;
  status: number | 'open' | 'error';
  retryAfter?: string | undefined;
  code?: string;
}

/** Opens a stream from `localAddress` (127.0.0.x: another client address on this machine). */
function open(app: TestApp, localAddress = '127.0.0.1'): Promise<Attempt> {
  const socket = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`, { localAddress });
  return new Promise((resolve) => {
    socket.once('open', () => resolve({ socket, status: 'open' }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = JSON.parse(body).error.code;
        } catch {}
        resolve({
          socket,
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          ...(code ? { code } : {}),
        });
      });
    });
    socket.once('error', () => resolve({ socket, status: 'error' }));
  });
}

async function setup(env: Record<string, string>) {
  const fake = await startFakeUpstream({ behavior: { errorRate: 0, ttftMs: 1, tokenIntervalMs: 1, spread: 0 } });
  cleanups.push(() => fake.close());
  const app = await startApp({ UPSTREAM_URL: fake.url, ...env }, { probes: false });
  cleanups.push(() => app.close());
  cleanups.push(() => {
    for (const ws of app.app.websocketServer.clients) ws.terminate();
  });
  return app;
}

const count = (attempts: Attempt[], status: Attempt['status']) => attempts.filter((a) => a.status === status).length;

describe('the WebSocket budget', () => {
  it('defaults to a quarter of MAX_CONNECTIONS and must stay below it', () => {
    expect(maxWebSockets(loadConfig({}))).toBe(128);
    expect(maxWebSockets(loadConfig({ MAX_CONNECTIONS: '64' }))).toBe(16);
    expect(() => loadConfig({ MAX_CONNECTIONS: '64', MAX_WEBSOCKETS: '64' })).toThrow(
      /MAX_WEBSOCKETS="64": expected fewer than MAX_CONNECTIONS \(64\)/,
    );
  });

  it('counts per client and in all, and gives places back', () => {
    const budget = new WebSocketBudget(3, 2);
    expect([budget.admit('a'), budget.admit('a'), budget.admit('a')]).toEqual([null, null, 'client']);
    expect([budget.admit('b'), budget.admit('c')]).toEqual([null, 'total']);
    budget.release('a');
    expect(budget.admit('c')).toBeNull();
    budget.release('unknown');
    expect(budget.size).toBe(3);
  });

  it('keeps /healthz and chat answering while one client opens twice MAX_CONNECTIONS sockets', async () => {
    const app = await setup({ MAX_CONNECTIONS: '64', MAX_WEBSOCKETS_PER_CLIENT: '8' });
    // 130 against a limit of 64 connections, as the 520 against 512.
    const attempts = await Promise.all(Array.from({ length: 130 }, () => open(app)));
    expect(count(attempts, 'open')).toBe(8);
    const refused = attempts.filter((a) => a.status !== 'open');
    expect(refused.every((a) => a.status === 429 && a.retryAfter === '30' && a.code === 'TOO_MANY_REQUESTS')).toBe(
      true,
    );

    const health = await fetch(`${app.baseUrl}/healthz`, { headers: { connection: 'close' } });
    expect(health.status).toBe(200);
    const chat = await fetch(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify(userMessage()),
    });
    expect(chat.status).toBe(200);
    expect(app.connections().open).toBeLessThanOrEqual(64);
    await vi.waitFor(() => expect(app.connections().open).toBeLessThanOrEqual(8 + 1));

    // The open streams work, and a closed one gives its place back.
    const first = attempts.find((a) => a.status === 'open')!.socket;
    first.close();
    await vi.waitFor(() => expect(app.monitor!.hub.admission.size).toBe(7));
    expect((await open(app)).status).toBe('open');
  });

  it('refuses past MAX_WEBSOCKETS in all with 503 and Retry-After, whoever asks', async () => {
    const app = await setup({ MAX_CONNECTIONS: '64', MAX_WEBSOCKETS_PER_CLIENT: '6' });
    // The default budget: 64 / 4 = 16, from three client addresses.
    const fromA = await Promise.all(Array.from({ length: 6 }, () => open(app, '127.0.0.2')));
    const fromB = await Promise.all(Array.from({ length: 6 }, () => open(app, '127.0.0.3')));
    const fromC = await Promise.all(Array.from({ length: 6 }, () => open(app, '127.0.0.4')));
    expect([count(fromA, 'open'), count(fromB, 'open'), count(fromC, 'open')]).toEqual([6, 6, 4]);
    const full = fromC.filter((a) => a.status !== 'open');
    expect(full.map((a) => [a.status, a.retryAfter, a.code])).toEqual([
      [503, '30', 'SERVER_BUSY'],
      [503, '30', 'SERVER_BUSY'],
    ]);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  });
});
