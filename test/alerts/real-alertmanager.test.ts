import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../receiver.js';
import { startApp, steppedClock } from '../helpers.js';
import { pollUntil, startAlertmanager } from '../prometheus/real-programs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Alertmanager's webhook notifications, as they arrive. */
async function webhookReceiver() {
  const r = await startReceiver(cleanups);
  return {
    url: `${r.base}/alertmanager`,
    get got() {
      return r.bodies();
    },
  };
}

async function alertmanagerWithHook(receiverUrl: string) {
  // Short waits so the test takes seconds; one group per alert name.
  const am = await startAlertmanager(
    [
      'route:',
      '  receiver: hook',
      '  group_by: [alertname]',
      '  group_wait: 100ms',
      '  group_interval: 300ms',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: hook',
      '    webhook_configs:',
      `      - url: ${receiverUrl}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  cleanups.push(() => am.stop());
  const url = am.url;
  return {
    url,
    alerts: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as any[],
    silence: async (matchers: Record<string, string>) => {
      const res = await fetch(`${url}/api/v2/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          matchers: Object.entries(matchers).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
          startsAt: new Date().toISOString(),
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          createdBy: 'test',
          comment: 'GPU 0 maintenance',
        }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { silenceID: string }).silenceID;
    },
    expire: async (id: string) =>
      expect((await fetch(`${url}/api/v2/silence/${id}`, { method: 'DELETE' })).status).toBe(200),
  };
}

describe('the Alertmanager channel, with a real Alertmanager', () => {
  it('fires into it with our labels and annotations, a silence there holds the alert back, and the resolve arrives', {
    timeout: 60_000,
  }, async () => {
    const hook = await webhookReceiver();
    const am = await alertmanagerWithHook(hook.url);

    // Our clock runs three minutes behind the wall clock Alertmanager reads, so the
    // resolve's endsAt is in the past for it while the firing alerts' endsAt (4 minutes
    // ahead of our now) is still in its future.
    const clock = steppedClock(Math.floor(Date.now() / 1000) * 1000 - 180_000);
    const t0 = clock();
    const app = await startApp({}, { clock, probes: false, alertSleep: async () => {} });
    cleanups.push(() => app.close());
    const api = (path: string, method: string, body: unknown) =>
      fetch(`${app.baseUrl}/api/monitor/alerts${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
    expect(
      (
        await api('/channels', 'POST', {
          name: 'fleet-am',
          type: 'alertmanager',
          urls: [am.url],
          labels: { cluster: 'gpu-a' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('/rules', 'POST', {
          name: 'GPU hot',
          metric: 'gpu_temperature_celsius',
          op: '>',
          threshold: 85,
          consecutiveChecks: 1,
          severity: 'critical',
          channels: ['console', 'fleet-am'],
        })
      ).status,
    ).toBe(201);
    const check = async (temps: Record<string, number>) => {
      for (const [gpu, v] of Object.entries(temps))
        app.monitor!.store.record('gpu_temperature_celsius', { gpu }, clock(), v);
      app.monitor!.check(clock());
      await app.alerts!.idle();
    };
    const alertIn = (n: any, gpu: string) => n.alerts.find((a: any) => a.labels.gpu === gpu);

    // 1. GPU 0 fires: Alertmanager notifies the receiver with our labels and annotations.
    await check({ 0: 91 });
    const firing = await pollUntil('the firing notification', async () =>
      hook.got.find((n) => alertIn(n, '0')?.status === 'firing'),
    );
    const a0 = alertIn(firing, '0');
    expect(a0.labels).toEqual({
      alertname: 'GPU hot',
      severity: 'critical',
      instance: hostname(),
      job: 'qwen3vl',
      gpu: '0',
      cluster: 'gpu-a',
      monitor_rule_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(a0.annotations).toMatchObject({
      summary: 'gpu_temperature_celsius = 91 °C (threshold > 85 °C)',
      metric: 'gpu_temperature_celsius',
      // As the summary writes them (they were raw numbers: "91", "> 85"; a latency's in ms beside a summary in s).
      value: '91 °C',
      threshold: '> 85 °C',
      gpu_temperature_celsius: 'gpu0=91',
    });
    expect(a0.annotations.description).toContain('Value: 91 °C (threshold > 85 °C)');
    expect(Date.parse(a0.startsAt)).toBe(t0);
    // endsAt = now + 4 × max(check interval, resend delay): Alertmanager resolves it by itself if we go quiet.
    expect(Date.parse((await am.alerts())[0].endsAt)).toBe(t0 + 4 * 60_000);

    // 2. A silence made in Alertmanager for GPU 0; then GPU 1 fires too. The group's next
    //    notification carries GPU 1 only.
    const silenceId = await am.silence({ alertname: 'GPU hot', gpu: '0' });
    await pollUntil('Alertmanager to mark GPU 0 suppressed', async () =>
      (await am.alerts()).find((a) => a.labels.gpu === '0')?.status.silencedBy[0] === silenceId ? true : undefined,
    );
    clock.advance(1_000);
    await check({ 0: 91, 1: 92 });
    const next = await pollUntil('the notification for GPU 1', async () => hook.got.find((n) => alertIn(n, '1')));
    expect(next.alerts.map((a: any) => `${a.labels.gpu}:${a.status}`)).toEqual(['1:firing']);

    // 3. Still firing a minute later: re-sent (as Prometheus does), so their end moves on.
    clock.advance(70_000);
    await check({ 0: 91, 1: 92 });
    await pollUntil('the re-sent alerts to move their end', async () =>
      (await am.alerts()).every((a) => Date.parse(a.endsAt) === clock() + 4 * 60_000) ? true : undefined,
    );

    // 4. The maintenance ends (silence expired) and GPU 0 cools down: the resolve arrives,
    //    with its start kept and its end when it resolved.
    await am.expire(silenceId);
    clock.advance(1_000);
    const resolvedAt = clock();
    await check({ 0: 50, 1: 92 });
    const resolved = await pollUntil('the resolved notification', async () =>
      hook.got.find((n) => alertIn(n, '0')?.status === 'resolved'),
    );
    expect(Date.parse(alertIn(resolved, '0').startsAt)).toBe(t0);
    expect(Date.parse(alertIn(resolved, '0').endsAt)).toBe(resolvedAt);
    expect(alertIn(resolved, '1').status).toBe('firing');
    // Only the silenced alert's notifications were held back: GPU 0 was never sent firing after the silence.
    const afterSilence = hook.got.slice(hook.got.indexOf(firing) + 1, hook.got.indexOf(resolved));
    expect(afterSilence.flatMap((n) => n.alerts.filter((a: any) => a.labels.gpu === '0'))).toEqual([]);

    // Our side recorded each delivery to the channel by its name.
    const history = (await (await fetch(`${app.baseUrl}/api/monitor/alerts/history`)).json()) as any;
    const deliveries = history.history.filter((h: any) => h.channel === 'fleet-am');
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(deliveries.every((h: any) => h.ok && /accepted by 1 of 1 Alertmanager/.test(h.detail))).toBe(true);
  });
});
