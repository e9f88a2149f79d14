// No hidden cap on model requests: as many go to the model server at once as clients send,
// up to UPSTREAM_MAX_CONNECTIONS (default MAX_CONNECTIONS); past it a request waits for a
// connection, and the Monitor counts it (the connections card, the series, /metrics).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startApp, steppedClock, userMessage } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A model server that holds every answer until the test lets them go. */
async function holdingModelServer() {
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const answer = JSON.stringify({
    id: 'c',
    object: 'chat.completion',
    created: 1,
    model: 'q',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
    held,
    release: () => {
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    },
  };
}

const chat = (baseUrl: string) =>
  fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'q', ...userMessage() }),
  }).then((r) => r.status);

describe('model requests at once', () => {
  it('sends 300 at once to the model server by default (no cap of 256)', { timeout: 60_000 }, async () => {
    const model = await holdingModelServer();
    const app = await startApp({ UPSTREAM_URL: model.url }, { probes: false });
    cleanups.push(() => app.close());
    const answers = Array.from({ length: 300 }, () => chat(app.baseUrl));
    await vi.waitFor(() => expect(model.held.length).toBe(300), { timeout: 30_000, interval: 50 });
    expect(app.upstream.waiting).toBe(0);
    model.release();
    expect(new Set(await Promise.all(answers))).toEqual(new Set([200]));
  });

  it('past UPSTREAM_MAX_CONNECTIONS a request waits, and the Monitor shows how many do', {
    timeout: 30_000,
  }, async () => {
    const model = await holdingModelServer();
    const clock = steppedClock();
    const app = await startApp({ UPSTREAM_URL: model.url, UPSTREAM_MAX_CONNECTIONS: '2' }, { probes: false, clock });
    cleanups.push(() => app.close());
    const answers = Array.from({ length: 5 }, () => chat(app.baseUrl));
    await vi.waitFor(
      () => {
        expect(model.held.length).toBe(2);
        expect(app.upstream.waiting).toBe(3);
      },
      { timeout: 10_000, interval: 20 },
    );
    app.monitor!.check(clock());
    const card = app.monitor!.snapshot(clock()).cards.find((c) => c.id === 'connections')!;
    expect(card.detail).toMatchObject({ waitingForUpstream: 3 });
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^qwen3vl_model_requests_waiting_upstream 3$/m);
    // Released two at a time, all five are answered.
    await vi.waitFor(
      () => {
        model.release();
        expect(app.upstream.waiting).toBe(0);
        expect(model.held.length).toBe(0);
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(await Promise.all(answers)).toEqual([200, 200, 200, 200, 200]);
  });
});
