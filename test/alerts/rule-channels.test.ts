// A rule names only channels that exist: a missing one is refused at its field when a rule
// is made, changed or tested; presets import with the channels that exist and say which
// are not set up; a rule whose channel was deleted later is kept, said in its history
// once per notice and in the log once, never an ERROR storm.
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../receiver.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

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

const hot = (channels: string[]) => ({
  name: 'GPU hot',
  metric: 'gpu_temperature_celsius',
  op: '>',
  threshold: 85,
  consecutiveChecks: 1,
  severity: 'critical',
  channels,
});
const REFUSED = {
  code: 'CHANNEL_NOT_SET_UP',
  field: 'channels[1]',
  message: 'channels[1]: no channel named "webhook"; set one up in Settings → Channels or remove it',
};

const logLines = async (app: TestApp, query: string) =>
  ((await (await fetch(`${app.baseUrl}/api/monitor/logs?${query}`)).json()) as any).lines as any[];

describe('a rule naming a channel that does not exist', () => {
  it('is refused at the field when it is made, changed or tested, and nothing is saved', async () => {
    const { app } = await startWith();
    const made = await api(app, '/rules', 'POST', hot(['console', 'webhook']));
    expect(made).toMatchObject({ status: 400, json: { error: REFUSED } });
    expect((await api(app, '/rules')).json.rules).toEqual([]);

    const rule = (await api(app, '/rules', 'POST', hot(['console']))).json;
    const changed = await api(app, `/rules/${rule.id}`, 'PUT', hot(['console', 'webhook']));
    expect(changed).toMatchObject({ status: 400, json: { error: REFUSED } });
    expect((await api(app, `/rules/${rule.id}`)).json.channels).toEqual(['console']);

    const tested = await api(app, '/rules/test', 'POST', hot(['console', 'webhook']));
    expect(tested).toMatchObject({ status: 400, json: { error: REFUSED } });

    // Once the channel is set up, the same rule is taken.
    const hook = await startReceiver(cleanups);
    await api(app, '/channels', 'POST', { name: 'webhook', type: 'webhook', url: hook.url });
    expect((await api(app, `/rules/${rule.id}`, 'PUT', hot(['console', 'webhook']))).status).toBe(200);
    expect((await api(app, '/rules/test', 'POST', hot(['console', 'webhook']))).status).toBe(200);
  });

  it('saved before its channel was deleted: kept, editable, said once in the log and in each alert’s history', async () => {
    const hook = await startReceiver(cleanups);
    const { app, clock } = await startWith();
    await api(app, '/channels', 'POST', { name: 'ops-hook', type: 'webhook', url: hook.url });
    const rule = (await api(app, '/rules', 'POST', hot(['console', 'ops-hook']))).json;
    expect((await api(app, '/channels/ops-hook', 'DELETE')).status).toBe(204);

    // Three notices (firing, resolved, firing again) and a second rule on the same channel.
    const check = async (celsius: number) => {
      clock.advance(10_000);
      app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, clock(), celsius);
      app.monitor!.check(clock());
      await app.alerts!.idle();
    };
    await check(91);
    await check(70);
    await check(92);

    const missed = (await api(app, '/history')).json.history.filter((h: any) => h.channel === 'ops-hook');
    expect(missed.map((h: any) => [h.ruleId, h.ok, h.code, h.labels])).toEqual(
      Array(3).fill([rule.id, false, 'CHANNEL_NOT_SET_UP', { gpu: '0' }]),
    );
    expect(missed[0].detail).toBe(
      'not sent: no channel named "ops-hook"; set one up in Settings → Channels or remove it',
    );
    expect(await logLines(app, 'level=ERROR&module=alert')).toEqual([]);
    const said = await logLines(app, 'level=WARN&module=alert&q=not%20set%20up');
    expect(said.map((l) => [l.event, l.params.channel, l.params.rules])).toEqual([
      ['alert channel not set up', 'ops-hook', 'GPU hot'],
    ]);
    // The console still got every notice.
    expect((await api(app, '/history')).json.history.filter((h: any) => h.channel === 'console' && h.ok)).toHaveLength(
      3,
    );

    // The rule is kept (across a restart too) and can still be switched off or edited,
    // keeping the channel it named; a new unknown channel is still refused.
    expect((await api(app, `/rules/${rule.id}`)).json.channels).toEqual(['console', 'ops-hook']);
    const { id: _id, ...body } = rule;
    expect((await api(app, `/rules/${rule.id}`, 'PUT', { ...body, enabled: false })).status).toBe(200);
    expect((await api(app, `/rules/test?ruleId=${rule.id}`, 'POST', body)).status).toBe(200);
    expect((await api(app, '/rules/test', 'POST', body)).json.error).toMatchObject({
      code: 'CHANNEL_NOT_SET_UP',
      field: 'channels[1]',
    });
    expect(
      (await api(app, `/rules/${rule.id}`, 'PUT', { ...body, channels: ['console', 'pager'] })).json.error,
    ).toEqual(expect.objectContaining({ code: 'CHANNEL_NOT_SET_UP', field: 'channels[1]' }));
    const again = await startWith(app.dataDir);
    expect((await api(again.app, '/rules')).json.rules.map((r: any) => [r.name, r.channels, r.enabled])).toEqual([
      ['GPU hot', ['console', 'ops-hook'], false],
    ]);
  });
});

describe('presets', () => {
  it('import with the channels that exist, and say which of theirs are not set up', async () => {
    const { app } = await startWith();
    const before = (await api(app, '/presets')).json.presets;
    expect(before.find((p: any) => p.id === 'p95-latency').channelsNotSetUp).toEqual(['webhook']);
    expect(before.find((p: any) => p.id === 'long-context').channelsNotSetUp).toEqual([]);

    const imported = await api(app, '/presets/p95-latency/import', 'POST');
    expect(imported.status).toBe(200);
    expect(imported.json.channelsNotSetUp).toEqual(['webhook']);
    expect(imported.json.rule).toMatchObject({ id: 'preset:p95-latency', channels: ['console'] });
    expect((await api(app, '/rules')).json.rules.map((r: any) => r.channels)).toEqual([['console']]);

    // Set the channel up and import again: the same rule, now with it.
    const preset = async () => (await api(app, '/presets')).json.presets.find((p: any) => p.id === 'p95-latency');
    expect(await preset()).toMatchObject({
      imported: true,
      channelsNotSetUp: ['webhook'],
      channelsLeftOut: ['webhook'],
    });
    const hook = await startReceiver(cleanups);
    await api(app, '/channels', 'POST', { name: 'webhook', type: 'webhook', url: hook.url });
    expect(await preset()).toMatchObject({ imported: true, channelsNotSetUp: [], channelsLeftOut: ['webhook'] });
    const again = await api(app, '/presets/p95-latency/import', 'POST');
    expect(again.json).toMatchObject({ rule: { channels: ['console', 'webhook'] }, channelsNotSetUp: [] });
    expect(await preset()).toMatchObject({ channelsNotSetUp: [], channelsLeftOut: [] });
    expect((await api(app, '/rules')).json.rules).toHaveLength(1);
  });
});
