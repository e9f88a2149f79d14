import { describe, expect, it } from 'vitest';
import { buildModelSnapshot } from '../../src/metrics/model-snapshot.js';
import { collectModelSeries } from '../../src/metrics/model-collector.js';
import { ModelStats, RequestStages } from '../../src/metrics/model-stats.js';
import { SeriesStore } from '../../src/metrics/series-store.js';

const interval = 10_000;
const t0 = 1_800_000_000_000;
const minute = 60_000;

function model(store: SeriesStore, now: number) {
  return buildModelSnapshot({ store, now, intervalMs: interval, windowMs: minute });
}
const cardOf = (snap: ReturnType<typeof model>, module: string, metric: string) =>
  snap.modules.find((m) => m.module === module)!.cards.find((c) => c.metric === metric)!;

describe('Model Metrics', () => {
  it('shows the tutorial figures per module with their change against the median of the hour before', () => {
    const store = new SeriesStore({ intervalMs: interval });
    for (let t = t0 - 40 * minute; t <= t0; t += interval) {
      const incident = t > t0 - minute;
      store.record('ocr_error_count', {}, t, incident ? 12 : 3);
      store.record('ocr_confidence_mean', {}, t, incident ? 0.38 : 0.95);
      store.record('ocr_avg_duration', {}, t, incident ? 2_140 : 700);
    }
    const snap = model(store, t0);
    expect(snap.modules.map((m) => m.module)).toEqual(['ocr', 'gui', 'video', 'chat']);
    expect(snap.modules[0]!.cards.map((c) => c.metric)).toEqual([
      'ocr_avg_duration',
      'ocr_error_count',
      'ocr_confidence_mean',
      'ocr_preproc_failure_rate',
      'input_token_count',
    ]);
    expect(cardOf(snap, 'ocr', 'ocr_error_count')).toMatchObject({
      value: 12,
      unit: 'per minute',
      trend: 'up',
      baseline: 3,
      stale: false,
    });
    expect(cardOf(snap, 'ocr', 'ocr_error_count').changePercent).toBeCloseTo(300, 10);
    // Below 0.6 is the log's WARN and the OCR alarm's line: a warning; confidence has no critical line.
    expect(cardOf(snap, 'ocr', 'ocr_confidence_mean')).toMatchObject({ value: 0.38, status: 'warn', trend: 'down' });
    expect(cardOf(snap, 'ocr', 'ocr_confidence_mean').changePercent).toBeCloseTo(-60, 10);
    expect(cardOf(snap, 'ocr', 'ocr_avg_duration')).toMatchObject({
      value: 2_140,
      status: 'crit',
      lines: { direction: 'above', warn: { op: '>=', value: 800, rule: null } },
    });
    expect(cardOf(snap, 'ocr', 'ocr_avg_duration').spark).toHaveLength(30);
  });

  it('a median baseline is not moved by a few bad minutes', () => {
    const store = new SeriesStore({ intervalMs: interval });
    for (let t = t0 - 60 * minute; t <= t0; t += interval) {
      const spike = t > t0 - 30 * minute && t < t0 - 25 * minute;
      store.record('gui_step_avg_duration', {}, t, spike ? 20_000 : 1_000);
    }
    expect(cardOf(model(store, t0), 'gui', 'gui_step_avg_duration')).toMatchObject({ trend: 'flat', baseline: 1_000 });
  });

  it('marks a value no request has fed lately as stale, with its age and no change', () => {
    const store = new SeriesStore({ intervalMs: interval });
    // One OCR request 3 minutes ago: its confidence was in the window for one minute.
    for (let t = t0 - 3 * minute; t <= t0 - 2 * minute; t += interval) store.record('ocr_confidence_mean', {}, t, 0.5);
    const c = cardOf(model(store, t0), 'ocr', 'ocr_confidence_mean');
    expect(c).toMatchObject({ value: 0.5, stale: true, ageMs: 2 * minute, trend: null, changePercent: null });
    expect(cardOf(model(store, t0), 'gui', 'gui_step_success_rate')).toMatchObject({
      value: null,
      status: 'unavailable',
      stale: false,
    });
  });

  it('gives each module its stage means over the same requests (they add up to the total, with how many) and its errors by code', () => {
    const store = new SeriesStore({ intervalMs: interval });
    // Three chat requests: two answered, one refused in preprocessing (no inference, no postprocessing).
    const stages = new RequestStages();
    stages.record({ preprocess: 100, inference: 2_000, postprocess: 20, total: 2_150 }, t0);
    stages.record({ preprocess: 140, inference: 1_800, postprocess: 22, total: 1_990 }, t0);
    stages.record({ preprocess: 60, total: 61 }, t0);
    store.record('inference_duration_ms', { module: 'vlm', stage: 'total' }, t0, 1_400);
    store.record('model_error_count', { module: 'ocr', code: 'IMAGE_UNREADABLE' }, t0, 4);
    store.record('model_error_count', { module: 'ocr', code: 'UPSTREAM_ERROR' }, t0, 0);
    // What the check records of them.
    const b = stages.summarize(minute, t0)!;
    store.record('model_requests_ended', { module: 'vlm' }, t0, b.requests);
    for (const stage of ['preprocess', 'inference', 'postprocess', 'other', 'total'] as const)
      store.record('request_stage_ms', { module: 'vlm', stage }, t0, b[stage]);
    const snap = model(store, t0);
    const chat = snap.modules.find((m) => m.module === 'chat')!;
    const s = chat.stages!;
    expect(s.requests).toBe(3);
    expect(s.preprocess).toBeCloseTo(100, 10);
    expect(s.inference).toBeCloseTo(1_266.667, 2);
    expect(s.postprocess).toBeCloseTo(14, 10);
    expect(s.total).toBeCloseTo(1_400.333, 2);
    expect(s.preprocess + s.inference + s.postprocess + s.other).toBeCloseTo(s.total, 9);
    expect(chat.cards[0]).toMatchObject({
      metric: 'inference_duration_ms',
      labels: { module: 'vlm', stage: 'total' },
      value: 1_400,
    });
    expect(snap.modules[0]!.errorsByCode).toEqual({ IMAGE_UNREADABLE: 4 });
    expect(snap.modules.find((m) => m.module === 'gui')!.stages).toBeNull();
  });

  it('records the stage means of the requests that ended, and the total card reads the same total', () => {
    const store = new SeriesStore({ intervalMs: interval });
    const stats = new ModelStats(t0 - minute);
    // As StageTimer.finish() records an OCR request: the per-stage windows and the request's stages.
    const requests = [
      { preprocess: 58, inference: 4_890, postprocess: 0.04, total: 4_960 },
      { preprocess: 3_100, total: 3_120 }, // a truncated upload, refused in preprocessing
    ];
    for (const times of requests) {
      const w = stats.stageWindows('ocr');
      for (const [stage, ms] of Object.entries(times)) w[stage as 'total'].record(ms, t0);
      stats.requestStages.get('ocr')!.record(times, t0);
    }
    collectModelSeries(stats, store, minute, t0);
    const ocr = model(store, t0).modules.find((m) => m.module === 'ocr')!;
    expect(ocr.stages).toMatchObject({ requests: 2, preprocess: 1_579, inference: 2_445, postprocess: 0.02 });
    const s = ocr.stages!;
    expect(s.preprocess + s.inference + s.postprocess + s.other).toBeCloseTo(s.total, 9);
    expect(ocr.cards.find((c) => c.metric === 'ocr_avg_duration')!.value).toBe(s.total);
    // The per-stage series keeps each stage's mean over the requests that ran it.
    expect(store.latest('inference_duration_ms', { module: 'ocr', stage: 'inference' })!.v).toBe(4_890);
  });
});
