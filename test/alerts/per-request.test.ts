// Per-request rules from every module: each matching OCR, GUI, video or chat request
// raises its own alert, carrying its request id, client and module; each writes a log
// line at the rule's severity (info too, whatever the sampling), and history keeps them.
// Each notice is dismissed by its request id (there is no state to acknowledge).
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock, userMessage } from '../helpers.js';
import { blackboardPhoto, dataUrl } from '../pipeline/images.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('per-request alerts', () => {
  it('come from every module with the request id, client and module, in the log and the history', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2, reply: 'ok' },
    });
    // Sampling drops every ordinary INFO line: the alert's own line must still be there.
    const app = await startApp(
      { UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '0' },
      { clock: steppedClock(), probes: false, alertSleep: async () => {} },
    );
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const rule = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'Large input',
      metric: 'input_token_count',
      op: '>',
      threshold: 100,
      perRequest: true,
      severity: 'info',
      channels: ['console'],
    });
    expect(rule.status).toBe(201);
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    const popups: any[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'alert') popups.push(...msg.data.alerts);
    });
    await new Promise((r) => ws.on('open', r));
    cleanups.push(async () => ws.close());

    const photo = dataUrl(await blackboardPhoto(1280, 960));
    const sent = [
      await postJson(`${app.baseUrl}/api/ocr`, { image: photo }, { 'x-client-id': 'ocr-client' }),
      await postJson(
        `${app.baseUrl}/api/gui/execute`,
        { screenshot: photo, instruction: 'click login' },
        { 'x-client-id': 'gui-agent' },
      ),
      await postJson(
        `${app.baseUrl}/api/video`,
        { frames: [photo, photo, photo, photo], question: 'what changes?' },
        { 'x-client-id': 'video-app' },
      ),
      await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage('x '.repeat(500)), {
        'x-client-id': 'chat-user',
      }),
    ];
    for (const r of sent) expect(r.status).toBe(200);
    const ids = sent.map((r) => r.headers.get('x-request-id'));
    await vi.waitFor(() => expect(popups).toHaveLength(4));
    expect(
      popups.map((p) => [p.context.request.module, p.context.request.client, p.context.request.requestId]),
    ).toEqual([
      ['ocr', 'ocr-client', ids[0]],
      ['gui', 'gui-agent', ids[1]],
      ['video', 'video-app', ids[2]],
      ['vlm', 'chat-user', ids[3]],
    ]);

    const lines = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?module=alert`)).json()) as any).lines.reverse();
    expect(lines.map((l: any) => [l.level, l.event, l.params.module, l.params.request_id])).toEqual([
      ['INFO', 'Per-request alert', 'ocr', ids[0]],
      ['INFO', 'Per-request alert', 'gui', ids[1]],
      ['INFO', 'Per-request alert', 'video', ids[2]],
      ['INFO', 'Per-request alert', 'vlm', ids[3]],
    ]);
    expect(lines[0].params).toMatchObject({ rule: 'Large input', client: 'ocr-client', threshold: '> 100' });

    const history = (
      (await (await fetch(`${app.baseUrl}/api/monitor/alerts/history?ruleId=${rule.json.id}`)).json()) as any
    ).history;
    const states = history.filter((h: any) => h.kind === 'state');
    expect(states.map((h: any) => h.requestId).sort()).toEqual([...ids].sort());
    expect(states.find((h: any) => h.requestId === ids[1])).toMatchObject({
      client: 'gui-agent',
      labels: { module: 'gui' },
      to: 'firing',
    });
  });

  it('write a warning rule as WARN and a critical one as ERROR', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2 },
    });
    const app = await startApp(
      { UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '0' },
      { probes: false, alertSleep: async () => {} },
    );
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    for (const severity of ['warning', 'critical']) {
      await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
        name: `big ${severity}`,
        metric: 'input_token_count',
        op: '>',
        threshold: 10,
        perRequest: true,
        severity,
        channels: ['console'],
      });
    }
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage('x '.repeat(200)));
    await vi.waitFor(async () => {
      const lines = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?module=alert`)).json()) as any).lines;
      expect(lines.map((l: any) => `${l.level} ${l.params.rule}`).sort()).toEqual([
        'ERROR big critical',
        'WARN big warning',
      ]);
    });
  });

  it('are dismissed by their request id from any tab, once; acknowledging one without it says how', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2 },
    });
    const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false, alertSleep: async () => {} });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const rule = (
      await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
        name: 'Long-context risk',
        metric: 'input_token_count',
        op: '>',
        threshold: 100,
        perRequest: true,
        severity: 'info',
      })
    ).json;
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    const messages: any[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'alert') messages.push(msg.data);
    });
    await new Promise((r) => ws.on('open', r));
    cleanups.push(async () => ws.close());
    const sent = await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage('x '.repeat(500)), {
      'x-client-id': 'batch-job',
    });
    const requestId = sent.headers.get('x-request-id')!;
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    expect(messages[0].alerts[0].context.request).toMatchObject({ requestId, client: 'batch-job' });

    const ack = (body: unknown) => postJson(`${app.baseUrl}/api/monitor/alerts/active/ack`, body);
    const asAck = await ack({ ruleId: rule.id, labels: { module: 'vlm' } });
    expect(asAck.status).toBe(400);
    expect(asAck.json.error).toMatchObject({ field: 'requestId' });
    expect(asAck.json.error.message).toContain('raises one notice per request; dismiss one with its requestId');

    const dismissed = await ack({ ruleId: rule.id, labels: { module: 'vlm' }, requestId, by: 'lin' });
    expect(dismissed).toMatchObject({ status: 200, json: { dismissed: true } });
    await vi.waitFor(() => expect(messages).toHaveLength(2));
    expect(messages[1]).toMatchObject({ ack: true, ruleId: rule.id, requestId, labels: { module: 'vlm' }, by: 'lin' });
    expect((await ack({ ruleId: rule.id, requestId })).status).toBe(404);
    const history = ((await (await fetch(`${app.baseUrl}/api/monitor/alerts/history?ruleId=${rule.id}`)).json()) as any)
      .history;
    expect(history[0]).toMatchObject({ requestId, from: 'firing', to: 'inactive', detail: 'dismissed by lin' });
  });
});
