import { describe, expect, it } from 'vitest';
import { SeriesStore } from '../../src/metrics/series-store.js';
import { buildSnapshot, trendOf } from '../../src/metrics/snapshot.js';

const interval = 10_000;
const t0 = 1_800_000_000_000;

function snapshotAt(store: SeriesStore, now: number, gpu = { available: false, reason: 'no NVIDIA driver (libnvidia-ml.so.1 not found)' }) {
  return buildSnapshot({ store, now, intervalMs: interval, windowMs: 60_000, gpu });
}

describe('snapshot cards', () => {
  it('has the six cards in order, GPU cards unavailable with the reason', () => {
    const s = snapshotAt(new SeriesStore({ intervalMs: interval }), t0);
    expect(s.cards.map((c) => c.id)).toEqual(['gpu_memory', 'gpu_utilization', 'latency', 'rps', 'connections', 'error_rate']);
    expect(s.cards[0]).toMatchObject({ status: 'unavailable', value: null, reason: 'no NVIDIA driver (libnvidia-ml.so.1 not found)' });
    expect(s.cards[2]).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('no requests') });
  });

  it('colours by the catalogue thresholds and shows the trend', () => {
    const store = new SeriesStore({ intervalMs: interval });
    const p50 = [900, 1000, 1100, 2500, 2600, 2700];
    p50.forEach((v, i) => store.record('latency_ms_p50', { endpoint: '*' }, t0 + i * interval, v));
    [0.5, 0.4, 0.6, 6, 7, 8].forEach((v, i) => store.record('error_rate_percent', { endpoint: '*' }, t0 + i * interval, v));
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

describe('trendOf', () => {
  const pts = (vs: number[]) => vs.map((v, i) => ({ t: i, v }));
  it('is flat within 5 % noise, up or down beyond it', () => {
    expect(trendOf(pts([100, 101, 99, 102, 100, 101]))).toBe('flat');
    expect(trendOf(pts([100, 100, 100, 120, 120, 120]))).toBe('up');
    expect(trendOf(pts([100, 100, 100, 80, 80, 80]))).toBe('down');
    expect(trendOf(pts([0, 0, 0, 0]))).toBe('flat');
    expect(trendOf(pts([5]))).toBeNull();
  });
});
