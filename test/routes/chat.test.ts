import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, userMessage, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(behavior: Parameters<typeof startFakeUpstream>[0] = {}, env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 5, tokenIntervalMs: 1, tokens: 5, ...behavior.behavior },
    seed: 1,
  });
  const app = await startApp({ UPSTREAM_URL: fake.url, ...env });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app };
}

const chatUrl = (app: TestApp) => `${app.baseUrl}/v1/chat/completions`;

describe('POST /v1/chat/completions', () => {
  it('relays a non-streamed answer and passes image parts through untouched', async () => {
    const { fake, app } = await setup();
    const body = { ...userMessage('describe'), temperature: 0.2, top_k: 5 };
    const res = await postJson(chatUrl(app), body);
    expect(res.status).toBe(200);
    expect(res.json.choices[0].message.content).toContain('login');
    expect(res.json.usage.completion_tokens).toBe(5);
    const sent = fake.received.at(-1) as typeof body;
    expect(sent.messages).toEqual(body.messages);
    expect(sent.top_k).toBe(5); // engine-specific fields pass through
  });

  it('fills in UPSTREAM_MODEL when the client names no model', async () => {
    const { fake, app } = await setup({}, { UPSTREAM_MODEL: 'Qwen/Qwen3-VL-8B-Instruct' });
    await postJson(chatUrl(app), userMessage());
    expect((fake.received.at(-1) as { model: string }).model).toBe('Qwen/Qwen3-VL-8B-Instruct');
  });

  it("relays the client's JSON as written, adding only the default model and include_usage", async () => {
    // A model server that keeps each request's bytes and answers one fixed completion.
    const raw: string[] = [];
    const upstream = createHttpServer((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        text += c;
      });
      req.on('end', () => {
        raw.push(text);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}',
        );
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const { port } = upstream.address() as AddressInfo;
    cleanups.push(() => new Promise((r) => upstream.close(() => r())));
    const send = async (app: TestApp, text: string) => {
      const res = await request(chatUrl(app), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      await res.body.text();
      return res.statusCode;
    };
    // Escapes, spacing and `1.0` as the client wrote them; a parse and stringify would change all three.
    const text = '{ "messages": [{"role": "user", "content": "caf\\u00e9"}],\n  "temperature": 1.0, "top_k": 5 }';
    const plain = await startApp({ UPSTREAM_URL: `http://127.0.0.1:${port}/v1` });
    cleanups.push(() => plain.close());
    expect(await send(plain, text)).toBe(200);
    expect(raw.at(-1)).toBe(text);
    // A byte-order mark is taken from a client, not passed on (Python's json refuses one).
    expect(await send(plain, `\ufeff${text}`)).toBe(200);
    expect(raw.at(-1)).toBe(text);
    const named = await startApp({
      UPSTREAM_URL: `http://127.0.0.1:${port}/v1`,
      UPSTREAM_MODEL: 'Qwen/Qwen3-VL-8B-Instruct',
    });
    cleanups.push(() => named.close());
    const unstreamed = text.replace('"top_k"', '"stream": false, "top_k"');
    expect(await send(named, unstreamed)).toBe(200);
    expect(raw.at(-1)).toBe(`${unstreamed.slice(0, -1)},"model":"Qwen/Qwen3-VL-8B-Instruct"}`);
    // A client's own stream_options without include_usage: changed, so written out again.
    const options =
      '{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false},"model":"x"}';
    expect(await send(plain, options)).toBe(200);
    expect(JSON.parse(raw.at(-1) ?? '')).toEqual({ ...JSON.parse(options), stream_options: { include_usage: true } });
  });

  it('relays a stream chunk by chunk: the first token arrives while the upstream is still generating', async () => {
    // 20 tokens 100 ms apart: the whole answer takes 2 s upstream.
    const { fake, app } = await setup({ behavior: { tokens: 20, tokenIntervalMs: 100, ttftMs: 10 } });
    const res = await request(chatUrl(app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...userMessage(), stream: true }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    let text = '';
    let inFlightAtFirstToken = -1;
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (inFlightAtFirstToken < 0 && text.includes('"content":"The"')) inFlightAtFirstToken = fake.inFlight;
    }
    expect(inFlightAtFirstToken).toBe(1);
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    // We asked the upstream for usage, but this client did not: the usage chunk is removed.
    expect((fake.received.at(-1) as { stream_options: unknown }).stream_options).toEqual({ include_usage: true });
    expect(text).not.toContain('"usage"');
  });

  it('keeps the usage chunk when the client asked for it, and measures TTFT and tokens/s', async () => {
    const { app } = await setup({ behavior: { tokens: 10, tokenIntervalMs: 5, ttftMs: 30 } });
    const res = await postJson(chatUrl(app), {
      ...userMessage(),
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.text).toContain('"usage":{"prompt_tokens"');
    const chat = app.monitor!.stats.chat;
    expect(chat.completionTokensTotal).toBe(10);
    const ttft = chat.ttftWindow.summarize(60_000, Date.now());
    expect(ttft.count).toBe(1);
    expect(ttft.p50!).toBeGreaterThanOrEqual(30 * 0.99);
    const tps = chat.tokensPerSecondWindow.summarize(60_000, Date.now());
    expect(tps.count).toBe(1);
    // 9 tokens after the first, at least 5 ms apart: at most ~200 tokens/s.
    expect(tps.p50!).toBeGreaterThan(0);
    expect(tps.p50!).toBeLessThanOrEqual((9 / 0.045) * 1.01);
  });

  it("takes a thinking model's first reasoning token as its first token (vLLM's delta.reasoning)", async () => {
    // 21 reasoning tokens at least 25 ms apart before the answer's first: TTFT taken at the
    // answer would be at least 525 ms later than at the reasoning.
    const reasoning = Array.from({ length: 21 }, (_, i) => `r${i}`).join(' ');
    const { app } = await setup({ behavior: { tokens: 3, tokenIntervalMs: 25, ttftMs: 10, reasoning } });
    const started = performance.now();
    const res = await postJson(chatUrl(app), { ...userMessage(), stream: true });
    const elapsed = performance.now() - started;
    expect(res.text).toContain('"reasoning":"r0');
    const ttft = app.monitor!.stats.chat.ttftWindow.summarize(60_000, Date.now());
    expect(ttft.count).toBe(1);
    expect(ttft.p50!).toBeGreaterThanOrEqual(10 * 0.99);
    expect(elapsed - ttft.p50!).toBeGreaterThanOrEqual(21 * 25 * 0.99);
    // The usage counts the reasoning's tokens too: tokens/s covers all that was generated.
    expect(app.monitor!.stats.chat.completionTokensTotal).toBe(24);
    // A whole answer carries the reasoning beside the content, relayed as it came.
    const whole = await postJson(chatUrl(app), userMessage());
    expect(whole.json.choices[0].message.reasoning).toBe(reasoning);
  });

  it('streams without Node warning of a listener leak (an operator reads that on stderr)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const { app } = await setup({ behavior: { tokens: 4 } });
      for (let i = 0; i < 3; i++) {
        const res = await postJson(chatUrl(app), { ...userMessage(), stream: true });
        expect(res.text).toContain('[DONE]');
      }
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    const { fake, app } = await setup({ behavior: { tokens: 200, tokenIntervalMs: 50 } });
    const ac = new AbortController();
    const res = await request(chatUrl(app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...userMessage(), stream: true }),
      signal: ac.signal,
    });
    for await (const chunk of res.body) {
      if (chunk.toString().includes('"content":"The"')) break;
    }
    ac.abort();
    await vi.waitFor(() => expect(fake.abortedStreams).toBe(1), { timeout: 5_000 });
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000 });
    // The Monitor counts it as 499 (client closed request): a 4xx, not a server error.
    const ep = app.monitor!.stats.get('POST', '/v1/chat/completions')!;
    await vi.waitFor(() => expect(ep.statusTotals[4]).toBe(1));
    expect(ep.statusTotals[5]).toBe(0);
  });

  it('counts a client that gives up before the upstream answers as 499, and stops waiting', async () => {
    const { fake, app } = await setup({ behavior: { headerDelayMs: 2_000 } });
    const ac = new AbortController();
    const pending = request(chatUrl(app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(userMessage()),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(fake.received).toHaveLength(1));
    ac.abort();
    await pending;
    const ep = app.monitor!.stats.get('POST', '/v1/chat/completions')!;
    await vi.waitFor(() => expect(ep.statusTotals[4]).toBe(1));
    expect(ep.durations.count).toBe(1);
  });

  it('answers 503 naming UPSTREAM_URL when no model server is configured', async () => {
    const app = await startApp();
    cleanups.push(() => app.close());
    const res = await postJson(chatUrl(app), userMessage());
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('UPSTREAM_NOT_CONFIGURED');
    expect(res.json.error.message).toContain('UPSTREAM_URL');
  });

  it('answers 502 when the model server refuses the connection', async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const app = await startApp({ UPSTREAM_URL: `http://127.0.0.1:${port}/v1` });
    cleanups.push(() => app.close());
    const res = await postJson(chatUrl(app), userMessage());
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('UPSTREAM_UNREACHABLE');
    expect(res.json.error.message).toContain('ECONNREFUSED');
  });

  it('answers 504 when the model server does not answer within UPSTREAM_TIMEOUT_MS', async () => {
    const { app } = await setup({ behavior: { headerDelayMs: 1_500 } }, { UPSTREAM_TIMEOUT_MS: '200' });
    const res = await postJson(chatUrl(app), userMessage());
    expect(res.status).toBe(504);
    expect(res.json.error).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(res.json.error.message).toContain('200 ms');
  });

  it("relays the model server's own 4xx/5xx status with its message", async () => {
    const { app } = await setup({ behavior: { errorRate: 1, failStatus: 400 } });
    const res = await postJson(chatUrl(app), userMessage());
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('UPSTREAM_ERROR');
    expect(res.json.error.message).toContain('simulated failure (400)');
  });

  it('rejects a malformed body with 400 naming the field', async () => {
    const { fake, app } = await setup();
    const bad = await postJson(chatUrl(app), {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('messages[0].content[0].image_url.url');
    expect(bad.json.error.message).toContain('data URL');
    const role = await postJson(chatUrl(app), { messages: [{ role: 'robot', content: 'hi' }] });
    expect(role.json.error.field).toBe('messages[0].role');
    const none = await postJson(chatUrl(app), {});
    expect(none.json.error.field).toBe('messages');
    const notJson = await fetch(chatUrl(app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"messages": [',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error.code).toBe('BAD_REQUEST');
    expect(fake.received).toHaveLength(0);
  });

  it('answers 413 naming the limit for a body over BODY_LIMIT_BYTES', async () => {
    const { fake, app } = await setup({}, { BODY_LIMIT_BYTES: '2048' });
    const res = await postJson(chatUrl(app), userMessage('x'.repeat(4096)));
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ code: 'BODY_TOO_LARGE' });
    expect(res.json.error.message).toContain('2048 bytes');
    expect(fake.received).toHaveLength(0);
  });

  it('guards model endpoints with API_KEYS when set', async () => {
    const { app } = await setup({}, { API_KEYS: 'k-one,k-two' });
    expect((await postJson(chatUrl(app), userMessage())).status).toBe(401);
    expect((await postJson(chatUrl(app), userMessage(), { authorization: 'Bearer k-two' })).status).toBe(200);
  });
});

describe('chat in the model layer', () => {
  it('times its stages, attributes the request to its client, and emits the input-token event', async () => {
    const { app } = await setup({ behavior: { tokens: 4 } });
    const events: unknown[] = [];
    app.monitor!.model.onRequest((e) => events.push(e));
    await postJson(chatUrl(app), userMessage(), { 'x-client-id': 'mobile-app' });
    await postJson(chatUrl(app), { ...userMessage(), stream: true }, { 'x-client-id': 'mobile-app' });
    const now = Date.now();
    const m = app.monitor!.model;
    for (const stage of ['preprocess', 'inference', 'postprocess', 'total'] as const) {
      expect(m.stages.get(`vlm:${stage}`)!.summarize(60_000, now).count, stage).toBeGreaterThanOrEqual(
        stage === 'postprocess' ? 1 : 2,
      );
    }
    const top = app.monitor!.clients.top(now, 300_000);
    expect(top.byRequests[0]).toMatchObject({ client: 'mobile-app', requests: 2, errors: 0, modules: { vlm: 2 } });
    expect(top.byRequestSeconds[0]!.requestSeconds).toBeGreaterThan(0);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ module: 'vlm', source: 'upstream', client: 'mobile-app' });
    expect((events[0] as { inputTokens: number }).inputTokens).toBeGreaterThan(0);
    const api = (await (await fetch(`${app.baseUrl}/api/monitor/clients?window=5m`)).json()) as any;
    expect(api.modules.vlm).toEqual({ requests: 2, sharePercent: 100 });
  });
});

describe('usageFromJson (reads only the usage object of an answer)', () => {
  it('finds usage after the choices, with nested details, or before them; nothing when absent', async () => {
    const { usageFromJson } = await import('../../src/routes/chat.js');
    const answer = (usage: unknown, first = false) =>
      JSON.stringify(
        first
          ? { usage, choices: [{ message: { content: 'the word "usage" in an answer' } }] }
          : { id: 'x', choices: [{ message: { content: 'the word "usage" in an answer' } }], usage },
      );
    expect(usageFromJson(answer({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }))).toEqual({
      promptTokens: 12,
      completionTokens: 3,
    });
    expect(
      usageFromJson(answer({ prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 8 } })),
    ).toEqual({ promptTokens: 12, completionTokens: 3 });
    expect(usageFromJson(answer({ prompt_tokens: 7, completion_tokens: 1 }, true))).toEqual({
      promptTokens: 7,
      completionTokens: 1,
    });
    expect(usageFromJson(answer(null))).toBeNull();
    expect(usageFromJson(JSON.stringify({ choices: [] }))).toBeNull();
    expect(usageFromJson('not json "usage": {oops')).toBeNull();
  });
});
