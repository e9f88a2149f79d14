import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import type { LogLine } from '../../src/log/event-log.js';
import type { LogSummary } from '../../src/log/log-summary.js';
import { postJson, startApp, userMessage } from '../helpers.js';
import { blackboardPhoto, dataUrl, truncated } from '../pipeline/images.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('structured log over HTTP', () => {
  it('records a failed chat request as an ERROR with the context to act on, and nothing secret', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 1, failStatus: 500, ttftMs: 1, tokenIntervalMs: 0 },
    });
    const app = await startApp(
      { UPSTREAM_URL: fake.url, UPSTREAM_API_KEY: 'sk-upstream-secret', LOG_SAMPLE_RATE: '0' },
      { probes: false },
    );
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const res = await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage(), {
      'x-client-id': 'team-ocr',
      authorization: 'Bearer client-secret-key',
    });
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
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2 },
    });
    const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '0' }, { probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
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
    await vi.waitFor(() =>
      expect(messages.some((m) => m.type === 'log' && m.data.event === 'Chat completion')).toBe(true),
    );
    expect((await fetch(`${app.baseUrl}/api/monitor/logs?level=LOUD`)).status).toBe(400);
    // A module that writes no lines is a typo, not a quiet log: said, not answered with nothing.
    const typo = await fetch(`${app.baseUrl}/api/monitor/logs?module=ocrr`);
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { error: { field: string; message: string } }).error).toMatchObject({
      field: 'module',
      message: 'module: expected one of http, vlm, gui, ocr, video, gpu, alert',
    });
    expect((await fetch(`${app.baseUrl}/api/monitor/logs?module=vlm`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/api/monitor/logs?module=`)).status).toBe(200);
    // A number that is none: "expected a number", not "expected number, got number".
    for (const [query, message] of [
      ['limit=abc', 'limit: expected a number'],
      ['since=abc', 'since: expected a time in ms since the epoch'],
    ]) {
      const r = await fetch(`${app.baseUrl}/api/monitor/alerts/history?${query}`);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toBe(message);
    }
    ws.close();
  });

  it('searches the whole ring with the tutorial forms and gives a line its context', async () => {
    const app = await startApp({ LOG_SAMPLE_RATE: '1', LOG_RING_SIZE: '5000' }, { probes: false });
    cleanups.push(() => app.close());
    app.log.info('http', 'request received', { requestId: 'req-9', client: 'classroom-3' });
    app.log.warn('ocr', 'Image preproc failed', {
      reason: 'input is 3264x2448',
      image_hash: 'ab3f0011',
      request_id: 'req-9',
      client: 'classroom-3',
    });
    for (let i = 0; i < 4_000; i++) app.log.info('vlm', 'chat completion', { requestId: `c${i}` });
    const failed = app.log.error('http', 'request failed', { requestId: 'req-9', client: 'classroom-3', status: 400 });
    const get = async (path: string) => {
      const res = await fetch(`${app.baseUrl}${path}`);
      return { status: res.status, body: (await res.json()) as any };
    };
    const found = await get(`/api/monitor/logs?q=${encodeURIComponent('WARN ocr')}`);
    expect(found.body).toMatchObject({
      matched: 1,
      scanned: 4_003,
      ringSize: 5_000,
      sampleRate: 1,
      configuredSampleRate: 1,
      boostedUntil: null,
    });
    expect(found.body.lines[0]).toMatchObject({ level: 'WARN', module: 'ocr', event: 'Image preproc failed' });
    expect((await get('/api/monitor/logs?q=image_hash%3Dab3f')).body.matched).toBe(1);

    const ctx = await get(`/api/monitor/logs/${failed.seq}/context?by=request&before=5&after=5`);
    expect(ctx.status).toBe(200);
    expect(ctx.body).toMatchObject({ by: 'request', value: 'req-9', seq: failed.seq });
    expect(ctx.body.lines.map((l: any) => l.event)).toEqual([
      'request received',
      'Image preproc failed',
      'request failed',
    ]);
    const bad = await get(`/api/monitor/logs/${failed.seq}/context?by=user`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('by');
    expect((await get('/api/monitor/logs/999999/context')).status).toBe(404);
    const alertLine = app.log.warn('alert', 'Alert firing', { rule: 'x' });
    const noRequest = await get(`/api/monitor/logs/${alertLine.seq}/context?by=request`);
    expect(noRequest.status).toBe(400);
    expect(noRequest.body.error.message).toContain('has no request id');
  });

  it('answers `WARN ocr` over a replayed incident with a summary by event that adds up, each entry a filter', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokenLogprob: Math.log(0.95) },
    });
    const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1' }, { probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const ocr = (image: string, client: string) =>
      postJson(`${app.baseUrl}/api/ocr`, { image }, { 'x-client-id': client });
    // Calm: small photos, read with confidence.
    const small = dataUrl(await blackboardPhoto(640, 480));
    for (let k = 0; k < 6; k++) expect((await ocr(small, `classroom-${k + 1}`)).status).toBe(200);
    // The incident: full-size photos, one in ten cut off; unsure answers, some failures.
    const photo = await blackboardPhoto(3264, 2448);
    const full = dataUrl(photo);
    const cut = dataUrl(truncated(photo, 0.6));
    fake.behavior = { ...fake.behavior, tokenLogprob: Math.log(0.38), errorRate: 0.15 };
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, k) => ocr(k % 10 === 3 ? cut : full, `classroom-${(k % 6) + 1}`)),
    );
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    expect(count(400)).toBe(3);
    expect(count(200) + count(400) + count(500)).toBe(30);
    expect(count(500)).toBeGreaterThan(0); // the seeded model server fails some

    type Answer = { matched: number; newestSeq: number; summary: LogSummary; lines: LogLine[] };
    const search = async (q: string, limit = 5) =>
      (await (
        await fetch(`${app.baseUrl}/api/monitor/logs?limit=${limit}&q=${encodeURIComponent(q)}`)
      ).json()) as Answer;
    const warn = await search('WARN ocr');
    // Counted over every match, not the five lines returned; what the clients were told.
    expect(warn.lines).toHaveLength(5);
    expect(warn.summary.events.map((e) => [e.event, e.count])).toEqual([
      ['Low-confidence OCR', count(200)],
      ['Image preproc failed', 3],
    ]);
    expect(warn.summary.events.reduce((a, e) => a + e.count, 0) + warn.summary.other.count).toBe(warn.matched);
    expect(warn.matched).toBe(count(200) + 3);
    expect(warn.newestSeq).toBeGreaterThanOrEqual(warn.lines[0]!.seq);

    // A click on an entry narrows the search to it: its count, and lines that name the photo.
    const preproc = warn.summary.events.find((e) => e.event === 'Image preproc failed')!;
    const narrowed = await search(`WARN ocr ${preproc.filter}`, 100);
    expect(narrowed.matched).toBe(preproc.count);
    for (const line of narrowed.lines) expect(line.params).toMatchObject({ dimensions: '3264x2448' });
    const unsure = await search(`WARN ocr event="Low-confidence OCR"`, 100);
    expect(unsure.lines.length).toBe(count(200));
    for (const line of unsure.lines) expect(line.params).toMatchObject({ dimensions: '3264x2448' });

    // All of the module: the failures first, then the rest by how many.
    const all = await vi.waitFor(async () => {
      const r = await search('ocr');
      expect(r.summary.events[0]).toMatchObject({ event: 'Model server error', level: 'ERROR', count: count(500) });
      return r;
    });
    expect(all.summary.events.map((e) => e.event)).toEqual([
      'Model server error',
      'Low-confidence OCR',
      'Image preproc failed',
      'OCR done',
    ]);
    expect(all.summary.events.at(-1)!.count).toBe(6);
    expect(all.summary.events.reduce((a, e) => a + e.count, 0)).toBe(all.matched);
  });
});
