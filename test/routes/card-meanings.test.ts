// What the cards mean, end to end over HTTP: the tutorial's error rate and active
// connections, one line per metric (the rule's, the card's, the log's WARN), a normal that
// an incident cannot become, stage means that add up, and per-client load in a true unit.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock, userMessage, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

async function setup(behavior = {}, env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 5, tokenIntervalMs: 1, tokens: 4, ...behavior },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, ...env }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app, clock };
}

const get = async (app: TestApp, path: string) => (await (await fetch(app.baseUrl + path)).json()) as any;
const card = async (app: TestApp, id: string) =>
  (await get(app, '/api/monitor/snapshot')).cards.find((c: any) => c.id === id);
const modelCard = async (app: TestApp, module: string, metric: string) =>
  (await get(app, '/api/monitor/model')).modules
    .find((m: any) => m.module === module)
    .cards.find((c: any) => c.metric === metric);

describe('the error rate card', () => {
  it("is the tutorial's (4xx + 5xx) / all, with the split and the 5xx-only share under it", async () => {
    const { fake, app, clock } = await setup();
    for (let i = 0; i < 17; i++)
      expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(200);
    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, { messages: [] })).status).toBe(400);
    fake.behavior = { ...fake.behavior, errorRate: 1, failStatus: 500 };
    for (let i = 0; i < 2; i++) await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage());
    clock.advance(1_000);
    app.monitor!.check(clock());
    const c = await card(app, 'error_rate');
    // 3 of 20: 15 %, past the tutorial's 5 % alarm; 2 of them the server's own (10 %).
    expect(c).toMatchObject({
      value: 15,
      status: 'crit',
      detail: { status2xx: 17, status4xx: 1, status5xx: 2, share5xxPercent: 10 },
      lines: { warn: { op: '>=', value: 1.5 }, crit: { op: '>', value: 5 } },
    });
    // The 'error-rate' preset speaks of 5xx: it watches the 5xx share, and the card names it.
    expect((await postJson(`${app.baseUrl}/api/monitor/alerts/presets/error-rate/import`, {})).status).toBe(200);
    expect((await card(app, 'error_rate')).beside).toEqual({
      metric: 'error_rate_5xx_percent',
      value: 10,
      lines: {
        direction: 'above',
        warn: null,
        crit: { op: '>', value: 5, rule: { id: 'preset:error-rate', name: 'Model endpoints 5xx error rate' } },
      },
    });
  });
});

describe('the latency and error rate cards once requests stop', () => {
  it('say there are no requests beside counts of 0, and a rule on them resolves, at the first check after the window empties', async () => {
    const { fake, app, clock } = await setup();
    const rule = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'Errors',
      metric: 'error_rate_percent',
      labels: { endpoint: '*' },
      op: '>',
      threshold: 50,
      severity: 'critical',
    });
    expect(rule.status).toBe(201);
    fake.behavior = { ...fake.behavior, errorRate: 1, failStatus: 500 };
    await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage());
    clock.advance(1_000);
    app.monitor!.check(clock());
    expect(await card(app, 'error_rate')).toMatchObject({ value: 100, status: 'crit' });
    const firing = () => get(app, '/api/monitor/alerts/active');
    expect(JSON.stringify(await firing())).toContain('Errors');
    // A minute and a check later the window holds no request: it read "100 %, critical"
    // beside "2xx 0 · 4xx 0 · 5xx 0" and "0 requests" for three more checks, the rule firing.
    for (let k = 0; k < 6; k++) {
      clock.advance(10_000);
      app.monitor!.check(clock());
    }
    const errors = await card(app, 'error_rate');
    expect(errors).toMatchObject({
      value: null,
      status: 'unavailable',
      detail: { status2xx: 0, status4xx: 0, status5xx: 0 },
    });
    expect(errors.reasonParts).toEqual([{ code: 'NO_MODEL_REQUESTS' }]);
    expect(await card(app, 'latency')).toMatchObject({ value: null, status: 'unavailable' });
    // As the exported rule resolves in Prometheus, whose 0 / 0 has no value.
    expect(JSON.stringify(await firing())).not.toContain('Errors');
  });
});

describe('the active connections card', () => {
  it('counts users connected now: a tab is one, an idle keep-alive socket none, a stream one', async () => {
    const { app, clock } = await setup({ tokens: 50, streamFault: 'stall', faultAfterTokens: 2 });
    // Sockets kept alive after their answers: open, idle, no user.
    for (let i = 0; i < 3; i++) await get(app, '/api/monitor/catalogue');
    const ws = new WebSocket(`${app.baseUrl.replace('http', 'ws')}/api/monitor/stream`);
    await new Promise((resolve) => ws.once('open', resolve));
    cleanups.push(async () => ws.close());
    app.monitor!.check(clock());
    expect(app.monitor!.stats.load.openConnections).toBeGreaterThanOrEqual(2);
    expect(await card(app, 'connections')).toMatchObject({
      value: 1,
      status: 'ok',
      detail: { streams: 0, otherRequestsInFlight: 0, websocket: 1 },
    });

    // A streamed answer that is still coming: one more user, counted as a stream.
    const abort = new AbortController();
    const res = await fetch(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...userMessage(), stream: true }),
      signal: abort.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    clock.advance(10_000);
    app.monitor!.check(clock());
    expect(await card(app, 'connections')).toMatchObject({
      value: 2,
      detail: { streams: 1, otherRequestsInFlight: 0, websocket: 1 },
    });
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^qwen3vl_active_connections 2$/m);
    expect(metrics).toMatch(/^qwen3vl_model_streams_in_flight 1$/m);
    abort.abort();
    await res.body?.cancel().catch(() => {});
  });

  it("colours by the tutorial's lines: ≤ 30 ok, > 40 critical", async () => {
    const { app, clock } = await setup();
    const at = async (n: number) => {
      clock.advance(10_000);
      app.monitor!.store.record('active_connections', {}, clock(), n);
      return (await card(app, 'connections')).status;
    };
    expect([await at(30), await at(31), await at(40), await at(41)]).toEqual(['ok', 'warn', 'warn', 'crit']);
  });
});

describe('one line per metric', () => {
  it("is the enabled rule's on the Model Metrics card, and the log's low-confidence WARN", async () => {
    // Every INFO line kept, so "OCR done" is seen as well as the WARN.
    const { app, clock } = await setup({ tokenLogprob: Math.log(0.75) }, { LOG_SAMPLE_RATE: '1' });
    const ocr = () => postJson(`${app.baseUrl}/api/ocr`, { image: PNG });
    const lastOcrLine = async () =>
      ((await get(app, '/api/monitor/logs?module=ocr')).lines as any[])
        .filter((l) => l.event === 'OCR done' || l.event === 'Low-confidence OCR')
        .sort((a, b) => b.seq - a.seq)[0];
    // 0.75 is above OCR_CONFIDENCE_THRESHOLD (0.6): an ordinary answer, a card that is fine.
    expect((await ocr()).status).toBe(200);
    expect(await lastOcrLine()).toMatchObject({ level: 'INFO', event: 'OCR done' });
    app.monitor!.check(clock());
    expect(await modelCard(app, 'ocr', 'ocr_confidence_mean')).toMatchObject({
      status: 'ok',
      lines: { direction: 'below', warn: { op: '<', value: 0.6, rule: null }, crit: null },
    });
    // A rule that asks more: its line becomes the card's and the log's.
    const rule = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'OCR unsure',
      metric: 'ocr_confidence_mean',
      op: '<',
      threshold: 0.8,
      severity: 'warning',
    });
    expect(rule.status).toBe(201);
    expect((await ocr()).status).toBe(200);
    expect(await lastOcrLine()).toMatchObject({
      level: 'WARN',
      event: 'Low-confidence OCR',
      params: { confidence: 0.75, threshold: 0.8 },
    });
    clock.advance(10_000);
    app.monitor!.check(clock());
    expect(await modelCard(app, 'ocr', 'ocr_confidence_mean')).toMatchObject({
      status: 'warn',
      lines: { warn: { op: '<', value: 0.8, rule: { id: rule.json.id, name: 'OCR unsure' } }, crit: null },
    });
    // Disabled, it sets nothing: back to the default, everywhere.
    await fetch(`${app.baseUrl}/api/monitor/alerts/rules/${rule.json.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...rule.json, id: undefined, enabled: false }),
    });
    expect((await modelCard(app, 'ocr', 'ocr_confidence_mean')).lines.warn).toEqual({
      op: '<',
      value: 0.6,
      rule: null,
    });
    expect((await ocr()).status).toBe(200);
    expect(await lastOcrLine()).toMatchObject({ level: 'INFO', event: 'OCR done' });
  });

  it('is the same number on the Overview card, the rule and the export', async () => {
    const { app, clock } = await setup();
    expect((await postJson(`${app.baseUrl}/api/monitor/alerts/presets/p95-latency/import`, {})).status).toBe(200);
    app.monitor!.store.record('latency_ms_p50', { endpoint: '*' }, clock(), 900);
    const c = await card(app, 'latency');
    const rule = (await get(app, '/api/monitor/alerts/rules')).rules.find((r: any) => r.id === 'preset:p95-latency');
    expect(c.beside.lines.warn).toEqual({
      op: rule.op,
      value: rule.threshold,
      rule: { id: rule.id, name: rule.name },
    });
    const yaml = await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
    expect(yaml).toContain(`> ${rule.threshold / 1_000}`);
  });
});

describe('the normal', () => {
  it('leaves out the minutes an alert was pending or firing; with too few calm ones it says so', async () => {
    const { app, clock } = await setup({}, { MONITOR_INTERVAL_MS: '10000' });
    expect((await postJson(`${app.baseUrl}/api/monitor/alerts/presets/p95-latency/import`, {})).status).toBe(200);
    const all = { endpoint: '*' };
    const checks = async (n: number, p50: number, p95: number) => {
      for (let i = 0; i < n; i++) {
        clock.advance(10_000);
        app.monitor!.store.record('latency_ms_p50', all, clock(), p50);
        app.monitor!.store.record('latency_ms_p95', all, clock(), p95);
        app.alerts!.onCheck(clock());
      }
    };
    // The demo's loop: two calm minutes, three of incident, two calm, then the second incident.
    await checks(12, 1_050, 2_000);
    await checks(18, 4_500, 10_500);
    await checks(12, 1_050, 2_000);
    await checks(9, 4_600, 10_600);
    const c = await card(app, 'latency');
    // The first incident (alerted) is not normal: the normal is the calm minutes' 1.05 s.
    expect(c.trendMetric).toBe('latency_ms_p95');
    expect(c.baseline).toBe(2_000);
    expect(c).toMatchObject({ status: 'crit', trend: 'up', noCalmBaseline: false });
    expect(c.changePercent).toBeCloseTo(430, 9);
    // Another six minutes of incident: no calm minute left in the ten before the last.
    await checks(36, 4_600, 10_600);
    expect(await card(app, 'latency')).toMatchObject({ trend: null, baseline: null, noCalmBaseline: true });
  });
});

describe('sums and units', () => {
  it('gives stage means over the same requests, how many, adding up to the total the OCR card shows', async () => {
    const { app, clock } = await setup();
    expect((await postJson(`${app.baseUrl}/api/ocr`, { image: PNG })).status).toBe(200);
    expect((await postJson(`${app.baseUrl}/api/ocr`, { image: PNG })).status).toBe(200);
    // Refused in preprocessing: no inference, no postprocessing, still a request that took time.
    expect((await postJson(`${app.baseUrl}/api/ocr`, { image: 'data:image/png;base64,AAAA' })).status).toBe(400);
    clock.advance(1_000);
    app.monitor!.check(clock());
    const ocr = (await get(app, '/api/monitor/model')).modules.find((m: any) => m.module === 'ocr');
    const s = ocr.stages;
    expect(s.requests).toBe(3);
    expect(s.preprocess + s.inference + s.postprocess + s.other).toBeCloseTo(s.total, 9);
    expect(s.inference).toBeGreaterThan(0);
    expect(ocr.cards.find((c: any) => c.metric === 'ocr_avg_duration').value).toBe(s.total);
  });

  it('gives each module its share of the requests its stage bar counts, across a full minute too', async () => {
    const { app, clock } = await setup();
    // Two OCR requests 10 s before a full minute, one chat request 2 s after it.
    clock.advance(60_000 - (clock() % 60_000) - 10_000);
    for (let i = 0; i < 2; i++) expect((await postJson(`${app.baseUrl}/api/ocr`, { image: PNG })).status).toBe(200);
    clock.advance(12_000);
    expect((await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage())).status).toBe(200);
    app.monitor!.check(clock());
    const modules = (await get(app, '/api/monitor/model')).modules as any[];
    const of = (m: string) => modules.find((x) => x.module === m);
    expect([of('ocr').stages.requests, of('chat').stages.requests]).toEqual([2, 1]);
    // Shares of those same three requests (a share by clock minute said OCR 0 %, chat 100 %).
    expect(of('ocr').sharePercent).toBeCloseTo((2 / 3) * 100, 9);
    expect(of('chat').sharePercent).toBeCloseTo((1 / 3) * 100, 9);
    // The clients API's minute buckets count every minute the window touches: the same three.
    const shares = (await get(app, '/api/monitor/clients?window=1m')).modules;
    expect([shares.ocr.requests, shares.vlm.requests]).toEqual([2, 1]);
  });

  it("ranks clients by request-seconds, and shares out the GPUs' measured busy time, never more than GPUs × window", async () => {
    const { app, clock } = await setup({ ttftMs: 30 });
    // Eight requests at once from two clients: their inference overlaps.
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        postJson(`${app.baseUrl}/v1/chat/completions`, userMessage(), { 'x-client-id': i < 6 ? 'team-a' : 'team-b' }),
      ),
    );
    // Two GPUs, half busy for the last five minutes.
    for (let t = clock() - 300_000; t <= clock(); t += 10_000)
      for (const gpu of ['0', '1']) app.monitor!.store.record('gpu_utilization_percent', { gpu }, t, 50);
    const top = await get(app, '/api/monitor/clients?window=5m');
    expect(top.byRequestSeconds.map((c: any) => [c.client, c.requests])).toEqual([
      ['team-a', 6],
      ['team-b', 2],
    ]);
    const [a, b] = top.byRequestSeconds;
    expect(a.sharePercent + b.sharePercent).toBeCloseTo(100, 9);
    expect(a.gpuBusySeconds + b.gpuBusySeconds).toBeCloseTo(top.gpuBusySecondsTotal, 9);
    expect(top.gpuBusySecondsTotal).toBeLessThanOrEqual((2 * (top.toMs - top.fromMs)) / 1_000);
    // The Model Metrics table is the same list.
    expect((await get(app, '/api/monitor/model')).clients.map((c: any) => c.requestSeconds)).toEqual(
      top.byRequestSeconds.map((c: any) => c.requestSeconds),
    );
  });
});
