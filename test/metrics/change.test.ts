// A "normal" that an incident cannot become: restless minutes (an alert pending or firing)
// stay out of it, a normal past its own lines is none, and the change is taken between the
// figures as shown, so an arrow can neither contradict the colour nor the numbers beside it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeAgainstNormal, type Spans } from '../../src/metrics/change.js';
import { MODEL_BASELINE } from '../../src/metrics/model-snapshot.js';
import type { Point } from '../../src/metrics/ring-series.js';
import { roundShown } from '../../src/metrics/shown.js';
import { TREND_RULE } from '../../src/metrics/snapshot.js';
import { healthBy, linesFor } from '../../src/metrics/thresholds.js';

const minute = 60_000;
const check = 10_000;
const t0 = 1_800_000_000_000;

/** One point a check from `from` to `to` minutes (relative to t0), valued by `f`. */
function history(from: number, to: number, f: (m: number) => number): Point[] {
  const out: Point[] = [];
  for (let t = t0 + from * minute; t <= t0 + to * minute; t += check) out.push({ t, v: f((t - t0) / minute) });
  return out;
}

/** The demo's loop: two calm minutes, three of incident, again. */
const demo = (calm: number, incident: number) => (m: number) => (m % 5 < 2 ? calm : incident);

describe('the normal of a model figure (median of the calm minutes of the hour before)', () => {
  const lines = linesFor('ocr_avg_duration', {}, []);

  it('is the incident itself when nothing marks it: the second loop reads "4.35 s, normal 4.35 s"', () => {
    // 9.5 minutes into the demo: 60 % of the history is incident.
    const points = history(0, 9.5, demo(700, 4_350));
    const c = changeAgainstNormal({ points, unit: 'ms', rule: MODEL_BASELINE });
    expect(c.baseline).toBe(4_350);
    expect(c.trend).toBe('flat');
  });

  it('leaves out the minutes an alert on it was pending or firing', () => {
    const points = history(0, 9.5, demo(700, 4_350));
    const unrest: Spans = [
      [t0 + 2.1 * minute, t0 + 5.4 * minute],
      [t0 + 7.1 * minute, t0 + 9.5 * minute],
    ];
    const c = changeAgainstNormal({ points, unit: 'ms', rule: MODEL_BASELINE, unrest, lines });
    expect(c).toMatchObject({ baseline: 700, trend: 'up', noCalmBaseline: false });
    expect(c.changePercent).toBeCloseTo(((4_350 - 700) / 700) * 100, 9);
  });

  it('says "no calm baseline yet" when fewer than three calm minutes are left', () => {
    const points = history(0, 4.5, demo(700, 4_350));
    const unrest: Spans = [[t0 + 1.2 * minute, t0 + 4.5 * minute]];
    expect(changeAgainstNormal({ points, unit: 'ms', rule: MODEL_BASELINE, unrest, lines })).toEqual({
      trend: null,
      changePercent: null,
      baseline: null,
      noCalmBaseline: true,
    });
  });

  it('is no normal for a value past a line when it is as bad as the value', () => {
    // An incident no rule watches: twenty minutes of 4.35 s OCR, past the 2 s critical line.
    const points = history(0, 20, () => 4_350);
    expect(changeAgainstNormal({ points, unit: 'ms', rule: MODEL_BASELINE, lines }).noCalmBaseline).toBe(true);
    // A normal past the warning line still measures a critical value, and an ok one.
    const usual = history(0, 20, (m) => (m > 19 ? 4_350 : 1_100));
    expect(changeAgainstNormal({ points: usual, unit: 'ms', rule: MODEL_BASELINE, lines })).toMatchObject({
      baseline: 1_100,
      trend: 'up',
    });
    const calmer = history(0, 20, (m) => (m > 19 ? 700 : 1_100));
    expect(changeAgainstNormal({ points: calmer, unit: 'ms', rule: MODEL_BASELINE, lines }).trend).toBe('down');
  });
});

describe('the normal of a card no rule watches (its own lines mark the incident)', () => {
  const lines = linesFor('gpu_utilization_percent', {}, []);
  // The drill: seven calm minutes at 38 %, three of incident at 97-99 %, then calm again.
  const drill = (m: number) => (m >= 7 && m < 10 ? 97 + (m % 3) : 38);

  it('is not the incident after it: 39 % reads flat, not "↓ 42 %"', () => {
    const after = [...history(0, 10.5, drill), ...history(10.5 + 1 / 6, 11.5, () => 39)];
    const c = changeAgainstNormal({ points: after, unit: '%', rule: TREND_RULE, lines });
    expect(c.baseline).toBe(38);
    expect(c.trend).toBe('flat');
  });

  it('is the calm level during the next incident: 97 % reads ↑ 155 %, not ↑ 47 %', () => {
    const next = [...history(0, 12, drill), ...history(12 + 1 / 6, 13.5, () => 97)];
    const c = changeAgainstNormal({ points: next, unit: '%', rule: TREND_RULE, lines });
    expect(c).toMatchObject({ baseline: 38, trend: 'up' });
    expect(c.changePercent).toBeCloseTo(((97 - 38) / 38) * 100, 9);
  });
});

describe('the change beside a value', () => {
  it('is taken between the figures as shown: "0.38 vs normal 0.38" carries no percentage', () => {
    // The last minute's mean is 0.437; the value shown and the normal both print 0.38.
    const points = [...history(0, 10, () => 0.381), ...history(10 + 1 / 6, 11, (m) => (m < 10.9 ? 0.45 : 0.384))];
    const c = changeAgainstNormal({ points, unit: 'ratio', rule: MODEL_BASELINE });
    expect(roundShown(points.at(-1)!.v, 'ratio')).toBe(0.38);
    expect(roundShown(c.baseline!, 'ratio')).toBe(0.38);
    expect(c).toMatchObject({ trend: 'flat', changePercent: 0 });
  });

  /** Random figures, lines, restless spans: the arrow agrees with the colour and the numbers. */
  const figure = fc.record({
    metric: fc.constantFrom(
      'latency_ms_p95',
      'error_rate_percent',
      'ocr_confidence_mean',
      'gpu_memory_utilization_percent',
    ),
    values: fc.array(fc.double({ min: 0, max: 20_000, noNaN: true }), { minLength: 2, maxLength: 80 }),
    scale: fc.constantFrom(1, 0.01, 0.0001),
    unrest: fc.array(fc.tuple(fc.integer({ min: 0, max: 14 }), fc.integer({ min: 1, max: 5 })), { maxLength: 3 }),
    model: fc.boolean(),
  });
  const UNIT: Record<string, string> = {
    latency_ms_p95: 'ms',
    error_rate_percent: '%',
    ocr_confidence_mean: 'ratio',
    gpu_memory_utilization_percent: '%',
  };

  it('never points towards "better" on a card worse than normal, and never beside two equal figures', () => {
    fc.assert(
      fc.property(figure, ({ metric, values, scale, unrest, model }) => {
        const unit = UNIT[metric]!;
        const points = values.map((v, i) => ({ t: t0 + i * check, v: v * scale }));
        const lines = linesFor(metric, {}, []);
        const spans: Spans = unrest.map(([s, d]) => [t0 + s * minute, t0 + (s + d) * minute]);
        const c = changeAgainstNormal({
          points,
          unit,
          rule: model ? MODEL_BASELINE : TREND_RULE,
          unrest: spans,
          lines,
        });
        const value = points.at(-1)!.v;
        const status = healthBy(value, lines);
        const better = lines!.direction === 'above' ? 'down' : 'up';
        if (status !== 'ok') expect(c.trend).not.toBe(better);
        if (c.baseline !== null && roundShown(value, unit) === roundShown(c.baseline, unit)) {
          expect(c.trend).toBe('flat');
          expect(c.changePercent ?? 0).toBe(0);
        }
        // The percentage is the one between the figures shown.
        if (c.changePercent !== null && c.baseline !== null && roundShown(c.baseline, unit) !== 0) {
          const b = roundShown(c.baseline, unit);
          expect(c.changePercent).toBeCloseTo(((roundShown(value, unit) - b) / Math.abs(b)) * 100, 6);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('a figure with nothing in its baseline window', () => {
  // A first video's five checks, 40 s of them: 4.60 frames/s, then 3.62.
  const points: Point[] = [4.6, 3.62, 3.62, 3.62, 3.62].map((v, k) => ({ t: t0 + k * check, v }));

  it('is compared with its own older half while the server itself is younger than the recent window', () => {
    const c = changeAgainstNormal({ points, unit: 'frames/s', rule: MODEL_BASELINE, historyStart: t0 - 10_000 });
    expect(c.trend).toBe('down');
    expect(c.baseline).toBeCloseTo(4.11, 9); // the median of 4.60 and 3.62
  });

  it('has no normal on an older server: a new figure\u2019s first seconds are not its normal (no "↓ 12 %")', () => {
    const c = changeAgainstNormal({ points, unit: 'frames/s', rule: MODEL_BASELINE, historyStart: t0 - 17 * minute });
    expect(c).toMatchObject({ trend: null, changePercent: null, baseline: null });
  });
});

describe('a figure first seen a minute or two ago', () => {
  it('has no calm baseline yet on an older server: 80 s of its own requests are not its normal (no "↓ 20 %")', () => {
    // OCR's first requests 80 s ago, a check every 10 s: 55 ms then 44 ms.
    const points: Point[] = Array.from({ length: 9 }, (_, k) => ({ t: t0 + k * check, v: k < 2 ? 55 : 44 }));
    const c = changeAgainstNormal({ points, unit: 'ms', rule: MODEL_BASELINE, historyStart: t0 - 90 * minute });
    expect(c).toMatchObject({ trend: null, noCalmBaseline: true });
  });
});
