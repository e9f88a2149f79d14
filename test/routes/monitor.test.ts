import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock, userMessage, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 40, tokenIntervalMs: 2, tokens: 5 },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, MONITOR_INTERVAL_MS: '10000', ...env }, { clock });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app, clock };
}

const get = async (app: TestApp, path: string) => {
  const res = await fetch(app.baseUrl + path);
  return { status: res.status, json: (await res.json()) as any };
};

describe('service-layer metrics', () => {
  it('counts requests by status and measures latency per endpoint and for all model endpoints', async () => {
    const { fake, app, clock } = await setup();
    const clientMs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t = performance.now();
      expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(200);
      clientMs.push(performance.now() - t);
    }
    fake.behavior = { ...fake.behavior, errorRate: 1, failStatus: 500 };
    for (let i = 0; i < 2; i++)
      expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(500);
    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, { messages: [] })).status).toBe(400);

    clock.advance(1_000);
    app.monitor!.check(clock());
    const series = async (metric: string, labels: string) =>
      (
        await get(app, `/api/monitor/series?metric=${metric}&labels=${encodeURIComponent(labels)}`)
      ).json.series[0].points.at(-1)[1];
    const all = 'endpoint=*';
    expect(await series('http_status_2xx', all)).toBe(8);
    expect(await series('http_status_4xx', all)).toBe(1);
    expect(await series('http_status_5xx', all)).toBe(2);
    // The tutorial's error rate counts the 400 too; the 5xx share only the server's own two.
    expect(await series('error_rate_percent', all)).toBeCloseTo((3 / 11) * 100, 10);
    expect(await series('error_rate_5xx_percent', all)).toBeCloseTo((2 / 11) * 100, 10);
    // Server-side latency: at least the upstream's 40 ms + 5 × 2 ms, at most what the client saw.
    const p50 = await series('latency_ms_p50', 'endpoint=/v1/chat/completions,method=POST');
    const sorted = clientMs.sort((a, b) => a - b);
    expect(p50).toBeGreaterThanOrEqual(40);
    expect(p50).toBeLessThanOrEqual(sorted.at(-1)! * 1.01);
    // The monitor's own API calls are not model traffic.
    const rps = await series('requests_per_second', all);
    expect(rps).toBeCloseTo(11 / 1, 10); // 11 requests in the first second of the server's life

    const snapshot = (await get(app, '/api/monitor/snapshot')).json;
    expect(snapshot.cards.find((c: any) => c.id === 'error_rate')).toMatchObject({ status: 'crit', unit: '%' });
    expect(snapshot.cards.find((c: any) => c.id === 'gpu_memory')).toMatchObject({
      status: 'unavailable',
      reason: expect.any(String),
    });
  });

  it('keeps one label for unknown paths: 3 000 random URLs do not grow the store or /metrics', async () => {
    const { app, clock } = await setup();
    app.monitor!.check(clock());
    const before = app.monitor!.stats.all().length;
    // (The bound is what is counted, not how many: 3 000 keeps the test quick on a busy machine.)
    const N = 3_000;
    for (let i = 0; i < N; i++) {
      const res = await app.app.inject({ method: 'GET', url: `/random/${i}/${Math.random().toString(36).slice(2)}` });
      expect(res.statusCode).toBe(404);
    }
    clock.advance(10_000);
    app.monitor!.check(clock());
    expect(app.monitor!.stats.all().length).toBe(before);
    expect(app.monitor!.stats.unmatched.statusTotals[4]).toBe(N);
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).not.toContain('/random/');
    expect(metrics).toContain(`qwen3vl_http_requests_total{endpoint="(unmatched)",method="*",status_class="4xx"} ${N}`);
    const series = app.monitor!.store.list().filter((s) => s.labels.endpoint?.startsWith('/random'));
    expect(series).toHaveLength(0);
  });

  it('counts a HEAD request once, though Fastify gives its route the GET route’s hooks', async () => {
    const { app } = await setup();
    for (const method of ['HEAD', 'HEAD', 'GET'])
      expect((await fetch(`${app.baseUrl}/healthz`, { method })).status).toBe(200);
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(text).toContain('qwen3vl_http_requests_total{endpoint="/healthz",method="HEAD",status_class="2xx"} 2');
    expect(text).toContain('qwen3vl_http_requests_total{endpoint="/healthz",method="GET",status_class="2xx"} 1');
  });

  it('exposes Prometheus text with counters, histograms in seconds, and process metrics', async () => {
    const { app } = await setup();
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage());
    const res = await fetch(`${app.baseUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('# TYPE qwen3vl_http_requests_total counter');
    expect(text).toContain(
      'qwen3vl_http_requests_total{endpoint="/v1/chat/completions",method="POST",status_class="2xx"} 1',
    );
    expect(text).toContain('# TYPE qwen3vl_http_request_duration_seconds histogram');
    // 40 ms upstream + tokens: in the 0.05 s bucket or above, never in 0.025 s.
    expect(text).toContain(
      'qwen3vl_http_request_duration_seconds_bucket{endpoint="/v1/chat/completions",method="POST",le="0.025"} 0',
    );
    expect(text).toMatch(
      /qwen3vl_http_request_duration_seconds_bucket\{endpoint="\/v1\/chat\/completions",method="POST",le="120"\} 1/,
    );
    expect(text).toMatch(
      /qwen3vl_http_request_duration_seconds_count\{endpoint="\/v1\/chat\/completions",method="POST"\} 1/,
    );
    expect(text).toContain('qwen3vl_chat_completion_tokens_total 5');
    // Node's and the process's default metrics keep their stock names (stock dashboards).
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).not.toContain('qwen3vl_process_cpu_seconds_total');
  });

  it('serves series for a window, and says which field is wrong', async () => {
    const { app, clock } = await setup();
    for (let i = 0; i < 4; i++) {
      app.monitor!.check(clock());
      clock.advance(10_000);
    }
    // Checks ran at 0, 10, 20 and 30 s; it is now 40 s: the last 25 s hold two points.
    const ok = await get(app, '/api/monitor/series?metric=websocket_active_connections&window=25s');
    expect(ok.status).toBe(200);
    expect(ok.json.series[0].points.map((p: number[]) => p[1])).toEqual([0, 0]);
    expect(
      (await get(app, '/api/monitor/series?metric=websocket_active_connections&window=1h')).json.series[0].points,
    ).toHaveLength(4);
    const unknown = await get(app, '/api/monitor/series?metric=gpu_fun_factor');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'metric' });
    const window = await get(app, '/api/monitor/series?metric=latency_ms_p95&window=3d');
    expect(window.json.error.field).toBe('window');
    const labels = await get(app, '/api/monitor/series?metric=latency_ms_p95&labels=gpu');
    expect(labels.json.error.field).toBe('labels');
  });
});

describe('access to the Monitor', () => {
  it('lets loopback in, asks everyone else for the token, and accepts it as Bearer or cookie', async () => {
    const { app } = await setup({ MONITOR_TOKEN: 'a-very-secret-monitor-token' });
    const inj = (opts: { url?: string; remoteAddress?: string; headers?: Record<string, string> }) =>
      app.app.inject({
        method: 'GET',
        url: opts.url ?? '/api/monitor/snapshot',
        remoteAddress: opts.remoteAddress ?? '10.0.0.7',
        headers: opts.headers ?? {},
      });

    expect((await inj({ remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    const denied = await inj({});
    expect(denied.statusCode).toBe(401);
    expect(denied.json().error.code).toBe('UNAUTHORIZED');
    expect((await inj({ url: '/metrics' })).statusCode).toBe(401);
    // A reverse proxy on the same box speaks for remote users: it must bring the token.
    expect((await inj({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } })).statusCode).toBe(
      401,
    );
    expect((await inj({ headers: { authorization: 'Bearer wrong-token-of-some-length' } })).statusCode).toBe(401);
    expect((await inj({ headers: { authorization: 'Bearer a-very-secret-monitor-token' } })).statusCode).toBe(200);

    const bad = await app.app.inject({
      method: 'POST',
      url: '/api/monitor/login',
      remoteAddress: '10.0.0.7',
      payload: { token: 'nope' },
    });
    expect(bad.statusCode).toBe(401);
    const login = await app.app.inject({
      method: 'POST',
      url: '/api/monitor/login',
      remoteAddress: '10.0.0.7',
      payload: { token: 'a-very-secret-monitor-token' },
    });
    expect(login.statusCode).toBe(204);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(cookie).not.toContain('a-very-secret-monitor-token');
    expect(String(login.headers['set-cookie'])).toContain('HttpOnly');
    expect((await inj({ headers: { cookie } })).statusCode).toBe(200);

    // The start-up link sets the cookie and redirects so the token leaves the address bar.
    const link = await app.app.inject({
      method: 'GET',
      url: '/monitor?token=a-very-secret-monitor-token',
      remoteAddress: '10.0.0.7',
    });
    expect(link.statusCode).toBe(302);
    expect(link.headers.location).toBe('/#monitor');
    // Each sign-in is its own session (issue 12): the link sets a new cookie, which works too.
    const linkCookie = String(link.headers['set-cookie']).split(';')[0]!;
    expect(linkCookie).toMatch(/^qwen3vl_monitor=/);
    expect(linkCookie).not.toBe(cookie);
    expect((await inj({ headers: { cookie: linkCookie } })).statusCode).toBe(200);
    // Model endpoints and health stay open.
    expect((await inj({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('generates a token at first start, keeps it in DATA_DIR, and reuses it', async () => {
    const { app } = await setup();
    expect(app.token.source).toBe('generated');
    expect(app.token.token.length).toBeGreaterThanOrEqual(32);
    const { readFileSync, statSync } = await import('node:fs');
    const again = await import('../../src/auth.js');
    const dir = app.dataDir;
    expect(readFileSync(`${dir}/monitor-token`, 'utf8').trim()).toBe(app.token.token);
    expect(statSync(`${dir}/monitor-token`).mode & 0o777).toBe(0o600);
    expect(again.loadOrCreateToken(dir, undefined)).toEqual({ token: app.token.token, source: 'file' });
  });
});

describe('live stream', () => {
  it('greets with the cards, broadcasts each check, and counts connections from the WebSocket server', async () => {
    const { app, clock } = await setup();
    const url = `${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`;
    const open = (): Promise<{ ws: WebSocket; messages: any[] }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        const messages: any[] = [];
        ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
        ws.on('open', () => resolve({ ws, messages }));
        ws.on('error', reject);
      });
    const clients = [await open(), await open(), await open()];
    await vi.waitFor(() => {
      for (const c of clients) expect(c.messages[0]?.type).toBe('snapshot');
    });

    app.monitor!.check(clock());
    await vi.waitFor(() => {
      for (const c of clients) expect(c.messages).toHaveLength(2);
    });
    const cards = clients[0]!.messages[1].data.cards;
    expect(cards.find((c: any) => c.id === 'connections').value).toBe(3);

    clients[0]!.ws.close();
    await vi.waitFor(() => expect(app.app.websocketServer.clients.size).toBe(2));
    clock.advance(10_000);
    app.monitor!.check(clock());
    await vi.waitFor(() => expect(clients[1]!.messages).toHaveLength(3));
    expect(clients[1]!.messages[2].data.cards.find((c: any) => c.id === 'connections').value).toBe(2);

    // Bad client messages get an error naming the field; the connection stays.
    clients[1]!.ws.send(JSON.stringify({ type: 'subscribe', topics: ['gossip'] }));
    await vi.waitFor(() =>
      expect(clients[1]!.messages.at(-1)).toMatchObject({ type: 'error', error: { field: 'topics.0' } }),
    );
    for (const c of clients.slice(1)) c.ws.close();
  });

  it('pings every client and drops one that missed the previous ping', async () => {
    const { app } = await setup();
    const url = `${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`;
    const alive = new WebSocket(url);
    const frozen = new WebSocket(url);
    await Promise.all([alive, frozen].map((ws) => new Promise((r) => ws.on('open', r))));
    await vi.waitFor(() => expect(app.monitor!.hub.size).toBe(2));
    (frozen as any)._socket.pause(); // cannot answer pings any more
    const closed = new Promise((r) => frozen.on('close', r));
    app.monitor!.hub.heartbeat(); // ping both
    await vi.waitFor(() => expect(app.monitor!.hub.awaitingPong).toBe(1)); // the live client answered
    app.monitor!.hub.heartbeat(); // the frozen one missed it: terminated
    expect(app.monitor!.hub.size).toBe(1);
    (frozen as any)._socket.resume();
    await closed;
    alive.close();
  });

  it('drops a client that stops reading instead of buffering for it without limit', async () => {
    const { app } = await setup();
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    await new Promise((r) => ws.on('open', r));
    (ws as any)._socket.pause(); // the browser tab froze
    const closed = new Promise((r) => ws.on('close', r));
    const big = { seq: 1, t: 0, level: 'INFO' as const, module: 'vlm', event: 'x'.repeat(256 * 1024), params: {} };
    for (let i = 0; i < 400 && app.monitor!.hub.droppedSlowClients === 0; i++) {
      app.monitor!.hub.broadcast('log', big);
      await new Promise((r) => setImmediate(r));
    }
    expect(app.monitor!.hub.droppedSlowClients).toBe(1);
    expect(app.monitor!.hub.size).toBe(0);
    (ws as any)._socket.resume();
    await closed;
  });
});

describe('health and the off switch', () => {
  it('/healthz answers, /readyz follows the model server', async () => {
    const { app, fake } = await setup();
    expect((await get(app, '/healthz')).status).toBe(200);
    const ready = await get(app, '/readyz');
    expect(ready).toMatchObject({ status: 200, json: { status: 'ready' } });
    await fake.close();
    const noUpstream = await startApp();
    cleanups.push(() => noUpstream.close());
    const notReady = await get(noUpstream, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.json.checks.upstream.detail).toContain('UPSTREAM_URL');
  });

  it('MONITOR_ENABLED=false removes hooks, API and /metrics but keeps chat working', async () => {
    const { app } = await setup({ MONITOR_ENABLED: 'false' });
    expect(app.monitor).toBeNull();
    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/api/monitor/snapshot`)).status).toBe(404);
  });
});
