import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../receiver.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const receiver = () => startReceiver(cleanups);

const api = (app: TestApp, path: string, method = 'GET', body?: unknown) =>
  fetch(`${app.baseUrl}/api/monitor/alerts${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => ({ status: r.status, json: r.status === 204 ? null : ((await r.json()) as any) }));

async function startWith(dataDir?: string) {
  const clock = steppedClock();
  const app = await startApp(dataDir ? { DATA_DIR: dataDir } : {}, {
    clock,
    probes: false,
    alertSleep: async () => {},
  });
  cleanups.push(() => app.close());
  return { app, clock };
}

const byName = (view: any, name: string) => view.channels.find((c: any) => c.name === name);
const hotRule = (channels: string[]) => ({
  name: 'GPU hot',
  metric: 'gpu_temperature_celsius',
  op: '>',
  threshold: 85,
  consecutiveChecks: 1,
  severity: 'critical',
  channels,
});

describe('channels as a list', () => {
  it('holds any number of each kind; a rule notifies exactly the channels it names', async () => {
    const ops = await receiver();
    const team = await receiver();
    const { app, clock } = await startWith();
    const put = await api(app, '/channels', 'PUT', {
      channels: [
        {
          name: 'ops-hook',
          type: 'webhook',
          url: `${ops.base}/ops?token=0123456789abcdef0123`,
          format: 'slack',
          secret: 'ops-secret',
        },
        { name: 'team-hook', type: 'webhook', url: `${team.base}/team`, format: 'generic', timeoutMs: 2000 },
        {
          name: 'mail-oncall',
          type: 'email',
          host: '127.0.0.1',
          port: 2525,
          from: 'monitor@example.com',
          to: ['oncall@example.com'],
          password: 'smtp-pass',
        },
        {
          name: 'am',
          type: 'alertmanager',
          urls: ['http://127.0.0.1:9093', 'http://am-1.example:9093'],
          labels: { cluster: 'gpu-a' },
          secret: 'bearer-token',
        },
      ],
    });
    expect(put.status).toBe(200);
    // The console comes first and is always there; secrets never come back; URLs are masked.
    expect(put.json.channels.map((c: any) => `${c.name}:${c.type}`)).toEqual([
      'console:console',
      'ops-hook:webhook',
      'team-hook:webhook',
      'mail-oncall:email',
      'am:alertmanager',
    ]);
    expect(byName(put.json, 'ops-hook')).toEqual({
      name: 'ops-hook',
      type: 'webhook',
      url: `${ops.base}/ops?token=…0123`,
      format: 'slack',
      style: 'rich',
      timeoutMs: 5000,
      secretSet: true,
    });
    expect(byName(put.json, 'mail-oncall')).toMatchObject({ passwordSet: true, timeoutMs: 10000 });
    expect(byName(put.json, 'am')).toMatchObject({
      urls: ['http://127.0.0.1:9093/', 'http://am-1.example:9093/'],
      labels: { cluster: 'gpu-a' },
      instance: null,
      secretSet: true,
    });
    const shown = JSON.stringify((await api(app, '/channels')).json);
    for (const secret of ['ops-secret', 'smtp-pass', 'bearer-token', '0123456789abcdef0123'])
      expect(shown).not.toContain(secret);

    await api(app, '/rules', 'POST', hotRule(['console', 'ops-hook']));
    app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, clock(), 91);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    expect(ops.got).toHaveLength(1);
    expect(ops.got[0]!.path).toBe('/ops?token=0123456789abcdef0123');
    expect(ops.got[0]!.body.text).toContain('[FIRING] critical GPU hot (gpu=0)');
    expect(team.got).toHaveLength(0);
    const deliveries = (await api(app, '/history')).json.history.filter((h: any) => h.kind === 'delivery');
    expect(deliveries.map((h: any) => h.channel).sort()).toEqual(['console', 'ops-hook']);
  });

  it('adds, shows, changes, tests and removes one channel by name, keeping its secret', async () => {
    const hook = await receiver();
    const { app } = await startWith();
    const add = await api(app, '/channels', 'POST', {
      name: 'dingtalk-ops',
      type: 'webhook',
      url: `${hook.base}/robot/send?access_token=9f0c1d2e3b4a5968aa3f2a`,
      format: 'dingtalk',
      secret: 'sign-me',
    });
    expect(add.status).toBe(201);
    expect(add.json).toMatchObject({
      name: 'dingtalk-ops',
      url: `${hook.base}/robot/send?access_token=…3f2a`,
      secretSet: true,
    });
    expect(
      (await api(app, '/channels', 'POST', { name: 'dingtalk-ops', type: 'webhook', url: hook.base })).status,
    ).toBe(409);
    expect((await api(app, '/channels', 'POST', { name: 'console', type: 'webhook', url: hook.base })).status).toBe(
      409,
    );
    expect((await api(app, '/channels/dingtalk-ops')).json).toEqual(add.json);

    // An edit that sends the masked URL back and no secret keeps both.
    const edit = await api(app, '/channels/dingtalk-ops', 'PUT', {
      type: 'webhook',
      url: add.json.url,
      format: 'generic',
      timeoutMs: 1500,
    });
    expect(edit.json).toMatchObject({ format: 'generic', timeoutMs: 1500, secretSet: true, url: add.json.url });
    const stored = JSON.parse(readFileSync(join(app.dataDir, 'alert-channels.json'), 'utf8'));
    expect(stored.version).toBe(2);
    expect(stored.data.channels[0]).toMatchObject({
      name: 'dingtalk-ops',
      url: `${hook.base}/robot/send?access_token=9f0c1d2e3b4a5968aa3f2a`,
      secret: 'sign-me',
    });
    expect(
      (await api(app, '/channels/dingtalk-ops', 'PUT', { name: 'renamed', type: 'webhook' })).json.error.field,
    ).toBe('name');

    const test = await api(app, '/channels/dingtalk-ops/test', 'POST');
    expect(test.json).toMatchObject({
      channel: 'dingtalk-ops',
      delivered: true,
      attempts: [{ channel: 'dingtalk-ops', ok: true }],
    });
    expect(hook.got[0]!.body).toMatchObject({ source: 'qwen3vl-monitor', test: true });
    expect(hook.got[0]!.headers['x-qwen3vl-signature']).toMatch(/^sha256=/);

    expect((await api(app, '/channels/dingtalk-ops', 'DELETE')).status).toBe(204);
    expect((await api(app, '/channels/dingtalk-ops', 'DELETE')).status).toBe(404);
    expect((await api(app, '/channels/console', 'DELETE')).status).toBe(400);
    expect((await api(app, '/channels/nope', 'PUT', { type: 'webhook', url: hook.base })).status).toBe(404);
    expect((await api(app, '/channels/dingtalk-ops/test', 'POST')).status).toBe(404);
    expect((await api(app, '/channels')).json.channels.map((c: any) => c.name)).toEqual(['console']);
  });

  it('names the field of every mistake, in the list and in one channel', async () => {
    const { app } = await startWith();
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/channels', { channels: [{ name: 'a', type: 'pager' }] }, 'channels[0].type'],
      ['PUT', '/channels', { channels: [{ name: 'a', type: 'webhook', url: 'ftp://x' }] }, 'channels[0].url'],
      ['PUT', '/channels', { channels: [{ name: 'a', type: 'alertmanager', urls: [] }] }, 'channels[0].urls'],
      [
        'PUT',
        '/channels',
        { channels: [{ name: 'a', type: 'alertmanager', urls: ['http://am:9093'], labels: { '1bad': 'x' } }] },
        'channels[0].labels.1bad',
      ],
      [
        'PUT',
        '/channels',
        { channels: [{ name: 'a', type: 'email', host: 'smtp', from: 'me', to: ['ops@example.com'] }] },
        'channels[0].from',
      ],
      [
        'PUT',
        '/channels',
        { channels: [{ name: 'two words', type: 'webhook', url: 'https://x.example' }] },
        'channels[0].name',
      ],
      [
        'PUT',
        '/channels',
        {
          channels: [
            { name: 'a', type: 'webhook', url: 'https://x.example' },
            { name: 'a', type: 'webhook', url: 'https://y.example' },
          ],
        },
        'channels[1].name',
      ],
      [
        'PUT',
        '/channels',
        { channels: [{ name: 'a', type: 'webhook', url: 'https://x.example/?key=…abcd' }] },
        'channels[0].url',
      ],
      ['PUT', '/channels', { channels: [{ name: 'a', type: 'webhook' }] }, 'channels[0].url'],
      ['PUT', '/channels', { webhook: { url: 'https://x.example', format: 'teams' } }, 'webhook.format'],
      ['POST', '/channels', { name: 'a', type: 'alertmanager', urls: ['http://am:9093', 'http://…'] }, 'urls[1]'],
      ['POST', '/channels', { name: 'a', type: 'webhook', url: 'https://x.example', timeoutMs: 5 }, 'timeoutMs'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api(app, path, method, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error, JSON.stringify(body)).toMatchObject({ code: 'VALIDATION_FAILED', field });
      expect(r.json.error.message.startsWith(`${field}: `)).toBe(true);
    }
    expect((await api(app, '/channels')).json.channels).toHaveLength(1);
  });
});

describe('strict bodies', () => {
  it('refuses an unknown key anywhere, naming it, instead of dropping it', async () => {
    const { app } = await startWith();
    const cases: Array<[string, string, unknown, string]> = [
      // The issue's own example: a misspelt "webhooks" used to answer 200 and vanish.
      ['PUT', '/channels', { webhooks: [{ url: 'https://x.example' }] }, 'webhooks'],
      ['PUT', '/channels', { channels: [], extra: true }, 'extra'],
      [
        'PUT',
        '/channels',
        { channels: [{ name: 'a', type: 'webhook', url: 'https://x.example', secrets: 'x' }] },
        'channels[0].secrets',
      ],
      ['PUT', '/channels', { webhook: { url: 'https://x.example', fromat: 'slack' } }, 'webhook.fromat'],
      ['POST', '/channels', { name: 'am', type: 'alertmanager', url: 'http://am:9093' }, 'url'],
      ['POST', '/rules', { ...hotRule(['console']), treshold: 90 }, 'treshold'],
      [
        'POST',
        '/rules',
        { ...hotRule(['console']), and: { metric: 'gpu_utilization_percent', op: '>', threshold: 50, fro: '2m' } },
        'and.fro',
      ],
      ['POST', '/rules/test', { ...hotRule(['console']), chanels: ['email'] }, 'chanels'],
      ['POST', '/silences', { kind: 'daily', start: '01:50', end: '02:10', timezone: 'Asia/Shanghai' }, 'timezone'],
      [
        'POST',
        '/silences',
        { kind: 'once', startsAt: '2026-11-25T01:50:00Z', endsAt: '2026-11-25T02:10:00Z', matchers: { rule: 'x' } },
        'matchers.rule',
      ],
      ['POST', '/active/ack', { ruleId: 'x', user: 'lin' }, 'user'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api(app, path, method, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error, JSON.stringify(body)).toMatchObject({
        code: 'VALIDATION_FAILED',
        field,
        message: expect.stringContaining('unknown key'),
      });
    }
    expect((await api(app, '/rules')).json.rules).toEqual([]);
    expect((await api(app, '/silences')).json.silences).toEqual([]);
  });
});

describe('the first version of alert-channels.json', () => {
  it('becomes the channels named email and webhook, secrets kept, and rules naming them still deliver', async () => {
    const hook = await receiver();
    const first = await startWith();
    const dir = first.app.dataDir;
    // A rule names channels that exist: set up (in the first version's shape) before the rule.
    await api(first.app, '/channels', 'PUT', {
      email: { host: '127.0.0.1', port: 2525, from: 'monitor@example.com', to: ['ops@example.com'] },
      webhook: { url: `${hook.base}/hook`, format: 'generic' },
    });
    await api(first.app, '/rules', 'POST', hotRule(['console', 'webhook', 'email']));
    await first.app.close();
    cleanups.pop();
    // What a server before the list wrote: version 1, one email and one webhook object.
    writeFileSync(
      join(dir, 'alert-channels.json'),
      JSON.stringify({
        version: 1,
        savedAt: '2026-11-20T10:00:00.000Z',
        data: {
          email: {
            host: '127.0.0.1',
            port: 2525,
            secure: false,
            user: 'alerts',
            password: 'smtp-pass',
            from: 'monitor@example.com',
            to: ['ops@example.com'],
            timeoutMs: 300,
            allowSelfSigned: false,
          },
          webhook: { url: `${hook.base}/hook`, format: 'generic', secret: 'hook-secret', timeoutMs: 5000 },
        },
      }),
    );
    const { app, clock } = await startWith(dir);
    const view = (await api(app, '/channels')).json;
    expect(view.channels.map((c: any) => `${c.name}:${c.type}`)).toEqual([
      'console:console',
      'email:email',
      'webhook:webhook',
    ]);
    expect(byName(view, 'email')).toMatchObject({ user: 'alerts', passwordSet: true, to: ['ops@example.com'] });
    expect(byName(view, 'webhook')).toMatchObject({ url: `${hook.base}/hook`, secretSet: true });
    const logs = (await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR&module=alert`)).json()) as any;
    expect(logs.lines).toEqual([]);

    app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, clock(), 91);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    expect(hook.got).toHaveLength(1);
    expect(hook.got[0]!.headers['x-qwen3vl-signature']).toMatch(/^sha256=/);

    // The next save writes version 2, the secrets with it.
    await api(app, '/channels/webhook', 'PUT', { type: 'webhook', format: 'slack' });
    const stored = JSON.parse(readFileSync(join(dir, 'alert-channels.json'), 'utf8'));
    expect(stored.version).toBe(2);
    expect(stored.data.channels).toEqual([
      expect.objectContaining({ name: 'email', type: 'email', password: 'smtp-pass' }),
      expect.objectContaining({
        name: 'webhook',
        type: 'webhook',
        format: 'slack',
        secret: 'hook-secret',
        url: `${hook.base}/hook`,
      }),
    ]);
  });
});
