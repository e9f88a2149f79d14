// When each metric's alerts were restless, read back from the history and the states: the
// spans the Monitor leaves out of a card's normal.
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/alerts/history.js';
import { PRESETS } from '../../src/alerts/presets.js';
import { ruleInputSchema, type Rule } from '../../src/alerts/rule-schema.js';
import { unrestByMetric } from '../../src/alerts/unrest.js';

const preset = (id: string): Rule => ({
  id: `preset:${id}`,
  ...ruleInputSchema.parse(PRESETS.find((p) => p.id === id)!.rule),
});
const ocr = preset('ocr-degradation');
const p95 = preset('p95-latency');
const long = preset('long-context');
const state = (at: number, ruleId: string, from: string, to: string, labels = {}): HistoryEntry => ({
  at,
  kind: 'state',
  ruleId,
  labels,
  from,
  to,
});

describe('restless spans', () => {
  it('run from pending to inactive, for every metric a rule watches; an open one ends now', () => {
    const history = [
      state(100, ocr.id, 'inactive', 'pending'),
      state(110, ocr.id, 'pending', 'firing'),
      state(150, ocr.id, 'firing', 'firing'), // acknowledged
      state(300, ocr.id, 'firing', 'inactive'),
      state(400, p95.id, 'inactive', 'pending', { endpoint: '*' }),
      state(410, p95.id, 'pending', 'inactive', { endpoint: '*' }),
      state(500, p95.id, 'inactive', 'pending', { endpoint: '*' }),
      { at: 520, kind: 'delivery', channel: 'console', ok: true } as HistoryEntry,
    ];
    const spans = unrestByMetric(history, [ocr, p95], [], 0, 600);
    expect(spans.get('ocr_confidence_mean')).toEqual([[100, 300]]);
    expect(spans.get('ocr_error_count')).toEqual([[100, 300]]);
    expect(spans.get('latency_ms_p95')).toEqual([
      [400, 410],
      [500, 600],
    ]);
  });

  it('start at the window when the first change leaves a restless state, or when a state is restless with no change since', () => {
    const spans = unrestByMetric(
      [state(200, ocr.id, 'firing', 'inactive')],
      [ocr, p95],
      [{ ruleId: p95.id, labels: { endpoint: '*' }, state: 'firing' }],
      50,
      600,
    );
    expect(spans.get('ocr_confidence_mean')).toEqual([[50, 200]]);
    expect(spans.get('latency_ms_p95')).toEqual([[50, 600]]);
  });

  it('leave out per-request alerts (no state), deleted rules and entries outside the window', () => {
    const history = [
      state(100, long.id, 'inactive', 'firing', { module: 'ocr' }),
      state(100, 'deleted', 'inactive', 'firing'),
      state(10, ocr.id, 'inactive', 'pending'),
    ];
    expect([...unrestByMetric(history, [ocr, long], [], 50, 600).keys()]).toEqual([]);
  });
});
