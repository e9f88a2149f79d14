import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, userMessage } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('who is on the server now', () => {
  it('counts model requests in flight as users on the connections card; sockets only on /metrics', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 400, tokenIntervalMs: 0, tokens: 2 },
    });
    const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const pending = Array.from({ length: 5 }, () => postJson(`${app.baseUrl}/v1/chat/completions`, userMessage()));
    // The five requests have reached the upstream: they are in flight on the server.
    while (fake.inFlight < 5) await new Promise((r) => setImmediate(r));
    app.monitor!.check(Date.now());
    const during = app.monitor!.lastSnapshot()!.cards.find((c) => c.id === 'connections')!;
    expect(during.detail).toMatchObject({ streams: 0, otherRequestsInFlight: 5, websocket: 0 });
    expect(during.value).toBe(5); // five users waiting for their answers
    expect(during.status).toBe('ok');
    await Promise.all(pending);
    app.monitor!.check(Date.now());
    // Answered: their keep-alive sockets may stay open, idle; no user is left.
    expect(app.monitor!.lastSnapshot()!.cards.find((c) => c.id === 'connections')).toMatchObject({
      value: 0,
      detail: { otherRequestsInFlight: 0 },
    });
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toContain('qwen3vl_model_requests_in_flight 0');
    expect(metrics).toMatch(/qwen3vl_http_open_connections \d+/);
  });

  it('counts a request the client gave up on as no longer in flight', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 5_000, tokenIntervalMs: 0, tokens: 2 },
    });
    const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const abort = new AbortController();
    const req = fetch(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(userMessage()),
      signal: abort.signal,
    }).catch(() => null);
    while (fake.inFlight < 1) await new Promise((r) => setImmediate(r));
    expect(app.monitor!.stats.load.modelRequestsInFlight).toBe(1);
    abort.abort();
    await req;
    await vi.waitFor(() => expect(app.monitor!.stats.load.modelRequestsInFlight).toBe(0));
  });
});
