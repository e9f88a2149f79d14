// Slow senders are cut, and a flood of them does not take the server away from the
// clients that send whole requests: /healthz answers throughout. Header, body and idle
// timeouts are the documented settings (here scaled down to seconds).
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string>): Promise<TestApp> {
  const app = await startApp(env, { probes: false });
  cleanups.push(() => app.close());
  return app;
}

interface Slow {
  socket: Socket;
  answer: string;
  closed: Promise<void>;
}

/** A client that sends its request one byte at a time, every `everyMs`, for as long as it is let. */
function slowSender(port: number, kind: 'headers' | 'body', everyMs: number): Slow {
  const socket = connect(port, '127.0.0.1');
  const slow: Slow = { socket, answer: '', closed: new Promise((r) => socket.once('close', () => r())) };
  socket.on('data', (d) => (slow.answer += d));
  socket.on('error', () => {});
  socket.once('connect', () => {
    socket.write(
      kind === 'headers'
        ? 'POST /api/ocr HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '
        : 'POST /api/ocr HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const t = setInterval(() => (socket.writable ? socket.write('a') : clearInterval(t)), everyMs);
    socket.once('close', () => clearInterval(t));
  });
  return slow;
}

/** GET /healthz on a new connection, as a balancer's probe does. */
function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('slow-client flood', () => {
  it('cuts 600 slow senders while /healthz keeps answering; past MAX_CONNECTIONS the slowest make room', async () => {
    const app = await setup({ HEADERS_TIMEOUT_MS: '1500', REQUEST_TIMEOUT_MS: '3000', MAX_CONNECTIONS: '300' });
    const port = Number(new URL(app.baseUrl).port);
    const flood: Slow[] = [];
    for (let i = 0; i < 600; i++) flood.push(slowSender(port, i % 2 ? 'body' : 'headers', 500));

    const probes: number[] = [];
    let maxOpen = 0;
    let floodOver = false;
    const allClosed = Promise.all(flood.map((s) => s.closed)).then(() => (floodOver = true));
    while (!floodOver) {
      probes.push(await probe(port));
      maxOpen = Math.max(maxOpen, app.connections().open);
      await new Promise((r) => setTimeout(r, 50));
    }
    await allClosed;

    // Every probe was answered, the open connections never passed the limit...
    expect(probes.length).toBeGreaterThan(5);
    expect(probes.filter((s) => s !== 200)).toEqual([]);
    expect(maxOpen).toBeLessThanOrEqual(300);
    // ...the flood over the limit made room (the slowest waiting were closed first),
    const { shed, refused } = app.connections();
    expect(shed).toBeGreaterThan(0);
    expect(refused).toBe(0);
    // and those that kept their connection were cut at the timeouts, told so in the API's shape.
    const timedOut = flood.filter((s) => s.answer.startsWith('HTTP/1.1 408'));
    if (process.env.FLOOD_REPORT)
      console.log({ probes: probes.length, maxOpen, shed, refused, timedOut: timedOut.length });
    expect(timedOut.length).toBeGreaterThan(0);
    for (const s of timedOut)
      expect(JSON.parse(s.answer.slice(s.answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('REQUEST_TIMEOUT');
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  }, 60_000);

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const app = await setup({ KEEP_ALIVE_TIMEOUT_MS: '1000' });
    const socket = connect(Number(new URL(app.baseUrl).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/keep-alive: timeout=1/i);
  });
});
