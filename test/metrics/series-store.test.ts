import { describe, expect, it } from 'vitest';
import { RingSeries } from '../../src/metrics/ring-series.js';
import { SeriesStore } from '../../src/metrics/series-store.js';

describe('RingSeries', () => {
  it('keeps the newest points, oldest first, and never grows', () => {
    const r = new RingSeries(3);
    for (let i = 1; i <= 5; i++) r.push(i * 10, i);
    expect(r.length).toBe(3);
    expect(r.since(0)).toEqual([
      { t: 30, v: 3 },
      { t: 40, v: 4 },
      { t: 50, v: 5 },
    ]);
    expect(r.since(45)).toEqual([{ t: 50, v: 5 }]);
    expect(r.last()).toEqual({ t: 50, v: 5 });
  });
});

describe('SeriesStore', () => {
  it('holds a full hour at the default 10 s interval', () => {
    const store = new SeriesStore({ intervalMs: 10_000 });
    const t0 = 1_000_000;
    for (let i = 0; i <= 720; i++) store.record('cpu_load_percent', {}, t0 + i * 10_000, i);
    const now = t0 + 720 * 10_000;
    const hour = store.find('cpu_load_percent')[0]!.ring.since(now - 3_600_000);
    expect(hour).toHaveLength(361);
    expect(hour[0]!.t).toBe(now - 3_600_000);
  });

  it('refuses new series past the cap instead of growing, and counts what it refused', () => {
    const store = new SeriesStore({ intervalMs: 1000, maxSeries: 10 });
    for (let i = 0; i < 1000; i++) store.record('latency_ms_p50', { endpoint: `/x/${i}` }, 1, 1);
    expect(store.size).toBe(10);
    expect(store.droppedPoints).toBe(990);
    // Existing series keep recording.
    expect(store.record('latency_ms_p50', { endpoint: '/x/3' }, 2, 5)).toBe(true);
  });

  it('stores no point for a missing reading', () => {
    const store = new SeriesStore({ intervalMs: 1000 });
    expect(store.record('gpu_power_watts', { gpu: '0' }, 1, Number.NaN)).toBe(false);
    expect(store.size).toBe(0);
  });

  it('finds series by label subset, independent of label order', () => {
    const store = new SeriesStore({ intervalMs: 1000 });
    store.record('m', { a: '1', b: '2' }, 1, 1);
    store.record('m', { b: '2', a: '1' }, 2, 2);
    store.record('m', { a: '3', b: '2' }, 2, 9);
    expect(store.size).toBe(2);
    expect(
      store
        .find('m', { a: '1' })[0]!
        .ring.since(0)
        .map((p) => p.v),
    ).toEqual([1, 2]);
    expect(store.find('m', { b: '2' })).toHaveLength(2);
  });
});
