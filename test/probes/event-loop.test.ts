// When the server was blind: the event loop probe reads the worst stall and the P99 of
// each check interval (a fake histogram, clock and timer drive it: no waiting), a real
// stall of a known length is reported at least that long by the real probe, and the
// Monitor's next check shows it in the series, the host strip, /metrics and a WARN line.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricDef } from '../../src/metrics/catalogue.js';
import { type DelayHistogram, EventLoopProbe } from '../../src/probes/event-loop.js';
import { postJson, startApp, steppedClock, type TestApp } from '../helpers.js';

const R = EventLoopProbe.RESOLUTION_MS;

/** Node's histogram as the probe sees it: each firing records the time since the previous. */
class FakeHistogram implements DelayHistogram {
  private ns: number[] = [];
  get count() {
    return this.ns.length;
  }
  get max() {
    return this.ns.length ? Math.max(...this.ns) : 0;
  }
  percentile(p: number) {
    const sorted = [...this.ns].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  }
  reset() {
    this.ns = [];
  }
  /** A firing `ms` after the previous one. */
  fire(ms: number, times = 1) {
    for (let i = 0; i < times; i++) this.ns.push(ms * 1e6);
  }
}

/** A monotonic clock and one-shot timers that run when the test moves the clock. */
function fakeTime() {
  let now = 1_000;
  let timers: Array<{ fn: () => void; due: number }> = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      timers.push({ fn, due: now + ms });
    },
    /** Moves to `t` and runs the timers due by then, as a loop free again at `t` would. */
    runUntil(t: number) {
      now = t;
      const due = timers.filter((x) => x.due <= t);
      timers = timers.filter((x) => x.due > t);
      for (const x of due) x.fn();
    },
  };
}

function fakeProbe() {
  const histogram = new FakeHistogram();
  const time = fakeTime();
  const probe = new EventLoopProbe({ histogram, now: time.now, setTimer: time.setTimer });
  return { probe, histogram, time };
}

/** Holds the event loop, as a synchronous parse of a large upload does. */
function holdLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // nothing else runs meanwhile: no timer, no request, no check
  }
}

/** One loop turn: timers due now fire, then immediates. */
const turn = () => new Promise<void>((resolve) => setTimeout(() => setImmediate(resolve), 0));

describe('event loop probe', () => {
  it('reports the worst delay and the P99 of the interval, less the sampling period, and starts again', async () => {
    const { probe, histogram, time } = fakeProbe();
    time.runUntil(1_000 + R + 0.5); // the guard timer, on time
    histogram.fire(R + 0.5, 98);
    histogram.fire(R + 150); // a 150 ms hiccup
    histogram.fire(R + 2_000); // a two-second stall
    const r = await probe.sample();
    expect(r.maxMs).toBeCloseTo(2_000, 6);
    expect(r.p99Ms).toBeCloseTo(150, 6); // 99th of 100 delays: the second worst
    // Nothing has fired since: no reading, not a zero.
    expect(await probe.sample()).toEqual({});
  });

  it('an idle loop reads close to zero, never below', async () => {
    const { probe, histogram, time } = fakeProbe();
    time.runUntil(1_000 + R);
    histogram.fire(R - 0.2, 10); // a timer can fire a little early
    histogram.fire(R + 0.3, 10);
    const r = await probe.sample();
    expect(r.maxMs).toBeCloseTo(0.3, 6);
    expect(r.p99Ms).toBeCloseTo(0.3, 6);
    expect(Math.min(r.maxMs!, r.p99Ms!)).toBeGreaterThanOrEqual(0);
  });

  it('catches a stall that starts right after a check, which the reset histogram cannot measure', async () => {
    const { probe, histogram, time } = fakeProbe();
    await probe.sample(); // the check: histogram reset, guard timer armed for one period
    const checkedAt = time.now();
    // The loop is held 5 s from here: the histogram's first firing after its reset only
    // marks a start (Node measures from the previous firing), so it records nothing.
    time.runUntil(checkedAt + 5_000);
    histogram.fire(R + 0.4, 20); // then it runs normally again
    const r = await probe.sample();
    expect(r.maxMs).toBeCloseTo(5_000 - R, 6);
    expect(r.p99Ms).toBeCloseTo(0.4, 6);
  });

  it('with no histogram firing yet, the guard alone is the reading', async () => {
    const { probe, time } = fakeProbe();
    await probe.sample();
    time.runUntil(time.now() + 800); // held 800 ms; the next check comes before a second firing
    expect(await probe.sample()).toEqual({ maxMs: 800 - R, p99Ms: 800 - R });
  });

  it('a guard armed before the previous check does not speak for this interval', async () => {
    const { probe, histogram, time } = fakeProbe();
    const t0 = time.now();
    await probe.sample(); // guard 1, due one period later
    time.runUntil(t0 + 5);
    await probe.sample(); // checks 5 ms apart: guard 1 is still pending, guard 2 armed
    time.runUntil(t0 + R + 3); // guard 1 fires 3 ms late; guard 2 is not due yet
    histogram.fire(R + 1);
    expect((await probe.sample()).maxMs).toBeCloseTo(1, 6);
  });

  describe('on the real event loop', () => {
    const probes: EventLoopProbe[] = [];
    afterEach(() => {
      while (probes.length) probes.pop()!.close();
    });
    const realProbe = () => {
      const p = new EventLoopProbe();
      probes.push(p);
      return p;
    };

    it('reports a stall that began right after the previous check at least its length, less one period', async () => {
      const probe = realProbe();
      await probe.sample();
      holdLoop(300);
      const r = await probe.sample();
      expect(r.maxMs).toBeGreaterThanOrEqual(300 - R);
    });

    it('reports a stall measured by the histogram itself at least its length, less one period', async () => {
      const probe = realProbe();
      await probe.sample();
      holdLoop(50); // the first firing after the reset comes after this: now it measures
      await turn();
      holdLoop(400);
      const r = await probe.sample();
      // The guard saw at most the 50 ms stall: 400 ms can only come from the histogram.
      expect(r.maxMs).toBeGreaterThanOrEqual(400 - R);
      expect(r.p99Ms).toBeGreaterThanOrEqual(0);
    });
  });
});

describe('the Monitor after a stall', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close();
  });

  it('the next check shows how long the loop was held: series, host strip, /metrics and a WARN line', async () => {
    const clock = steppedClock();
    const app = await startApp({ NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' }, { clock });
    apps.push(app);
    const m = app.monitor!;
    await m.tick(clock());
    const held = 1_100; // past the critical threshold (1 s)
    holdLoop(held);
    clock.advance(10_000);
    const snap = (await m.tick(clock()))!;

    const point = m.store.latest('event_loop_delay_max_ms', {})!;
    expect(point.v).toBeGreaterThanOrEqual(held - R);
    const item = snap.host.find((x) => x.id === 'event_loop')!;
    expect(item).toMatchObject({ metric: 'event_loop_delay_max_ms', unit: 'ms', status: 'crit' });
    // The worst stall the series holds (a start-up stall on a loaded machine can be worse still).
    const worst = Math.max(
      ...m.store
        .ring('event_loop_delay_max_ms', {})!
        .since(0)
        .map((p) => p.v),
    );
    expect(item.detail?.worstMs).toBe(worst);
    expect(worst).toBeGreaterThanOrEqual(point.v);

    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const exported = Number(/^qwen3vl_event_loop_delay_max_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(exported).toBeCloseTo(point.v / 1000, 9);
    expect(metrics).toMatch(/^qwen3vl_event_loop_delay_p99_seconds \S+$/m);
    // Node's stock figures stay beside ours, under their own names.
    expect(metrics).toMatch(/^nodejs_eventloop_lag_max_seconds \S+$/m);

    const warn = app.log.query({ level: 'WARN' }).filter((l) => l.event.startsWith('event loop blocked'));
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ module: 'http', params: { blocked_ms: Math.round(point.v), threshold_ms: 1000 } });
    expect(warn[0]!.event).toBe(`event loop blocked ${(point.v / 1000).toFixed(1)} s: no request was served meanwhile`);

    // The loop is free again: the strip goes back to normal, and still says when it was blind.
    // The probe's next reading needs one period of its timer (20 ms) of real time: a check
    // sooner than that has none and the strip still shows the stall's point (CI once got
    // there within it), so check until the series has a point of its own.
    let after!: NonNullable<Awaited<ReturnType<typeof m.tick>>>['host'][number];
    await vi.waitFor(async () => {
      clock.advance(10_000);
      after = (await m.tick(clock()))!.host.find((x) => x.id === 'event_loop')!;
      expect(m.store.latest('event_loop_delay_max_ms', {})!.t).toBe(clock());
    });
    expect(after.value).toBeLessThan(held - R);
    expect(after.detail).toMatchObject({ worstMs: point.v, worstAt: point.t });
    expect(app.log.query({ level: 'WARN' }).filter((l) => l.event.startsWith('event loop blocked'))).toHaveLength(1);
  });

  it('takes a rule like any resource metric: above 500 ms for 2 checks fires, and exports to PromQL', async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false });
    apps.push(app);
    const created = await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'Server blind',
      metric: 'event_loop_delay_max_ms',
      op: '>',
      threshold: 500,
      consecutiveChecks: 2,
      severity: 'critical',
    });
    expect(created.status).toBe(201);
    const check = async (ms: number) => {
      clock.advance(10_000);
      app.monitor!.store.record('event_loop_delay_max_ms', {}, clock(), ms);
      app.monitor!.check(clock());
      await app.alerts!.idle();
    };
    const active = async () =>
      ((await (await fetch(`${app.baseUrl}/api/monitor/alerts/active`)).json()) as { alerts: unknown[] }).alerts;
    await check(13_200);
    expect(await active()).toMatchObject([{ state: 'pending', breaches: 1 }]);
    await check(900);
    expect(await active()).toMatchObject([{ state: 'firing', value: 900 }]);
    const yml = await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
    expect(yml).toContain('expr: "(qwen3vl_event_loop_delay_max_seconds) > 0.5"');
  });

  it('the "Server blocked" preset fires at the stall the host strip first calls critical, and not below it', async () => {
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false });
    apps.push(app);
    const preset = await postJson(`${app.baseUrl}/api/monitor/alerts/presets/event-loop-blocked/import`, {});
    expect(preset.status).toBeLessThan(300);
    const crit = metricDef('event_loop_delay_max_ms')!.thresholds!.crit!;
    const check = async (ms: number) => {
      clock.advance(10_000);
      app.monitor!.store.record('event_loop_delay_max_ms', {}, clock(), ms);
      const snap = (await app.monitor!.tick(clock()))!;
      app.monitor!.check(clock());
      await app.alerts!.idle();
      const active = (await (await fetch(`${app.baseUrl}/api/monitor/alerts/active`)).json()) as {
        alerts: Array<{ state: string }>;
      };
      return { strip: snap.host.find((x) => x.id === 'event_loop')!.status, alerts: active.alerts };
    };
    expect(await check(crit - 1)).toMatchObject({ strip: 'warn', alerts: [] });
    expect(await check(crit)).toMatchObject({ strip: 'crit', alerts: [{ state: 'firing' }] });
  });
});
