import { describe, expect, it } from 'vitest';
import { SeriesStore } from '../../src/metrics/series-store.js';
import { changeAgainstNormal, type TrendRule } from '../../src/metrics/change.js';
import { buildSnapshot, TREND_RULE, type GpuStatus } from '../../src/metrics/snapshot.js';

const interval = 10_000;
const t0 = 1_800_000_000_000;

function snapshotAt(
  store: SeriesStore,
  now: number,
  gpu: GpuStatus = { available: false, reason: 'no NVIDIA driver (libnvidia-ml.so.1 not found)' },
) {
  return buildSnapshot({ store, now, intervalMs: interval, windowMs: 60_000, gpu });
}

describe('snapshot cards', () => {
  it('has the six cards in order, GPU cards unavailable with the reason', () => {
    const s = snapshotAt(new SeriesStore({ intervalMs: interval }), t0);
    expect(s.cards.map((c) => c.id)).toEqual([
      'gpu_memory',
      'gpu_utilization',
      'latency',
      'rps',
      'connections',
      'error_rate',
    ]);
    expect(s.cards[0]).toMatchObject({
      status: 'unavailable',
      value: null,
      reason: 'no NVIDIA driver (libnvidia-ml.so.1 not found)',
    });
    expect(s.cards[2]).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('no requests') });
  });

  it('colours by the catalogue thresholds and shows the trend', () => {
    const store = new SeriesStore({ intervalMs: interval });
    const p50 = [900, 1000, 1100, 2500, 2600, 2700];
    for (const [i, v] of p50.entries()) store.record('latency_ms_p50', { endpoint: '*' }, t0 + i * interval, v);
    for (const [i, v] of [0.5, 0.4, 0.6, 6, 7, 8].entries()) {
      store.record('error_rate_percent', { endpoint: '*' }, t0 + i * interval, v);
    }
    const now = t0 + 5 * interval;
    const s = snapshotAt(store, now);
    const latency = s.cards.find((c) => c.id === 'latency')!;
    expect(latency).toMatchObject({ value: 2700, unit: 'ms', status: 'warn', trend: 'up', at: now });
    expect(s.cards.find((c) => c.id === 'error_rate')).toMatchObject({ value: 8, status: 'crit', trend: 'up' });
  });

  it('shows no value once the newest point is older than three checks', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('requests_per_second', { endpoint: '*' }, t0, 12);
    expect(snapshotAt(store, t0 + 2 * interval).cards[3]!.value).toBe(12);
    expect(snapshotAt(store, t0 + 4 * interval).cards[3]).toMatchObject({ value: null, status: 'unavailable' });
  });

  it('puts the worst GPU on the card and every GPU in the detail', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, t0, 40);
    store.record('gpu_memory_utilization_percent', { gpu: '1' }, t0, 93);
    const card = snapshotAt(store, t0, { available: true, reason: '' }).cards[0]!;
    expect(card).toMatchObject({ value: 93, status: 'crit', labels: { gpu: '1' }, detail: { gpu0: 40, gpu1: 93 } });
  });
});

describe('the trend of a short history', () => {
  const pts = (vs: number[]) => vs.map((v, i) => ({ t: i, v }));
  const trendOf = (vs: number[]) => changeAgainstNormal({ points: pts(vs), unit: '', rule: TREND_RULE }).trend;
  it('compares the value shown with the older half: flat within 5 %, up or down beyond it', () => {
    expect(trendOf([100, 101, 99, 102, 100, 101])).toBe('flat');
    expect(trendOf([100, 100, 100, 120, 120, 120])).toBe('up');
    expect(trendOf([100, 100, 100, 80, 80, 80])).toBe('down');
    expect(trendOf([0, 0, 0, 0])).toBe('flat');
    expect(trendOf([5])).toBeNull();
  });
});

describe('trend against the baseline', () => {
  const minute = 60_000;
  /** Points every check: `before` for the ten minutes before the last minute, then `recent`. */
  function incident(
    store: SeriesStore,
    metric: string,
    labels: Record<string, string>,
    before: number,
    recent: number,
    end: number,
  ) {
    for (let t = end - 11 * minute; t <= end; t += interval)
      store.record(metric, labels, t, t > end - minute ? recent : before);
  }

  it('keeps ↑ with the signed percentage through a sustained incident; the incident never becomes the normal', () => {
    const store = new SeriesStore({ intervalMs: interval });
    const all = { endpoint: '*' };
    incident(store, 'latency_ms_p50', all, 1_100, 4_840, t0);
    // 100 s into the incident: last minute 4.84 s against the 1.1 s of the ten minutes before.
    const now = t0 + 40_000;
    for (let t = t0 + interval; t <= now; t += interval) store.record('latency_ms_p50', all, t, 4_840);
    const latency = snapshotAt(store, now).cards.find((c) => c.id === 'latency')!;
    expect(latency.trend).toBe('up');
    // The incident's first 40 s in the ten minutes before are past the 2 s line: not the normal.
    expect(latency.baseline).toBe(1_100);
    expect(latency.changePercent).toBeCloseTo(((4.84 - 1.1) / 1.1) * 100, 9);
    // Eleven minutes of 4.84 s, past the 2 s warning line, and still no normal: no arrow, and the card says why.
    for (let t = now + interval; t <= now + 11 * minute; t += interval) store.record('latency_ms_p50', all, t, 4_840);
    expect(snapshotAt(store, now + 11 * minute).cards.find((c) => c.id === 'latency')).toMatchObject({
      status: 'warn',
      trend: null,
      changePercent: null,
      noCalmBaseline: true,
    });
  });

  const rule: TrendRule = TREND_RULE;
  it('says ↓ 60 % when the value shown is 40 % of the baseline', () => {
    const pts: Array<{ t: number; v: number }> = [];
    for (let t = 0; t <= 11 * minute; t += interval) pts.push({ t, v: t > 10 * minute ? 0.38 : 0.95 });
    const c = changeAgainstNormal({ points: pts, unit: 'ratio', rule });
    expect(c.trend).toBe('down');
    expect(c.changePercent).toBeCloseTo(-60, 5);
    expect(c.baseline).toBeCloseTo(0.95, 10);
  });

  it('has no percentage from a baseline of 0, only the arrow', () => {
    const pts: Array<{ t: number; v: number }> = [];
    for (let t = 0; t <= 11 * minute; t += interval) pts.push({ t, v: t > 10 * minute ? 5 : 0 });
    expect(changeAgainstNormal({ points: pts, unit: '', rule })).toMatchObject({
      trend: 'up',
      changePercent: null,
      baseline: 0,
    });
  });

  it('carries the last 5 minutes as a sparkline', () => {
    const store = new SeriesStore({ intervalMs: interval });
    for (let t = t0 - 20 * minute; t <= t0; t += interval) store.record('requests_per_second', { endpoint: '*' }, t, 3);
    const spark = snapshotAt(store, t0).cards.find((c) => c.id === 'rps')!.spark;
    expect(spark).toHaveLength(30);
    expect(spark[0]![0]).toBe(t0 - 5 * minute + interval);
    expect(spark.at(-1)).toEqual([t0, 3]);
  });
});

describe('card details', () => {
  const all = { endpoint: '*' };
  it('colours latency by the worse of P50 (2 s / 5 s) and P95 (> 5 s / 10 s), with P95, P99 and the mean', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('latency_ms_p50', all, t0, 1_200);
    store.record('latency_ms_p95', all, t0, 13_000);
    store.record('latency_ms_p99', all, t0, 14_500);
    store.record('latency_ms_avg', all, t0, 4_800);
    const c = snapshotAt(store, t0).cards.find((x) => x.id === 'latency')!;
    expect(c).toMatchObject({
      value: 1_200,
      status: 'crit',
      statusBy: { metric: 'latency_ms_p95', value: 13_000 },
      trendMetric: 'latency_ms_p95',
      detail: { p95: 13_000, p99: 14_500, avg: 4_800 },
    });
    store.record('latency_ms_p95', all, t0 + interval, 4_000);
    store.record('latency_ms_p50', all, t0 + interval, 2_500);
    const calm = snapshotAt(store, t0 + interval).cards.find((x) => x.id === 'latency')!;
    expect(calm.status).toBe('warn');
    expect(calm.statusBy).toBeUndefined();
    expect(calm.trendMetric).toBe('latency_ms_p50');
  });

  it('counts the requests in the window on the RPS card, and splits 2xx/4xx/5xx with the 5xx-only share on the error card', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('requests_per_second', all, t0, 1 / 60);
    store.record('error_rate_percent', all, t0, 40);
    store.record('error_rate_5xx_percent', all, t0, 10);
    store.record('http_status_2xx', all, t0, 6);
    store.record('http_status_4xx', all, t0, 3);
    store.record('http_status_5xx', all, t0, 1);
    const s = snapshotAt(store, t0);
    expect(s.cards.find((c) => c.id === 'rps')!.detail).toEqual({ requestsInWindow: 10 });
    expect(s.cards.find((c) => c.id === 'error_rate')!.detail).toEqual({
      status2xx: 6,
      status4xx: 3,
      status5xx: 1,
      share5xxPercent: 10,
    });
  });

  it('counts users connected now against the tutorial (≤ 30 ok, > 40 critical), with streams, requests and WebSockets beside', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('active_connections', {}, t0, 30);
    store.record('websocket_active_connections', {}, t0, 2);
    store.record('model_requests_in_flight', {}, t0, 28);
    store.record('model_streams_in_flight', {}, t0, 5);
    expect(snapshotAt(store, t0).cards.find((c) => c.id === 'connections')).toMatchObject({
      value: 30,
      status: 'ok',
      detail: { streams: 5, otherRequestsInFlight: 23, websocket: 2 },
    });
    const at = (k: number, v: number) => {
      store.record('active_connections', {}, t0 + k * interval, v);
      return snapshotAt(store, t0 + k * interval).cards.find((c) => c.id === 'connections')!.status;
    };
    expect([at(1, 31), at(2, 40), at(3, 41)]).toEqual(['warn', 'warn', 'crit']);
  });

  it('names the fullest GPU and says when GPUs are simulated', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, t0, 40);
    store.record('gpu_memory_utilization_percent', { gpu: '1' }, t0, 72);
    store.record('gpu_memory_used_mib', { gpu: '1' }, t0, 58_000);
    store.record('gpu_memory_total_mib', { gpu: '1' }, t0, 81_559);
    const card = snapshotAt(store, t0, { available: true, names: { 1: 'NVIDIA H100 80GB HBM3' }, simulated: true })
      .cards[0]!;
    expect(card.detail).toMatchObject({
      gpu: '1',
      gpuCount: 2,
      gpuName: 'NVIDIA H100 80GB HBM3',
      simulated: 'simulated',
      usedMiB: 58_000,
      totalMiB: 81_559,
    });
  });

  it('puts CPU, memory, IO wait, the load average (coloured per CPU) and the event loop in the host strip', () => {
    const store = new SeriesStore({ intervalMs: interval });
    store.record('cpu_load_percent', {}, t0, 97);
    store.record('memory_utilization_percent', {}, t0, 50);
    store.record('disk_io_wait_percent', {}, t0, 12);
    store.record('load_average_1m', {}, t0, 9);
    store.record('event_loop_delay_max_ms', {}, t0, 240);
    const host = buildSnapshot({
      store,
      now: t0,
      intervalMs: interval,
      windowMs: 60_000,
      gpu: { available: false },
      cpuCount: 8,
    }).host;
    expect(host.map((x) => [x.id, x.value, x.status])).toEqual([
      ['cpu', 97, 'crit'],
      ['memory', 50, 'ok'],
      ['io_wait', 12, 'warn'],
      ['load', 9, 'warn'],
      ['event_loop', 240, 'warn'],
    ]);
  });

  it("colours the event loop's worst stall ok below 100 ms, warn from 100 ms, crit from 1 s", () => {
    const colour = (ms: number) => {
      const store = new SeriesStore({ intervalMs: interval });
      store.record('event_loop_delay_max_ms', {}, t0, ms);
      return snapshotAt(store, t0).host.find((x) => x.id === 'event_loop')!.status;
    };
    expect([0.3, 99, 100, 999, 1_000, 13_200].map(colour)).toEqual(['ok', 'ok', 'warn', 'warn', 'crit', 'crit']);
  });

  it('keeps the worst stall of the last 10 minutes in view after the loop is free again', () => {
    const store = new SeriesStore({ intervalMs: interval });
    const stallAt = t0 + 3 * interval;
    let checks = 0;
    /** Checks up to the k-th, and the event loop item as the k-th check shows it. */
    const checksUntil = (k: number) => {
      for (; checks <= k; checks++) {
        const t = t0 + checks * interval;
        store.record('event_loop_delay_max_ms', {}, t, t === stallAt ? 13_200 : t === stallAt + interval ? 90 : 0.4);
        store.record('event_loop_delay_p99_ms', {}, t, 0.2);
      }
      return snapshotAt(store, t0 + k * interval).host.find((x) => x.id === 'event_loop')!;
    };
    const item = checksUntil(29);
    expect(item).toMatchObject({ value: 0.4, status: 'ok', detail: { p99Ms: 0.2, worstMs: 13_200, worstAt: stallAt } });
    // The hover chart has the stall in its 5 minutes.
    expect(item.spark.map(([, v]) => v)).toContain(13_200);
    // Ten minutes on, it is forgotten; a stall under the warn threshold (90 ms) is never named.
    expect(checksUntil(64).detail).toMatchObject({ worstMs: null, worstAt: null });
  });

  it('leaves a gap for missed checks in the hover chart: no point is made up', () => {
    const store = new SeriesStore({ intervalMs: interval });
    // Checks at 0, 10 and 20 s; the loop is held 30 s; the next check comes at 51 s.
    for (const [t, v] of [
      [0, 0.4],
      [10_000, 0.5],
      [20_000, 0.4],
      [51_000, 30_500],
      [61_000, 0.3],
    ] as const)
      store.record('event_loop_delay_max_ms', {}, t0 + t, v);
    const item = snapshotAt(store, t0 + 61_000).host.find((x) => x.id === 'event_loop')!;
    expect(item.spark.map(([t]) => t - t0)).toEqual([0, 10_000, 20_000, 51_000, 61_000]);
    // Not blind now: the newest check was on time, and the strip says so.
    expect(item).toMatchObject({ value: 0.3, status: 'ok', detail: { worstMs: 30_500 } });
  });
});
