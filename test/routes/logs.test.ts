import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, userMessage } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('structured log over HTTP', () => {
  it('records a failed chat request as an ERROR with the context to act on, and nothing secret', async () => {
    const fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 1, failStatus: 500, ttftMs: 1, tokenIntervalMs: 0 } });
    const app = await startApp({ UPSTREAM_URL: fake.url, UPSTREAM_API_KEY: 'sk-upstream-secret', LOG_SAMPLE_RATE: '0' }, { probes: false });
    cleanups.push(() => fake.close(), () => app.close());
    const res = await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage(), { 'x-client-id': 'team-ocr', authorization: 'Bearer client-secret-key' });
    expect(res.status).toBe(500);

    // The ERROR line is written once free GPU memory has been read (after the reply).
    const body = await vi.waitFor(async () => {
      const b = (await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR`)).json()) as any;
      expect(b.lines).toHaveLength(1);
      return b;
    });
    const line = body.lines[0];
    // Chat's failures are the vlm module's, named for what failed.
    expect(line).toMatchObject({ level: 'ERROR', module: 'vlm', event: 'Model server error' });
    expect(line.params).toMatchObject({ endpoint: '/v1/chat/completions', status: 500, code: 'UPSTREAM_ERROR' });
    expect(line.params.request_id).toBe(res.headers.get('x-request-id'));
    expect(line.params.client).toMatch(/^key:[0-9a-f]{8}$/); // the key's hash, never the key
    expect(line.params.message).toContain('simulated failure (500)');
    // The image is named by its hash and size, never included.
    expect(line.params.image_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(line.params.input_size).toBe('8B');
    const all = JSON.stringify(await (await fetch(`${app.baseUrl}/api/monitor/logs?limit=1000`)).json());
    expect(all).not.toContain('client-secret-key');
    expect(all).not.toContain('sk-upstream-secret');
    expect(all).not.toContain('iVBORw0KGgo');
  });

  it('samples INFO lines at LOG_SAMPLE_RATE until boosted, and pushes kept lines on the stream', async () => {
    const fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2 } });
    const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '0' }, { probes: false });
    cleanups.push(() => fake.close(), () => app.close());
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage());
    expect(((await (await fetch(`${app.baseUrl}/api/monitor/logs?module=vlm`)).json()) as any).lines).toHaveLength(0);

    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    const messages: any[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.on('open', r));
    const boost = await postJson(`${app.baseUrl}/api/monitor/logs/boost`, { minutes: 5 });
    expect(boost.json.sampleRate).toBe(1);
    expect((await postJson(`${app.baseUrl}/api/monitor/logs/boost`, { minutes: -1 })).json.error.field).toBe('minutes');
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage());
    const lines = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?module=vlm`)).json()) as any).lines;
    expect(lines).toHaveLength(1);
    expect(lines[0].params).toMatchObject({ stream: false, completion_tokens: 2 });
    await vi.waitFor(() => expect(messages.some((m) => m.type === 'log' && m.data.event === 'Chat completion')).toBe(true));
    expect((await fetch(`${app.baseUrl}/api/monitor/logs?level=LOUD`)).status).toBe(400);
    ws.close();
  });
});
