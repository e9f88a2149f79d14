// The OpenAI surface as SDKs use it, driven by the official `openai` npm client: models
// listed, chat streamed (with LF, CRLF or CR line ends from the model server), other /v1
// routes passed through under one label, errors an SDK understands, one request id in
// both servers' logs.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATED_MODEL, startFakeUpstream, type FakeBehavior } from '../../src/demo/fake-upstream.js';
import { startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(behavior: Partial<FakeBehavior> = {}, env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 1, tokens: 5, ...behavior },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, ...env }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  const client = new OpenAI({ baseURL: `${app.baseUrl}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  return { fake, app, clock, client };
}

describe('the OpenAI surface, through the official client', () => {
  it('lists the models (relayed, cached a few seconds)', async () => {
    const { fake, client, clock } = await setup();
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual([SIMULATED_MODEL]);
    await client.models.list();
    const asked = () => fake.receivedHeaders.length;
    const before = asked();
    await client.models.list();
    expect(asked()).toBe(before); // served from the cache
    clock.advance(5_000);
    await client.models.list();
    expect(asked()).toBe(before + 1);
  });

  for (const [name, eol] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ] as const) {
    it(`streams a chat answer whose events end in ${name}, with usage measured`, async () => {
      const { client, app } = await setup({ sseLineEnd: eol });
      const stream = await client.chat.completions.create({
        model: SIMULATED_MODEL,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hello' }],
      });
      let text = '';
      let usage: unknown = null;
      for await (const c of stream) {
        text += c.choices[0]?.delta?.content ?? '';
        if (c.usage) usage = c.usage;
      }
      expect(text).toBe('The image shows a login');
      expect(usage).toMatchObject({ completion_tokens: 5 });
      expect(app.monitor!.stats.chat.completionTokensTotal).toBe(5);
    });
  }

  it('raises an SDK error with our code, and OpenAI type and param, for a bad request', async () => {
    const { client } = await setup();
    const err = await client.chat.completions
      .create({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: '' } }] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      type: 'invalid_request_error',
      param: 'messages[0].content[0].image_url.url',
    });
  });

  it("speaks OpenAI's error codes and headers: context_length_exceeded, invalid_api_key, Retry-After", async () => {
    const { client } = await setup({
      errorRate: 1,
      failStatus: 400,
      failMessage: "This model's maximum context length is 32768 tokens. However, your request has 40122 input tokens.",
    });
    const long = await client.chat.completions
      .create({ model: SIMULATED_MODEL, messages: [{ role: 'user', content: 'hello' }] })
      .catch((e: unknown) => e);
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    // What an SDK user matches on is OpenAI's code; ours stays beside it for the Monitor.
    expect((long as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((long as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      app_code: 'CONTEXT_TOO_LONG',
      type: 'invalid_request_error',
    });

    const { app } = await setup({}, { API_KEYS: 'sk-right-key-0123456789' });
    const wrong = new OpenAI({ baseURL: `${app.baseUrl}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    const denied = await wrong.chat.completions
      .create({ model: SIMULATED_MODEL, messages: [{ role: 'user', content: 'hello' }] })
      .withResponse()
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    const auth = denied as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(auth.code).toBe('invalid_api_key');
    expect(auth.headers?.get('www-authenticate')).toBe('Bearer realm="qwen3-vl-webui"');

    // A 503 says when to come back (an SDK waits that long before it retries).
    const { app: unconfigured } = await setup({}, { UPSTREAM_URL: '' });
    const busy = await fetch(`${unconfigured.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('5');
    // The Monitor's own routes keep our codes.
    const monitor = await fetch(`${app.baseUrl}/api/monitor/alerts/rules/nothing`, { method: 'DELETE' });
    expect(((await monitor.json()) as any).error).toMatchObject({ code: 'NOT_FOUND', app_code: 'NOT_FOUND' });
  });

  it("wraps a model server's refusal in OpenAI's shape when its own is not", async () => {
    // A model server whose unknown routes answer 404 with no body, and 500 in plain text.
    const bare = createServer((req, res) => {
      if (req.url?.startsWith('/v1/plain')) res.writeHead(500, { 'content-type': 'text/plain' }).end('engine crashed');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => bare.close(() => r())));
    const { app } = await setup({}, { UPSTREAM_URL: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1` });
    const client = new OpenAI({ baseURL: `${app.baseUrl}/v1`, apiKey: 'sk-client', maxRetries: 0 });
    const missing = await client.embeddings.create({ model: 'x', input: ['a'] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as Error).message).toBe('404 The model server answered 404 to POST /v1/embeddings (no body)');
    const plain = await fetch(`${app.baseUrl}/v1/plain`, { method: 'POST', body: '{}' });
    expect(plain.status).toBe(500);
    expect(((await plain.json()) as any).error).toMatchObject({
      message: 'The model server answered 500 to POST /v1/plain: engine crashed',
      type: 'server_error',
      app_code: 'UPSTREAM_ERROR',
    });
    // An error already in OpenAI's shape is passed as the model server wrote it.
    const { app: shaped } = await setup();
    const shapedAnswer = await fetch(`${shaped.baseUrl}/v1/nothing`, { method: 'POST', body: '{}' });
    expect(((await shapedAnswer.json()) as any).error).toEqual({
      message: 'simulator has no route POST /v1/nothing',
      type: 'NotFoundError',
    });
  });

  it('raises the stream error event as an SDK error when the model server breaks off', async () => {
    const { client } = await setup({ streamFault: 'cut', faultAfterTokens: 2 });
    const stream = await client.chat.completions.create({
      model: SIMULATED_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('The image');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('The model server ended its answer before it was complete');
  });

  it('passes other /v1 routes through, counted under one label, and sends the request id to the model server', async () => {
    const { fake, client, app, clock } = await setup();
    const emb = await client.embeddings.create({ model: SIMULATED_MODEL, input: ['a', 'b'] }).withResponse();
    expect(emb.data.data).toHaveLength(2);
    const id = emb.response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(fake.receivedHeaders.at(-1)!['x-request-id']).toBe(id);
    // The client's key is ours to check, never the model server's to see.
    expect(fake.receivedHeaders.at(-1)!.authorization).toBeUndefined();
    for (let i = 0; i < 5; i++)
      await fetch(`${app.baseUrl}/v1/random-${i}/path`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    clock.advance(1_000);
    app.monitor!.check(clock());
    const listed = ((await (await fetch(`${app.baseUrl}/api/monitor/endpoints`)).json()) as any).endpoints;
    const endpoints = listed.map((e: any) => e.endpoint);
    // The embeddings call and five random paths (the model server's 404s, relayed) under one
    // label, with the window's fields as the API has always named them.
    expect(listed.find((e: any) => e.endpoint === '/v1/*').window).toMatchObject({
      requests: 6,
      status4xx: 5,
      latencyMsP50: expect.any(Number),
      latencyMsP99: expect.any(Number),
    });
    expect(endpoints.filter((e: string) => e.startsWith('/v1/'))).toEqual(expect.arrayContaining(['/v1/*']));
    expect(endpoints.filter((e: string) => e.startsWith('/v1/random'))).toEqual([]);
  });

  it("keeps a client's own X-Request-Id, end to end", async () => {
    const { fake, app } = await setup();
    const res = await fetch(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42.a' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.headers.get('x-request-id')).toBe('trace-42.a');
    expect(fake.receivedHeaders.at(-1)!['x-request-id']).toBe('trace-42.a');
    const odd = await fetch(`${app.baseUrl}/healthz`, { headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f]{12}$/); // not a plain token: replaced
  });
});
