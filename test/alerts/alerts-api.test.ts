import { createHmac } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { type Answer, startReceiver } from '../receiver.js';
import { GPU_MEMORY_RULE, postJson, startApp, steppedClock, userMessage, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const receiver = (answer?: Answer) => startReceiver(cleanups, answer);

const api = (app: TestApp, path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.baseUrl}/api/monitor/alerts${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => ({ status: r.status, json: r.status === 204 ? null : ((await r.json()) as any) }));

async function startWith(env: Record<string, string> = {}, dataDir?: string) {
  const clock = steppedClock();
  const app = await startApp(
    { ...env, ...(dataDir ? { DATA_DIR: dataDir } : {}) },
    { clock, probes: false, alertSleep: async () => {} },
  );
  cleanups.push(() => app.close());
  return { app, clock };
}

const gpuRule = GPU_MEMORY_RULE;
/** The same rule, notifying the channel named webhook too (set up first: a rule names only channels that exist). */
const hookRule = { ...gpuRule, channels: ['console', 'webhook'] };

describe('alert rules over the API', () => {
  it('creates, reads, updates and deletes rules, names the bad field, and keeps them across a restart', async () => {
    const { app } = await startWith();
    const created = await api(app, '/rules', 'POST', gpuRule);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ...gpuRule, enabled: true, noData: 'keep' });
    const bad = await api(app, '/rules', 'POST', {
      ...gpuRule,
      and: { metric: 'gpu_utilization_percent', op: '>>', threshold: 50 },
    });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'VALIDATION_FAILED', field: 'and.op' } } });
    const updated = await api(app, `/rules/${created.json.id}`, 'PUT', { ...gpuRule, threshold: 92 });
    expect(updated.status).toBe(200);
    expect(updated.json.threshold).toBe(92);
    // PUT to an id not taken creates the rule under it: one rule, one id on every node of a fleet.
    const fleet = await api(app, '/rules/gpu-memory-fleet', 'PUT', gpuRule);
    expect(fleet).toMatchObject({ status: 201, json: { id: 'gpu-memory-fleet', threshold: gpuRule.threshold } });
    expect(await api(app, '/rules/not%20an%20id', 'PUT', gpuRule)).toMatchObject({
      status: 400,
      json: { error: { field: 'id' } },
    });

    const again = await startWith({}, app.dataDir);
    expect((await api(again.app, '/rules')).json.rules.map((r: any) => [r.id, r.threshold])).toEqual([
      [created.json.id, 92],
      ['gpu-memory-fleet', gpuRule.threshold],
    ]);
    expect((await api(again.app, `/rules/${created.json.id}`, 'DELETE')).status).toBe(204);
    expect((await api(again.app, '/rules/gpu-memory-fleet', 'DELETE')).status).toBe(204);
    expect((await api(again.app, '/rules')).json.rules).toEqual([]);
  });

  it('imports presets idempotently', async () => {
    const { app } = await startWith();
    const presets = (await api(app, '/presets')).json.presets;
    expect(presets.map((p: any) => p.id)).toContain('gpu-memory-pressure');
    await api(app, '/presets/gpu-memory-pressure/import', 'POST');
    await api(app, '/presets/gpu-memory-pressure/import', 'POST');
    expect((await api(app, '/rules')).json.rules).toHaveLength(1);
    expect((await api(app, '/presets')).json.presets.find((p: any) => p.id === 'gpu-memory-pressure').imported).toBe(
      true,
    );
    expect((await api(app, '/presets/nope/import', 'POST')).status).toBe(404);
  });

  it('needs the admin token for changes when one is set', async () => {
    const { app } = await startWith({ MONITOR_ADMIN_TOKEN: 'admin-token-0123456789' });
    expect((await api(app, '/rules', 'POST', gpuRule)).status).toBe(401);
    expect((await api(app, '/rules', 'POST', gpuRule, { 'x-admin-token': 'admin-token-0123456789' })).status).toBe(201);
    expect((await api(app, '/rules')).status).toBe(200);
  });

  it('starts from the last good copy when the rules file is damaged, keeping the bad one aside', async () => {
    const { app } = await startWith();
    await api(app, '/rules', 'POST', gpuRule);
    await api(app, '/rules', 'POST', { ...gpuRule, name: 'second' });
    writeFileSync(join(app.dataDir, 'alert-rules.json'), '{"version":1,"data":[{"trunc');
    const again = await startWith({}, app.dataDir);
    expect((await api(again.app, '/rules')).json.rules.map((r: any) => r.name)).toEqual([
      'GPU memory sustained pressure',
    ]);
    expect(readdirSync(app.dataDir).some((f) => f.startsWith('alert-rules.json.bad-'))).toBe(true);
    const logs = (await (await fetch(`${again.app.baseUrl}/api/monitor/logs?level=ERROR&module=alert`)).json()) as any;
    expect(logs.lines[0].params.problem).toContain('moved to');
    expect(existsSync(join(app.dataDir, 'alert-rules.json'))).toBe(true);
  });
});

describe('alert delivery', () => {
  it('fires at the 3rd breaching check: one console popup and one Alertmanager-format webhook, signed; then resolves', async () => {
    const hook = await receiver();
    const { app, clock } = await startWith();
    await api(app, '/channels', 'PUT', { webhook: { url: hook.url, format: 'alertmanager', secret: 'hook-secret' } });
    const channels = await api(app, '/channels');
    expect(channels.json.channels.find((c: any) => c.name === 'webhook')).toEqual({
      name: 'webhook',
      type: 'webhook',
      url: hook.url,
      format: 'alertmanager',
      style: 'rich',
      timeoutMs: 5000,
      secretSet: true,
    });
    expect(JSON.stringify(channels.json)).not.toContain('hook-secret');
    await api(app, '/rules', 'POST', hookRule);

    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    const popups: any[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'alert') popups.push(msg.data);
    });
    await new Promise((r) => ws.on('open', r));
    cleanups.push(async () => ws.close());

    const check = async (v: number) => {
      clock.advance(10_000);
      app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), v);
      app.monitor!.check(clock());
      await app.alerts!.idle();
    };
    await check(95);
    await check(96);
    expect(hook.got).toHaveLength(0);
    expect((await api(app, '/active')).json.alerts[0]).toMatchObject({ state: 'pending', breaches: 2 });
    await check(97);
    expect(hook.got).toHaveLength(1);
    const msg = hook.got[0]!;
    expect(msg.body).toMatchObject({
      version: '4',
      status: 'firing',
      alerts: [
        { status: 'firing', labels: { alertname: 'GPU memory sustained pressure', severity: 'warning', gpu: '0' } },
      ],
    });
    expect(msg.headers['x-qwen3vl-signature']).toBe(
      `sha256=${createHmac('sha256', 'hook-secret').update(msg.raw).digest('hex')}`,
    );
    await vi.waitFor(() => expect(popups).toHaveLength(1));
    expect(popups[0].alerts[0]).toMatchObject({
      ruleName: 'GPU memory sustained pressure',
      status: 'firing',
      context: { value: 97, threshold: 90 },
    });
    expect(popups[0].alerts[0].context.breachPoints.map((p: number[]) => p[1])).toEqual([95, 96, 97]);
    await check(98); // still firing: no second notice
    expect(hook.got).toHaveLength(1);
    await check(50);
    expect(hook.got).toHaveLength(2);
    expect(hook.got[1]!.body.status).toBe('resolved');
    const history = (await api(app, '/history')).json.history;
    expect(
      history
        .filter((h: any) => h.kind === 'state')
        .map((h: any) => `${h.from}->${h.to}`)
        .reverse(),
    ).toEqual(['inactive->pending', 'pending->firing', 'firing->inactive']);
  });

  it('retries a failing webhook, and a dead one does not stop the console', async () => {
    const flaky = await receiver((n) => ({ status: n === 0 ? 500 : 200 }));
    const { app, clock } = await startWith();
    await api(app, '/channels', 'PUT', { webhook: { url: flaky.url, format: 'slack' } });
    await api(app, '/rules', 'POST', { ...hookRule, consecutiveChecks: 1 });
    app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), 99);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    expect(flaky.got).toHaveLength(2);
    expect(flaky.got[1]!.body.text).toContain('[FIRING] warning GPU memory sustained pressure (gpu=0)');
    expect(flaky.got[1]!.body.blocks[1].text.text).toContain('*[WARNING] GPU memory sustained pressure* (gpu=0)');
    const attempts = (await api(app, '/history')).json.history.filter((h: any) => h.channel === 'webhook').reverse();
    expect(attempts.map((a: any) => [a.attempt, a.ok])).toEqual([
      [1, false],
      [2, true],
    ]);

    // Now a webhook that never answers in time: recorded as failed, console still delivered.
    const dead = await receiver(() => ({ status: 200, delayMs: 2_000 }));
    await api(app, '/channels', 'PUT', { webhook: { url: dead.url, format: 'generic', timeoutMs: 100 } });
    await api(app, '/rules', 'POST', { ...hookRule, name: 'other', labels: { gpu: '1' }, consecutiveChecks: 1 });
    clock.advance(10_000);
    app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '1' }, clock(), 99);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    const h = (await api(app, '/history')).json.history;
    expect(h.filter((x: any) => x.channel === 'webhook' && !x.ok)[0].detail).toContain('no answer within 100 ms');
    expect(h.filter((x: any) => x.channel === 'console' && x.ok).length).toBeGreaterThanOrEqual(2);
    const errors = (await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR&module=alert`)).json()) as any;
    expect(errors.lines[0].event).toBe('alert delivery failed');
  });

  it('sends a test notification per channel', async () => {
    const hook = await receiver();
    const { app } = await startWith();
    await api(app, '/channels', 'PUT', { webhook: { url: hook.url, format: 'feishu' } });
    const r = await api(app, '/channels/webhook/test', 'POST');
    expect(r.json).toMatchObject({ channel: 'webhook', delivered: true });
    expect(hook.got[0]!.body).toMatchObject({ msg_type: 'interactive' });
    expect(hook.got[0]!.body.card.header.title.content).toContain('[TEST]');
    expect((await api(app, '/channels/email/test', 'POST')).status).toBe(404);
  });

  it('raises a per-request alert for a long-context request, with that request in the context', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2 },
    });
    cleanups.push(() => fake.close());
    const { app } = await startWith({ UPSTREAM_URL: fake.url });
    await api(app, '/rules', 'POST', {
      name: 'Long-context risk',
      metric: 'input_token_count',
      op: '>',
      threshold: 1000,
      perRequest: true,
      severity: 'info',
      channels: ['console'],
    });
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    const popups: any[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'alert') popups.push(msg.data);
    });
    await new Promise((r) => ws.on('open', r));
    cleanups.push(async () => ws.close());
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage('short'));
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage('x '.repeat(5000)), {
      'x-client-id': 'batch-job',
    });
    await vi.waitFor(() => expect(popups).toHaveLength(1));
    expect(popups[0].alerts[0]).toMatchObject({
      severity: 'info',
      ruleName: 'Long-context risk',
      context: { request: { client: 'batch-job', module: 'vlm', source: 'upstream' } },
    });
    expect(popups[0].alerts[0].context.request.inputTokens).toBeGreaterThan(1000);
    // The top client as numbers for the browser to say in its language, and in English
    // for mail and webhooks; each client sent one request: "1 request", not "1 requests".
    const { topClient, topClientLoad } = popups[0].alerts[0].context;
    expect(topClientLoad).toMatchObject({ client: expect.any(String), requests: 1, windowMinutes: 5 });
    expect(topClient).toBe(
      `${topClientLoad.client} (${topClientLoad.requestSeconds.toFixed(1)} request-s, 1 request in 5 min)`,
    );
  });
});

describe('silences and history in the engine', () => {
  it('records a silenced alert without notifying, then notifies once when the window ends if still firing', async () => {
    const { app, clock } = await startWith();
    const popups: any[] = [];
    app.monitor!.hub.broadcast = (type, data) => {
      if (type === 'alert') popups.push(data);
    };
    await api(app, '/rules', 'POST', { ...gpuRule, consecutiveChecks: 1, channels: ['console'] });
    const start = new Date(clock()).toISOString();
    const end = new Date(clock() + 25_000).toISOString();
    const silence = await api(app, '/silences', 'POST', {
      kind: 'once',
      startsAt: start,
      endsAt: end,
      comment: 'model hot update',
    });
    expect(silence.status).toBe(201);
    const check = async (v: number) => {
      app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), v);
      app.monitor!.check(clock());
      await app.alerts!.idle();
      clock.advance(10_000);
    };
    await check(99); // t=0: fires, silenced
    await check(99); // t=10 s
    await check(99); // t=20 s
    expect(popups).toHaveLength(0);
    const held = (await api(app, '/history')).json.history.filter((h: any) => h.kind === 'silenced');
    expect(held).toHaveLength(1);
    expect(held[0].detail).toContain('model hot update');
    await check(99); // t=30 s: the window has ended, still firing → one notice
    await check(99);
    expect(popups).toHaveLength(1);
    expect(popups[0].status).toBe('firing');
    expect((await api(app, '/silences')).json.silences).toHaveLength(1);
    expect((await api(app, `/silences/${silence.json.id}`, 'DELETE')).status).toBe(204);
    expect((await api(app, '/silences', 'POST', { kind: 'daily', start: '1:50', end: '02:10' })).json.error.field).toBe(
      'start',
    );
  });

  it('keeps the history across a restart', async () => {
    const { app, clock } = await startWith();
    await api(app, '/rules', 'POST', { ...gpuRule, consecutiveChecks: 1, channels: ['console'] });
    app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), 99);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    await app.close();
    cleanups.pop();
    const again = await startWith({}, app.dataDir);
    const history = (await api(again.app, '/history?severity=warning')).json.history;
    expect(history.map((h: any) => `${h.from}->${h.to}`)).toEqual(['inactive->firing']);
  });
});

describe('test rule', () => {
  it('replays a rule on the last hour and says whether it would fire, and why', async () => {
    const { app, clock } = await startWith();
    for (const v of [50, 95, 96, 97]) {
      clock.advance(10_000);
      app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), v);
      app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '1' }, clock(), 20);
    }
    const r = await api(app, '/rules/test', 'POST', gpuRule);
    expect(r.json).toMatchObject({ wouldFire: true, checksReplayed: 4 });
    expect(r.json.instances[0]).toMatchObject({ labels: { gpu: '0' }, state: 'firing', value: 97, breaches: 3 });
    expect(r.json.instances[0].reason).toContain('held 3 consecutive check(s): firing');
    const four = await api(app, '/rules/test', 'POST', { ...gpuRule, consecutiveChecks: 4 });
    expect(four.json.wouldFire).toBe(false);
    expect(four.json.instances[0].reason).toBe('breaching for 3 check(s); fires after 4 consecutive check(s)');
    const none = await api(app, '/rules/test', 'POST', { ...gpuRule, metric: 'gpu_temperature_celsius' });
    expect(none.json.instances[0].reason).toContain('no data for gpu_temperature_celsius');
    expect((await api(app, '/rules/test', 'POST', { ...gpuRule, op: '~' })).json.error.field).toBe('op');
  });
});

describe('while an alert fires', () => {
  it('repeats at repeatInterval, can be acknowledged from the console, and carries recent requests when asked', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 2 },
    });
    cleanups.push(() => fake.close());
    const { app, clock } = await startWith({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1' });
    const popups: any[] = [];
    app.monitor!.hub.broadcast = (type, data) => {
      if (type === 'alert') popups.push(data);
    };
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage(), { 'x-client-id': 'gui-bot' });
    const rule = (
      await api(app, '/rules', 'POST', {
        ...gpuRule,
        consecutiveChecks: 1,
        channels: ['console'],
        repeatInterval: '1m',
        captureRequests: true,
      })
    ).json;
    const check = async () => {
      app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), 99);
      app.monitor!.check(clock());
      await app.alerts!.idle();
      clock.advance(10_000);
    };
    for (let i = 0; i < 8; i++) await check(); // t = 0 … 70 s (repeatInterval is at least 1m)
    expect(popups.map((p) => p.status)).toEqual(['firing', 'firing']); // at 0 s and again at 60 s
    expect(popups[0].alerts[0].context.recentRequests[0]).toContain('INFO vlm Chat completion');
    expect(popups[0].alerts[0].context.recentRequests[0]).toContain('client=gui-bot');

    const ack = await api(app, '/active/ack', 'POST', { ruleId: rule.id, labels: { gpu: '0' }, by: 'lin' });
    expect(ack.json).toEqual({ acknowledged: true });
    expect(popups.at(-1)).toMatchObject({ ack: true, ruleId: rule.id, labels: { gpu: '0' }, by: 'lin' });
    expect((await api(app, '/active')).json.alerts[0]).toMatchObject({ state: 'firing', acknowledgedBy: 'lin' });
    expect((await api(app, '/active/ack', 'POST', { ruleId: 'nope' })).status).toBe(404);
  });
});

describe('webhook formats and grouping', () => {
  it('speaks each receiver format to a real HTTP receiver', async () => {
    const hook = await receiver();
    const { app } = await startWith();
    const shapes: Record<string, (b: any) => void> = {
      generic: (b) => expect(b).toMatchObject({ source: 'qwen3vl-monitor', status: 'firing', test: true }),
      alertmanager: (b) =>
        expect(b).toMatchObject({
          version: '4',
          receiver: 'qwen3vl-monitor',
          alerts: [{ labels: { alertname: 'Test notification' } }],
        }),
      dingtalk: (b) =>
        expect(b).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.stringContaining('[TEST]') } }),
      feishu: (b) =>
        expect(b).toMatchObject({
          msg_type: 'interactive',
          card: { header: { title: { content: expect.stringContaining('[TEST]') } } },
        }),
      wecom: (b) =>
        expect(b).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('[TEST]') } }),
      slack: (b) => expect(b).toMatchObject({ text: expect.stringContaining('[TEST]') }),
    };
    for (const [format, check] of Object.entries(shapes)) {
      await api(app, '/channels', 'PUT', { webhook: { url: hook.url, format } });
      expect((await api(app, '/channels/webhook/test', 'POST')).json.delivered).toBe(true);
      check(hook.got.at(-1)!.body);
    }
    expect(hook.got).toHaveLength(6);
  });

  it('groups the alerts of one check to one channel into one message', async () => {
    const hook = await receiver();
    const { app, clock } = await startWith();
    await api(app, '/channels', 'PUT', { webhook: { url: hook.url, format: 'alertmanager' } });
    await api(app, '/rules', 'POST', { ...hookRule, labels: {}, consecutiveChecks: 1 });
    for (const gpu of ['0', '1', '2'])
      app.monitor!.store.record('gpu_memory_utilization_percent', { gpu }, clock(), 99);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    expect(hook.got).toHaveLength(1);
    expect(hook.got[0]!.body.alerts.map((a: any) => a.labels.gpu)).toEqual(['0', '1', '2']);
    expect(hook.got[0]!.body.commonLabels).toMatchObject({
      alertname: 'GPU memory sustained pressure',
      severity: 'warning',
    });
  });
});
