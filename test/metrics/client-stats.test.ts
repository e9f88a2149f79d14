import { describe, expect, it } from 'vitest';
import { ClientStats } from '../../src/metrics/client-stats.js';
import { gpuBusySeconds } from '../../src/metrics/gpu-busy.js';
import { SeriesStore } from '../../src/metrics/series-store.js';

const t0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

describe('ClientStats', () => {
  it('ranks clients by request-seconds, requests and errors over 5 and 60 minutes', () => {
    const c = new ClientStats();
    for (let i = 0; i < 10; i++) c.record('team-a', 'ocr', true, 200, t0);
    c.record('team-b', 'gui', true, 9_000, t0 + 50 * 60_000);
    c.record('team-b', 'gui', false, 1_000, t0 + 50 * 60_000);
    const now = t0 + 52 * 60_000;
    const five = c.top(now, 5 * 60_000);
    expect(five.byRequests.map((x) => x.client)).toEqual(['team-b']);
    const hour = c.top(now, 60 * 60_000);
    expect(hour.byRequests.map((x) => [x.client, x.requests])).toEqual([
      ['team-a', 10],
      ['team-b', 2],
    ]);
    expect(hour.byRequestSeconds.map((x) => [x.client, x.requestSeconds, x.sharePercent])).toEqual([
      ['team-b', 10, (10 / 12) * 100],
      ['team-a', 2, (2 / 12) * 100],
    ]);
    // Without GPU readings there is no GPU time to share out.
    expect(hour.byRequestSeconds[0]!.gpuBusySeconds).toBeNull();
    expect(hour.byErrors.map((x) => x.client)).toEqual(['team-b']);
    expect(hour.byRequests[0]!.modules).toEqual({ ocr: 10 });
    // An hour and more later, all of it has aged out of the buckets.
    expect(c.top(t0 + 125 * 60_000, 60 * 60_000).byRequests).toEqual([]);
  });

  it("reports each module's share of the traffic", () => {
    const c = new ClientStats();
    for (let i = 0; i < 3; i++) c.record('x', 'gui', true, 1, t0);
    c.record('y', 'ocr', true, 1, t0);
    const shares = c.moduleShares(t0, 5 * 60_000);
    expect(shares.gui).toEqual({ requests: 3, sharePercent: 75 });
    expect(shares.ocr.sharePercent).toBe(25);
    expect(shares.video).toEqual({ requests: 0, sharePercent: 0 });
  });

  it('tracks at most maxClients, forgetting the least recently seen', () => {
    const c = new ClientStats(100);
    for (let i = 0; i < 1000; i++) c.record(`ip:10.0.${i >> 8}.${i & 255}`, 'vlm', true, 1, t0);
    c.record('ip:10.0.3.231', 'vlm', true, 1, t0); // seen again: now the most recent
    for (let i = 0; i < 99; i++) c.record(`new-${i}`, 'vlm', true, 1, t0);
    expect(c.size).toBe(100);
    expect(c.evicted).toBe(999);
    expect(c.top(t0, 60_000, 100).byRequests.some((x) => x.client === 'ip:10.0.3.231')).toBe(true);
  });

  it("shares out the GPUs' measured busy time: all clients together never pass GPUs × window", () => {
    // Two GPUs, 5 minutes at 90 % and 50 %; 40 clients each with 40 requests of 4.8 s in
    // inference, mostly at the same time: 7 680 request-seconds in 4 minutes.
    const store = new SeriesStore({ intervalMs: 10_000 });
    const now = t0 + 10 * 60_000;
    const from = ClientStats.windowStart(now, 5 * 60_000);
    for (let t = from; t <= now; t += 10_000) {
      store.record('gpu_utilization_percent', { gpu: '0' }, t, 90);
      store.record('gpu_utilization_percent', { gpu: '1' }, t, 50);
    }
    const c = new ClientStats();
    for (let k = 0; k < 40; k++)
      for (let i = 0; i < 40; i++) c.record(`classroom-${k}`, 'ocr', true, 4_800, from + i * 7_000);
    const busy = gpuBusySeconds(store, from, now)!;
    expect(busy).toBeCloseTo((0.9 + 0.5) * ((now - from) / 1_000), 6);
    const top = c.top(now, 5 * 60_000, 100, busy);
    expect(top.requestSecondsTotal).toBeCloseTo(40 * 40 * 4.8, 6);
    const gpuSeconds = top.byRequestSeconds.reduce((a, x) => a + x.gpuBusySeconds!, 0);
    expect(gpuSeconds).toBeCloseTo(busy, 6);
    expect(gpuSeconds).toBeLessThanOrEqual(2 * ((now - from) / 1_000));
    expect(top.byRequestSeconds[0]!.sharePercent).toBeCloseTo(2.5, 9);
    expect(gpuBusySeconds(new SeriesStore({ intervalMs: 10_000 }), from, now)).toBeNull();
  });
});
