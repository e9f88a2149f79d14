// A failing model server, as an operator meets it: out of GPU memory, a request longer
// than the context, a stream cut or stalled midway, and clients that give up. Each is
// blamed on the right party, counted under its own code, and logged under the module.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startFakeUpstream, type FakeBehavior } from '../../src/demo/fake-upstream.js';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson, startApp, steppedClock, userMessage } from '../helpers.js';
import { MAX_SSE_EVENT_BYTES } from '../../src/upstream/sse.js';
import { blackboardPhoto, dataUrl } from '../pipeline/images.js';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(behavior: Partial<FakeBehavior> = {}, env: Record<string, string> = {}, probes = false) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 1, tokens: 10, ...behavior },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1', ...env }, { clock, probes });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  const logs = async (q: string) =>
    ((await (await fetch(`${app.baseUrl}/api/monitor/logs?${q}`)).json()) as any).lines as any[];
  /** The newest line matching the query, once it is there (ERROR lines follow the reply). */
  const line = (q: string) =>
    vi.waitFor(async () => {
      const [l] = await logs(q);
      expect(l).toBeDefined();
      return l;
    });
  const series = async (metric: string, labels = '') =>
    (
      (await (
        await fetch(`${app.baseUrl}/api/monitor/series?metric=${metric}&labels=${encodeURIComponent(labels)}`)
      ).json()) as any
    ).series[0]?.points.at(-1)?.[1];
  const check = () => {
    clock.advance(1_000);
    app.monitor!.check(clock());
  };
  return { fake, app, logs, line, series, check };
}

async function readStream(url: string, body: unknown): Promise<string> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  let text = '';
  try {
    for await (const chunk of res.body) text += chunk.toString();
  } catch {
    // a connection cut is what some cases are about: what arrived is the answer
  }
  return text;
}

describe("the model server's own failures are named", () => {
  it('CUDA out of memory is UPSTREAM_OOM (503), an ERROR under the module with free GPU memory read at that moment', async () => {
    const nvml = fakeNvml('current');
    nvml.reset(1);
    nvml.setMemory(0, 24576 * MiB, 12000 * MiB, 0);
    const { app, line, series, check } = await setup(
      {
        errorRate: 1,
        failStatus: 500,
        failMessage:
          'CUDA out of memory. Tried to allocate 1.20 GiB (GPU 0; 23.65 GiB total capacity; 124.00 MiB free)',
      },
      { NVML_LIBRARY: nvml.path },
      true,
    );
    await app.monitor!.tick(Date.UTC(2026, 10, 25, 12, 0, 0));
    // After the check the GPU filled up: the ERROR line must say what is free now, not then.
    nvml.setMemory(0, 24576 * MiB, 24452 * MiB, 0);
    const photo = await blackboardPhoto(3264, 2448);
    const res = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(photo) }, { 'x-client-id': 'classroom-7' });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('UPSTREAM_OOM');
    const err = await line('level=ERROR&module=ocr');
    expect(err.event).toBe('Model server out of GPU memory');
    expect(err.params).toMatchObject({
      request_id: res.headers.get('x-request-id'),
      client: 'classroom-7',
      code: 'UPSTREAM_OOM',
      status: 503,
      gpu_free: 'gpu0=124MiB',
      dimensions: '3264x2448',
    });
    expect(err.params.input_size).toMatch(/KiB|MiB/);
    expect(err.params.image_hash).toMatch(/^[0-9a-f]{16}$/);
    check();
    expect(await series('model_error_count', 'module=ocr,code=UPSTREAM_OOM')).toBeGreaterThan(0);
  });

  it("a request longer than the context is the client's: CONTEXT_TOO_LONG (400), a WARN, counted apart", async () => {
    const { app, line, series, check } = await setup({
      errorRate: 1,
      failStatus: 400,
      failMessage:
        "This model's maximum context length is 32768 tokens. However, your request has 40122 input tokens. Please reduce the length of the input messages.",
    });
    const res = await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage());
    expect(res.status).toBe(400);
    // OpenAI's code for it on /v1 (what its clients match on), ours beside it.
    expect(res.json.error).toMatchObject({ code: 'context_length_exceeded', app_code: 'CONTEXT_TOO_LONG' });
    expect(res.json.error.message).toContain('maximum context length is 32768');
    const warn = await line('level=WARN&module=vlm');
    expect(warn).toMatchObject({ event: 'Context too long', params: { code: 'CONTEXT_TOO_LONG', status: 400 } });
    check();
    expect(await series('model_error_count', 'module=vlm,code=CONTEXT_TOO_LONG')).toBeGreaterThan(0);
    expect(await series('http_status_5xx', 'endpoint=/v1/chat/completions')).toBe(0);
  });

  it('any other failure keeps its status and says so under the module', async () => {
    const { app, line } = await setup({ errorRate: 1, failStatus: 502, failMessage: 'engine crashed' });
    const res = await postJson(`${app.baseUrl}/api/gui/execute`, {
      screenshot: dataUrl(await blackboardPhoto(640, 360)),
      instruction: 'open settings',
    });
    expect(res.status).toBe(502);
    expect(await line('level=ERROR')).toMatchObject({
      module: 'gui',
      event: 'Model server error',
      params: { code: 'UPSTREAM_ERROR' },
    });
  });
});

describe('a stream that breaks off is the model server failing, not the client', () => {
  for (const [fault, code, status] of [
    ['cut', 'UPSTREAM_STREAM_CUT', 502],
    ['no-end', 'UPSTREAM_STREAM_CUT', 502],
    ['stall', 'UPSTREAM_TIMEOUT', 504],
  ] as const) {
    it(`${fault}: the client gets an error event, the Monitor a ${status} and an ERROR line`, async () => {
      const { app, line, series, check } = await setup(
        { streamFault: fault, faultAfterTokens: 3 },
        { UPSTREAM_TIMEOUT_MS: '300' },
      );
      const text = await readStream(`${app.baseUrl}/v1/chat/completions`, { ...userMessage(), stream: true });
      expect(text).toContain('"content":"The"');
      expect(text).not.toMatch(/^data: \[DONE\]$/m);
      const lastEvent = text.trim().split('\n\n').at(-1)!;
      expect(JSON.parse(lastEvent.slice('data: '.length)).error).toMatchObject({ code, type: 'upstream_error' });
      const err = await line('level=ERROR&module=vlm');
      expect(err.params).toMatchObject({ code, status });
      check();
      expect(await series('http_status_5xx', 'endpoint=/v1/chat/completions')).toBe(1);
      expect(await series('http_status_4xx', 'endpoint=/v1/chat/completions')).toBe(0);
    });
  }

  it('a cut in a non-streamed answer is a 502 too', async () => {
    const { app, line } = await setup({ streamFault: 'cut' });
    const res = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await blackboardPhoto(320, 240)) });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('UPSTREAM_STREAM_CUT');
    expect(await line('level=ERROR&module=ocr')).toMatchObject({ event: 'Model server cut the stream' });
  });

  it('a client that leaves mid-stream is "client closed" at INFO: 499, never an ERROR', async () => {
    const { fake, app, logs, line, series, check } = await setup({ tokens: 200, tokenIntervalMs: 20 });
    const ac = new AbortController();
    const res = await request(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...userMessage(), stream: true }),
      signal: ac.signal,
    });
    for await (const chunk of res.body) if (chunk.toString().includes('"content"')) break;
    ac.abort();
    await vi.waitFor(() => expect(fake.abortedStreams).toBe(1));
    expect((await line('module=vlm')).event).toBe('Client closed the request');
    expect(await logs('level=ERROR')).toHaveLength(0);
    check();
    expect(await series('http_status_4xx', 'endpoint=/v1/chat/completions')).toBe(1);
    expect(await series('http_status_5xx', 'endpoint=/v1/chat/completions')).toBe(0);
    expect(await series('model_error_count', 'module=vlm,code=CLIENT_CLOSED')).toBeGreaterThan(0);
  });
});

describe('a stream event without its blank line', () => {
  it('is held to MAX_SSE_EVENT_BYTES: the client gets an error event, the Monitor a 502 and an ERROR line', async () => {
    // A model server that starts an event and never ends it (the run sent 300 MB: 881 MB of memory).
    let sent = 0;
    let upstreamClosed = false;
    const upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hi' } }] })}\n\n`);
      res.write('data: {"choices":[{"index":0,"delta":{"content":"');
      const more = () => {
        while (!upstreamClosed && sent < 64 * MAX_SSE_EVENT_BYTES) {
          sent += 64 * 1024;
          if (!res.write('x'.repeat(64 * 1024))) return void res.once('drain', more);
        }
      };
      res.on('close', () => {
        upstreamClosed = true;
      });
      more();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const clock = steppedClock();
    const app = await startApp(
      { UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, LOG_SAMPLE_RATE: '1' },
      { clock, probes: false },
    );
    cleanups.push(() => app.close());

    const text = await readStream(`${app.baseUrl}/v1/chat/completions`, { ...userMessage(), stream: true });
    expect(text).toContain('"content":"Hi"');
    expect(text).not.toContain('xxxx');
    const lastEvent = text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(lastEvent.slice('data: '.length)).error).toMatchObject({
      code: 'UPSTREAM_BAD_ANSWER',
      type: 'upstream_error',
    });
    // The model server's connection is closed, not drained to its end.
    await vi.waitFor(() => expect(upstreamClosed).toBe(true));
    expect(sent).toBeLessThan(64 * MAX_SSE_EVENT_BYTES);
    const err = await vi.waitFor(async () => {
      const [l] = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR&module=vlm`)).json()) as any).lines;
      expect(l).toBeDefined();
      return l;
    });
    expect(err).toMatchObject({
      event: 'Model server answered badly',
      params: { code: 'UPSTREAM_BAD_ANSWER', status: 502 },
    });
    expect(err.params.message).toContain(`more than ${MAX_SSE_EVENT_BYTES} bytes`);
  });
});

describe('a bug in the server', () => {
  it('is one ERROR line in the Monitor (no stack trace, no file paths); the client gets 500 with the request id', async () => {
    const config = loadConfig({
      DATA_DIR: (await import('node:os')).tmpdir(),
      PORT: '0',
      LOG_LEVEL: 'silent',
      MONITOR_TOKEN: 'a'.repeat(32),
    });
    const built = await buildApp(config, { logger: false, probes: false });
    cleanups.push(() => built.close());
    built.app.get('/boom', async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    const res = await built.app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toEqual({
      code: 'INTERNAL',
      app_code: 'INTERNAL',
      message: `Internal server error (request ${res.headers['x-request-id']})`,
      type: 'server_error',
      param: null,
    });
    const [err] = built.log.query({ level: 'ERROR' });
    expect(err).toMatchObject({
      module: 'http',
      event: 'Request failed',
      params: { code: 'INTERNAL', message: "Cannot read properties of undefined (reading 'x')" },
    });
    expect(JSON.stringify(err)).not.toMatch(/\n|\.ts:\d+|\.js:\d+/);
  });
});

describe('a whole answer past UPSTREAM_MAX_ANSWER_BYTES', () => {
  /**
   * A model server whose one answer never ends (it would send 64 MiB), chunked or with that
   * length declared; what it sent, and whether it was cut.
   */
  async function endlessAnswer(declared: boolean) {
    const state = { sent: 0, closed: false };
    const upstream = createServer((req, res) => {
      req.resume();
      const start = '{"choices":[{"message":{"content":"';
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declared ? { 'content-length': String(start.length + 64 * MiB + 4) } : {}),
      });
      res.write(start);
      const more = () => {
        while (!state.closed && state.sent < 64 * MiB) {
          state.sent += 64 * 1024;
          if (!res.write('x'.repeat(64 * 1024))) return void res.once('drain', more);
        }
      };
      res.on('close', () => {
        state.closed = true;
      });
      more();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const app = await startApp(
      {
        UPSTREAM_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
        UPSTREAM_MAX_ANSWER_BYTES: String(MiB),
        LOG_SAMPLE_RATE: '1',
      },
      { clock: steppedClock(), probes: false },
    );
    cleanups.push(() => app.close());
    return { app, state };
  }

  for (const [route, module, body, declared] of [
    ['/api/ocr', 'ocr', async () => ({ image: dataUrl(await blackboardPhoto(320, 240)) }), false],
    ['/v1/chat/completions', 'vlm', async () => userMessage(), false],
    ['/v1/chat/completions', 'vlm', async () => userMessage(), true],
  ] as const) {
    it(`${route}, ${declared ? 'its length declared' : 'chunked'}: 502 naming the setting, the model server's connection cut, an ERROR line`, async () => {
      const { app, state } = await endlessAnswer(declared);
      const res = await postJson(`${app.baseUrl}${route}`, await body());
      expect(res.status).toBe(502);
      expect(res.json.error).toMatchObject({ code: 'UPSTREAM_BAD_ANSWER' });
      expect(res.json.error.message).toContain(`larger than ${MiB} bytes (UPSTREAM_MAX_ANSWER_BYTES)`);
      await vi.waitFor(() => expect(state.closed).toBe(true));
      expect(state.sent).toBeLessThan(16 * MiB);
      const err = await vi.waitFor(async () => {
        const [l] = (
          (await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR&module=${module}`)).json()) as any
        ).lines;
        expect(l).toBeDefined();
        return l;
      });
      expect(err.params).toMatchObject({ code: 'UPSTREAM_BAD_ANSWER', status: 502 });
    });
  }
});
