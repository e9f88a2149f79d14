// The "alertmanager" webhook format against Alertmanager itself. The upstream definition:
// notify/webhook/webhook.go's Message (version, groupKey, truncatedAlerts, and the
// embedded template.Data) and template/template.go's Data (receiver, status, alerts,
// groupLabels, commonLabels, commonAnnotations, externalURL) and Alert (status, labels,
// annotations, startsAt, endsAt, generatorURL, fingerprint), Alertmanager v0.25.0:
//   https://github.com/prometheus/alertmanager/blob/v0.25.0/notify/webhook/webhook.go
//   https://github.com/prometheus/alertmanager/blob/v0.25.0/template/template.go
// The test sends the same alerts through a real Alertmanager 0.25 (Debian's) to the same
// receiver and compares the two bodies field by field, firing and resolved.
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { alertSite } from '../../src/alerts/alert-site.js';
import { alertFingerprint, formatWebhook } from '../../src/alerts/notifiers/webhook-formats.js';
import { loadConfig } from '../../src/config.js';
import type { Notification } from '../../src/alerts/notifier.js';
import { startApp, steppedClock } from '../helpers.js';
import { pollUntil, startAlertmanager } from './real-programs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** template.Data's and webhook.Message's JSON fields, in the order Alertmanager writes them. */
const MESSAGE_FIELDS = [
  'receiver',
  'status',
  'alerts',
  'groupLabels',
  'commonLabels',
  'commonAnnotations',
  'externalURL',
  'version',
  'groupKey',
  'truncatedAlerts',
];
/** template.Alert's JSON fields. */
const ALERT_FIELDS = ['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint'];

interface Received {
  path: string;
  body: any;
}

async function receiver(): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, got };
}

const byFingerprint = (body: any) => ({
  ...body,
  alerts: [...body.alerts].sort((a: any, b: any) => a.fingerprint.localeCompare(b.fingerprint)),
});

describe('the alertmanager webhook format', () => {
  it('is what a real Alertmanager 0.25 sends for the same alerts, firing and resolved', async () => {
    const hook = await receiver();
    // Alertmanager routes by instance, as our notifications are grouped (one node, one group).
    const amConfig = [
      'route:',
      '  receiver: qwen3vl-monitor',
      '  group_by: [instance]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: qwen3vl-monitor',
      '    webhook_configs:',
      `      - url: ${hook.url}/alertmanager`,
      '        send_resolved: true',
      '',
    ].join('\n');
    const am = await startAlertmanager(amConfig, 'https://vlm.example.com');
    cleanups.push(() => am.stop());

    // Our side: a WebUI whose rule fires on two GPUs, then resolves (times in the past,
    // so Alertmanager takes the resolve as done).
    const clock = steppedClock(Math.floor(Date.now() / 1000) * 1000 - 600_000);
    const app = await startApp({ PUBLIC_URL: 'https://vlm.example.com' }, { clock, probes: false });
    cleanups.push(() => app.close());
    const api = (path: string, method: string, body: unknown) =>
      fetch(`${app.baseUrl}/api/monitor/alerts${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await api('/channels', 'PUT', { webhook: { url: `${hook.url}/ours`, format: 'alertmanager' } })).status,
    ).toBe(200);
    expect(
      (
        await api('/rules', 'POST', {
          name: 'GPU memory sustained pressure',
          metric: 'gpu_memory_utilization_percent',
          op: '>',
          threshold: 90,
          consecutiveChecks: 1,
          severity: 'warning',
          channels: ['webhook'],
        })
      ).status,
    ).toBe(201);
    const check = async (value: number) => {
      for (const gpu of ['0', '1'])
        app.monitor!.store.record('gpu_memory_utilization_percent', { gpu }, clock(), value);
      app.monitor!.check(clock());
      await app.alerts!.idle();
    };
    await check(97);
    clock.advance(90_000);
    await check(40);
    const ours = hook.got.filter((g) => g.path === '/ours').map((g) => g.body);
    expect(ours.map((b) => b.status)).toEqual(['firing', 'resolved']);
    const [firing, resolved] = ours;

    // The same alerts into Alertmanager's API, as its clients (Prometheus) send them.
    const post = async (alerts: object[]) => {
      const res = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      expect(res.status).toBe(200);
    };
    await post(
      firing.alerts.map((a: any) => ({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        generatorURL: a.generatorURL,
      })),
    );
    // Alertmanager notifies a group as it stands: wait for the notice that holds both alerts.
    const fromAlertmanager = (status: string) => async () =>
      hook.got.find(
        (g) =>
          g.path === '/alertmanager' &&
          g.body.status === status &&
          g.body.alerts.length === 2 &&
          g.body.alerts.every((a: any) => a.status === status),
      )?.body;
    const amFiring = await pollUntil('Alertmanager to notify the firing group', fromAlertmanager('firing'));
    await post(
      resolved.alerts.map((a: any) => ({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        generatorURL: a.generatorURL,
      })),
    );
    const amResolved = await pollUntil('Alertmanager to notify the resolve', fromAlertmanager('resolved'));

    for (const [theirs, mine] of [
      [amFiring, firing],
      [amResolved, resolved],
    ] as const) {
      expect(Object.keys(theirs)).toEqual(MESSAGE_FIELDS);
      expect(Object.keys(mine)).toEqual(MESSAGE_FIELDS);
      for (const a of [...theirs.alerts, ...mine.alerts]) expect(Object.keys(a)).toEqual(ALERT_FIELDS);
      expect(byFingerprint(mine)).toEqual(byFingerprint(theirs));
    }

    // What the issue named, spelled out: the start survives the resolve, links are
    // absolute, labels and annotations in common are there, the group key is stable.
    expect(resolved.alerts[0].startsAt).toBe(firing.alerts[0].startsAt);
    expect(Date.parse(resolved.alerts[0].endsAt) - Date.parse(resolved.alerts[0].startsAt)).toBe(90_000);
    expect(firing.alerts[0].endsAt).toBe('0001-01-01T00:00:00Z');
    expect(firing.externalURL).toBe('https://vlm.example.com');
    expect(firing.alerts[0].generatorURL).toBe('https://vlm.example.com/#monitor');
    expect(firing.commonLabels).toEqual({
      alertname: 'GPU memory sustained pressure',
      // The rule's id, as the Prometheus export labels the same rule's alerts.
      monitor_rule_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      instance: hostname(),
      job: 'qwen3vl',
      severity: 'warning',
    });
    // The annotations this node's Alertmanager channel sends (alert-annotations.ts), value and threshold as the summary writes them.
    expect(firing.commonAnnotations).toEqual({
      metric: 'gpu_memory_utilization_percent',
      summary: 'gpu_memory_utilization_percent = 97 % (threshold > 90 %)',
      threshold: '> 90 %',
      value: '97 %',
    });
    expect(firing.groupKey).toBe(`{}:{instance="${hostname()}"}`);
    expect(resolved.groupKey).toBe(firing.groupKey);
  }, 60_000);

  it("computes Alertmanager's fingerprint, and takes the node's instance and URL from the site", () => {
    // Values a real Alertmanager 0.25 printed for these label sets.
    expect(alertFingerprint({ alertname: 'GPU lost', gpu: '1', instance: 'node-a', severity: 'critical' })).toBe(
      '145b8956222881c2',
    );
    expect(
      alertFingerprint({ alertname: 'GPU memory critical', gpu: '0', instance: 'node-a', severity: 'critical' }),
    ).toBe('18c53bcf22819137');
    const n: Notification = {
      id: 'n1',
      status: 'firing',
      alerts: [
        {
          ruleId: 'r',
          ruleName: 'P95 latency high',
          severity: 'warning',
          metric: 'latency_ms_p95',
          labels: { endpoint: '*' },
          status: 'firing',
          startsAt: '2026-11-25T12:00:00.250Z',
          endsAt: null,
          summary: 'latency_ms_p95 = 6.20 s (threshold > 5.00 s)',
          context: {
            value: 6200,
            threshold: 5000,
            op: '>',
            breachPoints: [],
            lastError: null,
            warningsBefore: [],
            gpuTemperatureCelsius: {},
            topClient: null,
            topClientLoad: null,
            monitorUrl: '/#monitor',
          },
        },
      ],
    };
    const body = formatWebhook('alertmanager', n, {
      instance: 'gpu-node-3',
      job: 'qwen3vl',
      externalUrl: 'https://vlm.example.com',
    }) as any;
    expect(body).toMatchObject({
      groupKey: '{}:{instance="gpu-node-3"}',
      groupLabels: { instance: 'gpu-node-3' },
      externalURL: 'https://vlm.example.com',
    });
    expect(body.alerts[0]).toMatchObject({
      startsAt: '2026-11-25T12:00:00.25Z',
      generatorURL: 'https://vlm.example.com/#monitor',
      labels: { instance: 'gpu-node-3', job: 'qwen3vl', endpoint: '*' },
    });
  });

  it('names the node by MONITOR_INSTANCE (default: the host name) and links by PUBLIC_URL (default: host and port)', () => {
    expect(alertSite(loadConfig({}), 'gpu-node-3')).toEqual({
      instance: 'gpu-node-3',
      job: 'qwen3vl',
      externalUrl: 'http://gpu-node-3:7860',
    });
    expect(
      alertSite(
        loadConfig({ MONITOR_INSTANCE: 'vlm-a', MONITOR_JOB: 'vlm', PUBLIC_URL: 'https://vlm.example.com/' }),
        'h',
      ),
    ).toEqual({
      instance: 'vlm-a',
      job: 'vlm',
      externalUrl: 'https://vlm.example.com',
    });
    expect(() => loadConfig({ MONITOR_INSTANCE: 'two words' })).toThrow(
      /MONITOR_INSTANCE="two words": expected a name without spaces/,
    );
  });
});
