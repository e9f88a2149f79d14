// A fleet as docs/SCALE-OUT.md draws it: three WebUI nodes, one Prometheus scraping them
// with the rules a node exports, and an Alertmanager cluster of three. Every breach reaches
// every Alertmanager twice (the node's own Alertmanager channel lists all three, and
// Prometheus sends to all three), yet people get one notification: both senders' alerts
// carry one label set (one alert), and the cluster's notification log, gossiped between
// the peers, lets one peer notify. With one Alertmanager stopped, the others still notify,
// once.
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, steppedClock, type TestApp } from '../helpers.js';
import { startReceiver } from '../receiver.js';
import {
  ownMetric,
  pollUntil,
  type RunningAlertmanager,
  type RunningProgram,
  startAlertmanagerCluster,
  startPrometheus,
  oneWebhookRoute,
} from './real-programs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

// The cluster's timing, short so the test takes seconds (production: 15 s and 5 min). The
// peer at position p waits p × PEER_TIMEOUT before it looks in the notification log and
// notifies. A notification is logged only once its webhook has answered, then gossiped
// (every 50 ms): the receiver, in this test's busy process, must answer well inside the
// peer timeout, or the next peer notifies too (at 1 s a fresh-clone CI run on 2 cores got
// two notifications once). Alertmanager gives each flush of a group until the next one
// (group_interval) to finish, waiting included: the last peer's wait, 2 × PEER_TIMEOUT,
// must fit in GROUP_INTERVAL with room for its notification.
const PEER_TIMEOUT_MS = 1_500;
const GROUP_INTERVAL_MS = 4_000;
const RULE = 'preset:gpu-memory-critical';

const json = async (url: string, method = 'GET', body?: unknown) => {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as any };
};

/**
 * A node named `instance` with an Alertmanager channel listing the whole cluster and the
 * preset `gpu-memory-critical` (> 92 %, one check) sent to the console and that channel.
 * The preset's rule id, `preset:gpu-memory-critical`, is the same on every node, and so
 * are the `monitor_rule_id` label of its alerts and the export every node makes of it.
 */
async function node(instance: string, clock: ReturnType<typeof steppedClock>, cluster: RunningAlertmanager[]) {
  // Checks of a second: the export's rule group is evaluated every check interval, so
  // Prometheus fires a second or two after the scrape (10 s by default).
  const app = await startApp(
    { MONITOR_INSTANCE: instance, MONITOR_INTERVAL_MS: '1000' },
    { clock, probes: false, alertSleep: async () => {} },
  );
  cleanups.push(() => app.close());
  const alerts = `${app.baseUrl}/api/monitor/alerts`;
  const channel = { name: 'fleet-am', type: 'alertmanager', urls: cluster.map((am) => am.url) };
  expect((await json(`${alerts}/channels`, 'POST', channel)).status).toBe(201);
  const imported = await json(`${alerts}/presets/gpu-memory-critical/import`, 'POST', {});
  expect(imported.json.rule.id).toBe(RULE);
  const { id: _id, ...rule } = imported.json.rule;
  const changed = await json(`${alerts}/rules/${RULE}`, 'PUT', {
    ...rule,
    consecutiveChecks: 1,
    channels: ['console', 'fleet-am'],
  });
  expect(changed.status).toBe(200);
  return app;
}

/** Records GPU memory on a node and runs its check; resolves once its notices are out. */
async function check(app: TestApp, clock: ReturnType<typeof steppedClock>, gpus: Record<string, number>) {
  for (const [gpu, v] of Object.entries(gpus))
    app.monitor!.store.record('gpu_memory_utilization_percent', { gpu }, clock(), v);
  app.monitor!.check(clock());
  await app.alerts!.idle();
}

/**
 * Waits until every Alertmanager has had its chance to notify (again), bounded by the
 * cluster's own timing rather than a sleep. Each peer flushes the group every
 * GROUP_INTERVAL: a flush waits position × PEER_TIMEOUT, looks the group up in the
 * notification log (alertmanager_nflog_queries_total counts the look-ups), and notifies
 * only when no peer has logged these alerts as notified; the notification, if any, is
 * sent before that flush ends and the next one starts. Two look-ups after this call began
 * therefore mean that a flush which may have been waiting then has finished, sent
 * whatever it decided to send, and that a whole flush ran afterwards, at least its
 * position × PEER_TIMEOUT after the first notification was logged and gossiped: a peer
 * that would notify a second time has done so by then. (One group per peer here, so
 * every look-up is this group's.) It takes about 2 × GROUP_INTERVAL. With gossip made
 * slower than the peer timeout, the second notification that then comes late arrives
 * during this wait and the test fails, as it does with three unclustered Alertmanagers.
 */
async function everyPeerHadItsChance(peers: RunningAlertmanager[]) {
  const lookups = () => Promise.all(peers.map((am) => ownMetric(am, 'alertmanager_nflog_queries_total')));
  const before = await lookups();
  await pollUntil('every Alertmanager to look in its notification log twice more', async () =>
    (await lookups()).every((n, i) => n >= before[i]! + 2) ? true : undefined,
  );
}

/** Webhook notifications the cluster sent, as each peer counts them. */
const sentBy = (peers: RunningAlertmanager[]) =>
  Promise.all(peers.map((am) => ownMetric(am, 'alertmanager_notifications_total', { integration: 'webhook' })));

/** Waits until Prometheus has delivered more alerts than `before` to each of `peers` (it sends to all three). */
async function prometheusDelivered(prometheus: RunningProgram, peers: RunningAlertmanager[], before: number[]) {
  const sent = (am: RunningAlertmanager) =>
    ownMetric(prometheus, 'prometheus_notifications_sent_total', { alertmanager: `${am.url}/api/v2/alerts` });
  await pollUntil('Prometheus to send its alert to every Alertmanager', async () =>
    (await Promise.all(peers.map(sent))).every((n, i) => n > before[i]!) ? true : undefined,
  );
  return Promise.all(peers.map(sent));
}

describe('a fleet: three nodes, one Prometheus, an Alertmanager cluster of three', () => {
  it('one breach, one notification: from the cluster of three, and from the two left when one stops', {
    timeout: 90_000,
  }, async () => {
    const hook = await startReceiver(cleanups);
    const cluster = await startAlertmanagerCluster(
      oneWebhookRoute(hook.url, GROUP_INTERVAL_MS),
      3,
      { peerTimeout: `${PEER_TIMEOUT_MS}ms`, gossipInterval: '50ms', pushPullInterval: '1s' },
      cleanups,
    );
    expect((await Promise.all(cluster.map((am) => ownMetric(am, 'alertmanager_peer_position')))).sort()).toEqual([
      0, 1, 2,
    ]);

    // A minute behind the wall clock Alertmanager reads: the nodes' alerts are current to it.
    const clock = steppedClock(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const nodes = [];
    for (const name of ['node-1', 'node-2', 'node-3']) nodes.push(await node(name, clock, cluster));
    const node2 = nodes[1]!;
    // Every node exports the same rules: one file for the fleet's Prometheus.
    const exports = await Promise.all(
      nodes.map(async (n) => (await fetch(`${n.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text()),
    );
    const rules = exports[0]!;
    expect(exports.every((e) => e === rules)).toBe(true);
    expect(rules).toContain(`monitor_rule_id: "${RULE}"`);
    const targets = nodes.map((n) => new URL(n.baseUrl).host);
    const prometheus = await startPrometheus({
      targets,
      instances: Object.fromEntries(targets.map((t, i) => [t, `node-${i + 1}`])),
      rules,
      alertmanager: cluster.map((am) => new URL(am.url).host),
    });
    cleanups.push(() => prometheus.stop());
    // Prometheus sees the three nodes under their own names before anything breaches.
    await pollUntil('Prometheus to scrape the three nodes', async () => {
      const r = (await json(`${prometheus.url}/api/v1/targets`)).json.data.activeTargets as any[];
      return r.length === 3 && r.every((t) => t.health === 'up') ? r.map((t) => t.labels.instance).sort() : undefined;
    }).then((names) => expect(names).toEqual(['node-1', 'node-2', 'node-3']));

    const notices = () => hook.bodies() as any[];
    const naming = (instance: string, gpu: string) =>
      notices().filter(
        (n) =>
          n.groupLabels.instance === instance &&
          n.alerts.some((a: any) => a.labels.gpu === gpu && a.status === 'firing'),
      );

    // 1. GPU 0 of node 2 breaches. The node sends its alert to all three Alertmanagers, and
    //    Prometheus, evaluating the exported rule over node 2's /metrics, does the same.
    await check(node2, clock, { 0: 96 });
    const delivered = await json(`${node2.baseUrl}/api/monitor/alerts/history?ruleId=${RULE}`);
    expect(delivered.json.history.find((h: any) => h.channel === 'fleet-am')).toMatchObject({
      ok: true,
      detail: '1 alert(s) accepted by 3 of 3 Alertmanager(s)',
    });
    const first = await pollUntil('the notification', async () => naming('node-2', '0')[0]);
    expect(first.alerts).toHaveLength(1);
    expect(first.alerts[0].labels).toMatchObject({
      alertname: 'GPU memory critical',
      instance: 'node-2',
      job: 'qwen3vl',
      gpu: '0',
      monitor_rule_id: RULE,
    });
    const sentBefore = await prometheusDelivered(prometheus, cluster, [0, 0, 0]);
    // Both senders' alerts are one alert in every Alertmanager (one label set) …
    for (const am of cluster) {
      const held = (await json(`${am.url}/api/v2/alerts`)).json as any[];
      expect(held.map((a) => [a.labels.instance, a.labels.gpu])).toEqual([['node-2', '0']]);
    }
    // … and, once every peer has had its chance, one notification: one peer sent it.
    await everyPeerHadItsChance(cluster);
    expect(notices()).toHaveLength(1);
    const sent = await sentBy(cluster);
    expect(sent.slice().sort()).toEqual([0, 0, 1]);

    // 2. The Alertmanager that notified stops (it leaves the cluster); GPU 1 of node 2 breaches.
    const stopped = sent.indexOf(1);
    await cluster[stopped]!.stop();
    const live = cluster.filter((_, i) => i !== stopped);
    const prometheusBefore = sentBefore.filter((_, i) => i !== stopped);
    for (const am of live)
      await pollUntil('the others to see it gone', async () =>
        (await json(`${am.url}/api/v2/status`)).json.cluster.peers.length === 2 ? true : undefined,
      );
    clock.advance(1_000);
    await check(node2, clock, { 0: 96, 1: 97 });
    const history = (await json(`${node2.baseUrl}/api/monitor/alerts/history?ruleId=${RULE}`)).json.history as any[];
    // Newest first: the node's latest delivery reached the two that answer.
    expect(history.find((h) => h.channel === 'fleet-am')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/ accepted by 2 of 3 Alertmanager\(s\); /),
    });
    const second = await pollUntil('the notification of GPU 1', async () => naming('node-2', '1')[0]);
    expect(second.alerts.map((a: any) => a.labels.gpu).sort()).toEqual(['0', '1']);
    // Prometheus fires GPU 1 too and sends it to the two (what it sends next is a re-send, a minute on).
    await pollUntil('Prometheus to fire GPU 1', async () =>
      (await json(`${prometheus.url}/api/v1/alerts`)).json.data.alerts.find(
        (a: any) => a.labels.gpu === '1' && a.state === 'firing',
      ),
    );
    await prometheusDelivered(prometheus, live, prometheusBefore);
    for (const am of live) {
      const held = (await json(`${am.url}/api/v2/alerts`)).json as any[];
      expect(held.map((a) => [a.labels.instance, a.labels.gpu]).sort()).toEqual([
        ['node-2', '0'],
        ['node-2', '1'],
      ]);
    }
    await everyPeerHadItsChance(live);
    expect(naming('node-2', '1')).toHaveLength(1);
    expect(notices()).toHaveLength(2);
    expect((await sentBy(live)).reduce((a, b) => a + b)).toBe(1);
  });
});
