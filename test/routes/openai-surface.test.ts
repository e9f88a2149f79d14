// The OpenAI surface as SDKs use it, driven by the official `openai` npm client: models
// listed, chat streamed (with LF, CRLF or CR line ends from the model server), other /v1
// routes passed through under one label, errors an SDK understands, one request id in
// both servers' logs.
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
