// The same node's alert reaches Alertmanager twice: from the node itself (its Alertmanager
// channel) and from Prometheus evaluating the node's exported rules over its /metrics. With
// the node scraped under its MONITOR_JOB and MONITOR_INSTANCE, both carry one label set, so
// Alertmanager holds one group with one alert, as amtool shows it; scraped under another
// name, the exported rules say so (Qwen3VLMonitorLabelsDisagree).
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, steppedClock, type TestApp } from '../helpers.js';
import { startReceiver } from '../receiver.js';
import { AMTOOL, oneWebhookRoute, pollUntil, runTool, startAlertmanager, startPrometheus } from './real-programs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const api = (app: TestApp, path: string, body: unknown) =>
  fetch(`${app.baseUrl}/api/monitor/alerts${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

/**
 * A node with two rules sent to Alertmanager: one on a GPU gauge (a series of its own in
 * /metrics) and one on a figure Prometheus aggregates (OCR errors a minute: a sum over the
 * node's counters, which must keep the node's `job` and `instance`). `>= 0` holds with no
 * traffic, on the node and in Prometheus alike.
 */
async function nodeWithRules(alertmanagerUrl: string) {
  // A minute behind the wall clock Alertmanager reads: the node's alerts are current to it.
  const clock = steppedClock(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const app = await startApp({ MONITOR_INSTANCE: 'node-eco' }, { clock, probes: false, alertSleep: async () => {} });
  cleanups.push(() => app.close());
  expect(
    (await api(app, '/channels', { name: 'fleet-am', type: 'alertmanager', urls: [alertmanagerUrl] })).status,
  ).toBe(201);
  const channels = ['console', 'fleet-am'];
  const gpu = await api(app, '/rules', {
    name: 'GPU memory high',
    metric: 'gpu_memory_utilization_percent',
    op: '>',
    threshold: 90,
    consecutiveChecks: 1,
    severity: 'critical',
    channels,
  });
  expect(gpu.status).toBe(201);
  const ocr = await api(app, '/rules', {
    name: 'OCR errors seen',
    metric: 'ocr_error_count',
    op: '>=',
    threshold: 0,
    consecutiveChecks: 1,
    severity: 'warning',
    channels,
  });
  expect(ocr.status).toBe(201);
  const breach = async () => {
    app.monitor!.store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), 96);
    app.monitor!.store.record('ocr_error_count', {}, clock(), 0);
    app.monitor!.check(clock());
    await app.alerts!.idle();
  };
  const exported = await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
  return { app, breach, exported, ruleIds: [gpu.json.id as string, ocr.json.id as string] };
}

describe('one label set for the node and Prometheus', () => {
  it('one breach is one alert in Alertmanager, from both senders, for a gauge and for a sum', {
    timeout: 90_000,
  }, async () => {
    const hook = await startReceiver(cleanups);
    const am = await startAlertmanager(oneWebhookRoute(hook.url, 300));
    cleanups.push(() => am.stop());
    const node = await nodeWithRules(am.url);
    const target = new URL(node.app.baseUrl).host;
    const prometheus = await startPrometheus({
      targets: [target],
      instances: { [target]: 'node-eco' },
      rules: node.exported,
      alertmanager: new URL(am.url).host,
    });
    cleanups.push(() => prometheus.stop());

    await node.breach();
    // The node's own alerts were taken by Alertmanager …
    for (const ruleId of node.ruleIds) {
      const history = await (await fetch(`${node.app.baseUrl}/api/monitor/alerts/history?ruleId=${ruleId}`)).json();
      expect(history.history.some((h: any) => h.channel === 'fleet-am' && h.ok)).toBe(true);
    }
    // … and Prometheus fires the same rules from /metrics, and sends them there too.
    const firing = (alerts: any[], name: string) =>
      alerts.find((a) => a.labels.alertname === name && a.state === 'firing');
    const fromPrometheus = await pollUntil('Prometheus to fire the exported rules', async () => {
      const alerts = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()).data.alerts as any[];
      const both = [firing(alerts, 'GPU memory high'), firing(alerts, 'OCR errors seen')];
      return both.every(Boolean) ? both : undefined;
    });
    const fromNode = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as any[];
    expect(fromNode).toHaveLength(2);
    const nodeAlert = (name: string) => fromNode.find((a) => a.labels.alertname === name);
    // One label set: what Prometheus sends is what the node sent, a gauge's or a sum's.
    for (const p of fromPrometheus) expect(p.labels).toEqual(nodeAlert(p.labels.alertname).labels);
    expect(nodeAlert('GPU memory high').labels).toMatchObject({
      instance: 'node-eco',
      job: 'qwen3vl',
      gpu: '0',
      severity: 'critical',
    });
    expect(nodeAlert('OCR errors seen').labels).toMatchObject({ instance: 'node-eco', job: 'qwen3vl' });
    // Both carry a summary and a description.
    for (const a of [...fromPrometheus, ...fromNode])
      expect(Object.keys(a.annotations)).toEqual(expect.arrayContaining(['summary', 'description']));
    // Prometheus has sent them (its Alertmanager answered); still one alert a rule, as amtool sees it.
    await pollUntil('Prometheus to have sent its alerts', async () => {
      const own = await (await fetch(`${prometheus.url}/metrics`)).text();
      const sent = /^prometheus_notifications_sent_total\{[^}]*\} (\S+)$/m.exec(own);
      return sent && Number(sent[1]) >= 2 ? true : undefined;
    });
    const queried = JSON.parse(
      runTool(AMTOOL, ['alert', 'query', '--alertmanager.url', am.url, '-o', 'json']).output,
    ) as any[];
    expect(queried).toHaveLength(2);
    const amGroups = (await (await fetch(`${am.url}/api/v2/alerts/groups`)).json()) as any[];
    expect(amGroups.map((g) => g.alerts.length)).toEqual([1, 1]);
    // The names agree, so the export's self-check is quiet.
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules?type=alert`)).json()).data.groups[0]
      .rules as any[];
    expect(rules.find((r) => r.name === 'Qwen3VLMonitorLabelsDisagree')).toMatchObject({
      health: 'ok',
      state: 'inactive',
    });
  });

  it('scraped under its address instead of its name, the exported rules say so', { timeout: 60_000 }, async () => {
    const node = await nodeWithRules('http://127.0.0.1:9/');
    const target = new URL(node.app.baseUrl).host;
    const prometheus = await startPrometheus({ targets: [target], rules: node.exported });
    cleanups.push(() => prometheus.stop());
    const warning = await pollUntil('the self-check to fire', async () => {
      const alerts = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()).data.alerts as any[];
      return alerts.find((a) => a.labels.alertname === 'Qwen3VLMonitorLabelsDisagree');
    });
    expect(warning.labels).toMatchObject({ instance: target, monitor_instance: 'node-eco', monitor_job: 'qwen3vl' });
    expect(warning.annotations.summary).toBe(
      `Prometheus scrapes node-eco as instance ${target}, job qwen3vl; its own alerts say instance node-eco, job qwen3vl`,
    );
  });
});
