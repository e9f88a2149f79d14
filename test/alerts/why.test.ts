// "Why is it firing" against planted causes: twenty minutes of a busy node's series with
// noise, one cause planted at the breach, and the cause must rank in the top three while
// series that only wander (even by 30 %) stay out of it. Then the same through the alert
// engine: a pending alert carries its `why` in the active list.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seededRandom } from '../../src/demo/fake-upstream.js';
import { explainWhy, seriesChange, type WhyInput, whyLines } from '../../src/alerts/why.js';
import { EventLog } from '../../src/log/event-log.js';
import { ClientStats } from '../../src/metrics/client-stats.js';
import { SeriesStore } from '../../src/metrics/series-store.js';
import { GPU_MEMORY_RULE, postJson, startApp, steppedClock } from '../helpers.js';

const INTERVAL = 5_000;
const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);
const BREACH = T0 + 15 * 60_000;
const NOW = BREACH + 2 * 60_000;

type Planted = Array<[metric: string, labels: Record<string, string>, value: number]>;

/**
 * A node of 8 GPUs and 5 endpoints: steady GPU memory, noisy latency and CPU, an idle
 * engine queue; `plant` gives, for a check `after` ms from the breach, values that replace
 * those series' own.
 */
function busyNode(plant: (after: number) => Planted) {
  const store = new SeriesStore({ intervalMs: INTERVAL });
  const random = seededRandom(7);
  const noise = (scale: number) => (random() - 0.5) * 2 * scale;
  for (let t = T0; t <= NOW; t += INTERVAL) {
    const planted = plant(t - BREACH);
    const put = (metric: string, labels: Record<string, string>, v: number) => {
      const p = planted.find(([m, l]) => m === metric && JSON.stringify(l) === JSON.stringify(labels));
      store.record(metric, labels, t, p ? p[2] : v);
      return p ? p[2] : v;
    };
    for (let g = 0; g < 8; g++) {
      put('gpu_memory_utilization_percent', { gpu: String(g) }, 60 + g + noise(0.2));
      put('gpu_memory_used_mib', { gpu: String(g) }, 40_000 + 100 * g + noise(50));
      put('gpu_utilization_percent', { gpu: String(g) }, 70 + noise(15));
      put('gpu_temperature_celsius', { gpu: String(g) }, 65 + noise(2));
    }
    let serverErrors = 0;
    for (const e of ['/v1/chat/completions', '/api/ocr', '/api/gui/step', '/api/video', '/healthz']) {
      // Latency wanders by ±30 % around its level, before and after the breach alike.
      put('latency_ms_p95', { endpoint: e }, 400 * (1 + noise(0.3)));
      put('requests_per_second', { endpoint: e }, 20 + noise(6));
      serverErrors += put('http_status_5xx', { endpoint: e, method: 'POST' }, Math.max(0, 1 + Math.round(noise(1))));
    }
    // The all-model-endpoints aggregate the collector keeps beside them: never a place.
    put('http_status_5xx', { endpoint: '*' }, serverErrors);
    put('cpu_load_percent', {}, 45 + noise(12));
    put('upstream_requests_waiting', { engine: 'vllm-0' }, Math.max(0, Math.round(noise(1))));
    put('upstream_requests_waiting', { engine: 'vllm-1' }, Math.max(0, Math.round(noise(1))));
    put('error_rate_percent', {}, 2 + noise(1));
  }
  return store;
}

/** The routes busyNode's model traffic goes to (its /healthz is a probe's). */
const MODEL_ENDPOINTS: ReadonlySet<string> = new Set([
  '/v1/chat/completions',
  '/api/ocr',
  '/api/gui/step',
  '/api/video',
]);

const why = (store: SeriesStore, own = { metric: 'error_rate_percent', labels: {} }, more: Partial<WhyInput> = {}) =>
  explainWhy({
    store,
    log: [],
    clientTotals: null,
    own,
    modelEndpoints: MODEL_ENDPOINTS,
    module: undefined,
    since: BREACH,
    now: NOW,
    intervalMs: INTERVAL,
    ...more,
  });
/** Client totals of one module from a ClientStats, as the alert engine passes them. */
const totalsOf =
  (clients: ClientStats, module: 'ocr' | 'vlm') => (what: 'requests' | 'inputTokens', end: number, windowMs: number) =>
    clients.moduleTotals(module, what, end, windowMs);

const top3 = (w: ReturnType<typeof why>) => w.changes.slice(0, 3).map((c) => `${c.metric}${JSON.stringify(c.labels)}`);

describe('why is it firing: what changed', () => {
  it('ranks one GPU whose memory climbs 4 points above twenty noisy series that wander by 30 %', () => {
    const store = busyNode((after) =>
      after >= 0 ? [['gpu_memory_utilization_percent', { gpu: '3' }, 63 + 4 + after / 60_000]] : [],
    );
    const w = why(store);
    expect(top3(w)[0]).toBe('gpu_memory_utilization_percent{"gpu":"3"}');
    expect(w.changes[0]).toMatchObject({ normal: expect.closeTo(63, 0) });
    expect(w.changes[0]!.now - w.changes[0]!.normal).toBeGreaterThan(4);
    // Latency moved by up to 30 % every minute: never a cause.
    expect(w.changes.some((c) => c.metric === 'latency_ms_p95')).toBe(false);
  });

  it("ranks an engine's queue growing from nothing", () => {
    const store = busyNode((after) =>
      after >= 0 ? [['upstream_requests_waiting', { engine: 'vllm-0' }, 4 + Math.floor(after / 10_000)]] : [],
    );
    expect(top3(why(store))).toContain('upstream_requests_waiting{"engine":"vllm-0"}');
  });

  it("leaves the alert's own series out, and says nothing changed when nothing did", () => {
    const store = busyNode(() => []);
    const w = why(store, { metric: 'cpu_load_percent', labels: {} });
    expect(w.changes.filter((c) => c.score >= 5)).toEqual([]);
    const planted = busyNode((after) => (after >= 0 ? [['cpu_load_percent', {}, 99]] : []));
    expect(why(planted, { metric: 'cpu_load_percent', labels: {} }).changes.map((c) => c.metric)).not.toContain(
      'cpu_load_percent',
    );
  });

  it("leaves out the operator's own traffic: the Monitor's API and probes are no cause", () => {
    const store = busyNode((after) => (after >= 0 ? [['latency_ms_p95', { endpoint: '/healthz' }, 900]] : []));
    // The page polled the Monitor's API until the operator looked away: 0.03 req/s, then none.
    for (let t = T0; t <= NOW; t += INTERVAL)
      store.record('requests_per_second', { endpoint: '/api/monitor/model', method: 'GET' }, t, t >= BREACH ? 0 : 0.03);
    const named = (w: ReturnType<typeof why>) => w.changes.map((c) => c.labels.endpoint);
    expect(named(why(store))).not.toContain('/api/monitor/model');
    expect(named(why(store))).not.toContain('/healthz');
    // Were they model traffic, both would rank: the case above is not empty by chance.
    const all = new Set([...MODEL_ENDPOINTS, '/api/monitor/model', '/healthz']);
    expect(named(why(store, undefined, { modelEndpoints: all }))).toEqual(
      expect.arrayContaining(['/api/monitor/model', '/healthz']),
    );
  });

  it('measures a change in spreads of its own baseline, floored at the step the page shows', () => {
    const points = (before: number[], after: number[]) => [
      ...before.map((v, i) => ({ t: BREACH - (before.length - i) * INTERVAL, v })),
      ...after.map((v, i) => ({ t: BREACH + i * INTERVAL, v })),
    ];
    // A flat 60 % moving to 63 %: three points over a floor of 0.5 % of 63 (the page's step is 0.5).
    expect(seriesChange(points([60, 60, 60, 60], [63]), BREACH, BREACH - 60_000, '%')!.score).toBeCloseTo(6, 5);
    // Noisy 200 ms ± 60 moving to 260 ms: one spread.
    const noisy = seriesChange(points([140, 200, 260, 200, 140, 260], [260]), BREACH, BREACH - 60_000, 'ms')!;
    expect(noisy.score).toBeLessThan(2);
    // Too little baseline: no normal, no change.
    expect(seriesChange(points([60, 60], [99]), BREACH, BREACH - 60_000, '%')).toBeNull();
  });
});

describe('why is it firing: where the change is concentrated', () => {
  const where = (w: ReturnType<typeof why>) => w.concentration.map((c) => `${c.dimension} ${c.value} of ${c.metric}`);

  it('names the endpoint that carries the server errors, and no place when nothing moved', () => {
    expect(why(busyNode(() => [])).concentration).toEqual([]);
    const store = busyNode((after) =>
      after >= 0 ? [['http_status_5xx', { endpoint: '/api/ocr', method: 'POST' }, 12]] : [],
    );
    const w = why(store);
    expect(top3(w)).toContain('http_status_5xx{"endpoint":"/api/ocr","method":"POST"}');
    expect(where(w)[0]).toBe('endpoint POST /api/ocr of http_status_5xx');
    expect(w.concentration[0]!.shareNow).toBeGreaterThan(0.7);
    expect(w.concentration[0]!.shareNormal).toBeLessThan(0.3);
    expect(whyLines(w)).toContain(
      `endpoint POST /api/ocr: ${Math.round(w.concentration[0]!.shareNow * 100)} % of http_status_5xx now, ${Math.round((w.concentration[0]!.shareNormal ?? Number.NaN) * 100)} % normally`,
    );
  });

  it('names the one GPU of eight whose memory climbs, by its share of the memory used', () => {
    const store = busyNode((after) => (after >= 0 ? [['gpu_memory_used_mib', { gpu: '3' }, 70_000 + after / 10]] : []));
    const w = why(store, { metric: 'gpu_memory_utilization_percent', labels: { gpu: '3' } });
    expect(top3(w)).toContain('gpu_memory_used_mib{"gpu":"3"}');
    expect(where(w)).toEqual(['gpu 3 of gpu_memory_used_mib']);
    // 12.5 % of the memory used normally, about a fifth now.
    expect(w.concentration[0]!.shareNormal).toBeCloseTo(0.125, 2);
    expect(w.concentration[0]!.shareNow).toBeGreaterThan(0.19);
    // Mail says it as the console does: "GPU 3", the memory as its card prints it.
    expect(whyLines(w, 10)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GPU 3: \d+ % of gpu_memory_used_mib now, 1[23] % normally$/),
        expect.stringMatching(/^gpu_memory_used_mib\{gpu="3"\}: 7\d,\d{3} MiB \(normally [\d,]+ MiB\)$/),
      ]),
    );
  });

  it("names the engine whose queue grows while its sibling's stays empty", () => {
    const store = busyNode((after) =>
      after >= 0 ? [['upstream_requests_waiting', { engine: 'vllm-1' }, 4 + Math.floor(after / 10_000)]] : [],
    );
    const w = why(store);
    expect(where(w)).toEqual(['engine vllm-1 of upstream_requests_waiting']);
    expect(w.concentration[0]!.shareNow).toBeGreaterThan(0.8);
    expect(w.concentration[0]!.shareNormal).toBeCloseTo(0.5, 1);
  });

  it('shows the first line of each kind first, in the order the console and the notices share', () => {
    const store = busyNode((after) =>
      after >= 0
        ? [
            ['http_status_5xx', { endpoint: '/api/ocr', method: 'POST' }, 12],
            ['upstream_requests_waiting', { engine: 'vllm-1' }, 9],
          ]
        : [],
    );
    const w = why(store);
    expect(w.changes.length).toBeGreaterThan(1);
    expect(w.concentration.length).toBe(2);
    expect(w.order.slice(0, 3)).toEqual([
      { kind: 'change', index: 0 },
      { kind: 'share', index: 0 },
      { kind: 'change', index: 1 },
    ]);
    expect(w.order).toHaveLength(w.changes.length + w.concentration.length + w.events.length);
  });
});

describe('why is it firing: where and what else', () => {
  it('names the client whose share of the module grew, and the log events that started with the breach', () => {
    let t = T0;
    const log = new EventLog({ sampleRate: 1, clock: () => t });
    const clients = new ClientStats();
    for (t = T0; t <= NOW; t += 1_000) {
      const after = t >= BREACH - 60_000; // the cause begins a minute before the rule sees it
      // Twelve classrooms share the OCR load; after the breach classroom-6 sends most of it.
      const client = after && t % 3_000 !== 0 ? 'classroom-6' : `classroom-${(t / 1_000) % 12}`;
      clients.record(client, 'ocr', true, 300, t);
      // The module's lines name each request's image size: phone photos since the breach.
      const dimensions = after ? '3264x2448' : '1280x960';
      if (t % 20_000 === 0) log.warn('ocr', 'Image preprocessing degraded', { client, dimensions });
      if (after && t % 4_000 === 0) log.warn('ocr', 'OCR preprocessing failed', { client, dimensions });
    }
    t = NOW;
    const w = why(
      busyNode(() => []),
      { metric: 'ocr_preproc_failure_rate', labels: {} },
      { log: log.newestFirst(), clientTotals: totalsOf(clients, 'ocr'), module: 'ocr' },
    );
    const client = w.concentration.find((c) => c.dimension === 'client')!;
    expect(client).toMatchObject({ value: 'classroom-6', module: 'ocr' });
    expect(client.shareNow).toBeGreaterThan(0.6);
    expect(client.shareNormal).toBeLessThan(0.15);
    expect(w.concentration.find((c) => c.dimension === 'imageSize')).toMatchObject({
      value: '3264×2448',
      module: 'ocr',
      shareNow: 1,
      shareNormal: 0,
    });
    // Mail's lines: the top share, the top event, then the next share (no series changed here).
    expect(whyLines(w)).toEqual([
      'images of 3264×2448: 100 % of ocr requests now, 0 % normally',
      expect.stringMatching(/^WARN ocr "OCR preprocessing failed": \d+ since it began \(normally 0\)$/),
      expect.stringMatching(/^client classroom-6: \d+ % of ocr requests now, \d+ % normally$/),
    ]);
    expect(w.events[0]).toMatchObject({ level: 'WARN', module: 'ocr', message: 'OCR preprocessing failed' });
    expect(w.events[0]!.countNow).toBeGreaterThan(25);
    expect(w.events[0]!.countNormal).toBe(0);
    // A line as frequent before as after did not start with it.
    expect(w.events.map((e) => e.message)).not.toContain('Image preprocessing degraded');
  });
});

describe('why is it firing: client shares by the minute', () => {
  it('counts no minute in both the normal and now, when the breach falls mid-minute', () => {
    // Client stats keep whole minutes; the breach comes 30 s into one. A newcomer sends only
    // from a minute before the breach on (where requests start to count as now).
    const breach = BREACH + 30_000;
    const clients = new ClientStats();
    for (let t = T0; t <= NOW; t += 1_000) {
      clients.record(`regular-${(t / 1_000) % 4}`, 'ocr', true, 300, t);
      if (t >= breach - 60_000) clients.record('newcomer', 'ocr', true, 300, t);
    }
    const w = why(
      new SeriesStore({ intervalMs: INTERVAL }),
      { metric: 'ocr_error_count', labels: {} },
      { clientTotals: totalsOf(clients, 'ocr'), module: 'ocr', since: breach },
    );
    const newcomer = w.concentration.find((c) => c.dimension === 'client' && c.value === 'newcomer')!;
    expect(newcomer.shareNormal).toBe(0);
    expect(newcomer.shareNow).toBeGreaterThan(0.4);
  });
});

describe('why is it firing: a client with long prompts', () => {
  it('names the client whose requests carry most of the input tokens, though it sends no more of them', () => {
    const clients = new ClientStats();
    for (let t = T0; t <= NOW; t += 1_000) {
      // Ten agents take turns; since the cause, agent-7 sends screenshots with long histories.
      const agent = `agent-${(t / 1_000) % 10}`;
      const long = agent === 'agent-7' && t >= BREACH - 60_000;
      clients.record(agent, 'vlm', true, 800, t, long ? 30_000 : 1_500);
    }
    const w = why(
      busyNode(() => []),
      { metric: 'ttft_ms', labels: {} },
      { clientTotals: totalsOf(clients, 'vlm'), module: 'vlm' },
    );
    expect(w.concentration[0]).toMatchObject({ dimension: 'clientInputTokens', value: 'agent-7', module: 'vlm' });
    expect(w.concentration[0]!.shareNow).toBeGreaterThan(0.6);
    expect(w.concentration[0]!.shareNormal).toBeLessThan(0.25);
    // Its share of the requests did not move: no line says it did.
    expect(w.concentration.filter((c) => c.dimension === 'client')).toEqual([]);
    expect(whyLines(w)[0]).toMatch(/^client agent-7: \d+ % of vlm input tokens now, \d+ % normally$/);
  });
});

describe('why is it firing: on the active alert', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it('is worked out when the alert starts, kept, refreshed after a minute, and gone when it ends', async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false, alertSleep: async () => {} });
    cleanups.push(() => app.close());
    const store = app.monitor!.store;
    const created = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, GPU_MEMORY_RULE);
    expect(created.status).toBe(201);
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    const notices: any[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'alert') notices.push(msg.data);
    });
    await new Promise((r) => ws.on('open', r));
    cleanups.push(async () => ws.close());
    const active = async () =>
      ((await (await fetch(`${app.baseUrl}/api/monitor/alerts/active`)).json()) as { alerts: any[] }).alerts;
    // Ten calm minutes, then GPU 0 fills up while the engine's queue starts growing.
    const check = (gpu0: number, waiting: number) => {
      clock.advance(5_000);
      store.record('gpu_memory_utilization_percent', { gpu: '0' }, clock(), gpu0);
      store.record('upstream_requests_waiting', { engine: 'vllm-0' }, clock(), waiting);
      app.monitor!.check(clock());
    };
    for (let i = 0; i < 120; i++) check(80, 0);
    check(95, 6);
    const [pending] = await active();
    expect(pending).toMatchObject({ state: 'pending' });
    expect(pending.why.changes[0]).toMatchObject({
      metric: 'upstream_requests_waiting',
      labels: { engine: 'vllm-0' },
      now: 6,
      normal: 0,
    });
    expect(pending.why.changes.map((c: any) => c.labels.gpu)).not.toContain('0'); // not its own cause
    const first = pending.why.computedAt;
    check(96, 9);
    expect((await active())[0].why.computedAt).toBe(first); // kept within the minute
    for (let i = 0; i < 12; i++) check(96, 12);
    const later = (await active())[0];
    expect(later.state).toBe('firing');
    // The notice says it too: numbers for the console, English lines for mail and webhooks.
    await app.alerts!.idle();
    const fired = notices.find((n) => n.status === 'firing')!.alerts[0].context;
    expect(fired.why.changes[0].metric).toBe('upstream_requests_waiting');
    expect(fired.whyLines[0]).toMatch(/^upstream_requests_waiting\{engine="vllm-0"\}: \d+ \(normally 0\)$/);
    expect(later.why.computedAt).toBeGreaterThan(first);
    expect(later.why.changes[0].now).toBeGreaterThan(10);
    for (let i = 0; i < 3; i++) check(50, 0);
    expect(await active()).toEqual([]);
  });
});
