import { describe, expect, it } from 'vitest';
import { ClientStats } from '../../src/metrics/client-stats.js';

const t0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);

describe('ClientStats', () => {
  it('ranks clients by GPU-seconds, requests and errors over 5 and 60 minutes', () => {
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
    expect(hour.byGpuSeconds.map((x) => [x.client, x.gpuSeconds])).toEqual([
      ['team-b', 10],
      ['team-a', 2],
    ]);
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
});
