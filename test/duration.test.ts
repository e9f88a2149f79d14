// Durations as rules and queries take them: the forms users type, Prometheus' compound
// form, and nothing else; the export writes durations this parser reads back exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { promDuration } from '../src/alerts/prometheus-rules.js';
import { MAX_DURATION_CHARS, parseDuration } from '../src/duration.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it('reads the forms users type', () => {
    expect(
      ['500ms', '30s', '2m', '1h', '1d', '1.5h', '250', ' 30s ', '30 s', '0.5s', '0', '007s'].map(parseDuration),
    ).toEqual([500, 30 * S, 2 * M, H, D, 1.5 * H, 250, 30 * S, 30 * S, 500, 0, 7 * S]);
  });

  it("reads Prometheus' compound durations: units y w d h m s ms in that order, each once", () => {
    expect(['1h30m', '1m30s', '1w2d', '1y', '2d12h', '1m30s500ms', '1y52w6d23h59m59s999ms'].map(parseDuration)).toEqual(
      [
        H + 30 * M,
        M + 30 * S,
        9 * D,
        365 * D,
        2.5 * D,
        M + 30 * S + 500,
        365 * D + 52 * 7 * D + 6 * D + 23 * H + 59 * M + 59 * S + 999,
      ],
    );
  });

  it('refuses what is not a duration', () => {
    for (const text of [
      '',
      ' ',
      'h',
      '1h1h', // a unit twice
      '30m1h', // out of order
      '1ms1s',
      '1.5h30m', // a fraction inside a compound
      '1h30', // a bare number after a unit
      '5min',
      '1h 30m',
      '-1s',
      '+1s',
      '1e3',
      '1.s',
      '.5s',
      '1H',
      'x',
      '1s\n2s',
    ])
      expect(parseDuration(text), JSON.stringify(text)).toBeNull();
  });

  it(`reads at most ${MAX_DURATION_CHARS} characters`, () => {
    expect(parseDuration(`${'0'.repeat(MAX_DURATION_CHARS - 2)}1s`)).toBe(S);
    expect(parseDuration(`${'0'.repeat(MAX_DURATION_CHARS - 1)}1s`)).toBeNull();
    // The adversarial run's input: 27 s on the old pattern, with /healthz waiting.
    expect(parseDuration(`1${' '.repeat(120_000)}x`)).toBeNull();
  });

  it('reads back every duration the Prometheus export writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * D }), (ms) => {
        expect(parseDuration(promDuration(ms))).toBe(ms);
      }),
    );
  });

  it('adds up any compound duration written in the order Prometheus requires', () => {
    const units = [
      ['y', 365 * D],
      ['w', 7 * D],
      ['d', D],
      ['h', H],
      ['m', M],
      ['s', S],
      ['ms', 1],
    ] as const;
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }), { minLength: 7, maxLength: 7 }),
        (counts) => {
          const used = units.flatMap(([unit, size], i) => {
            const n = counts[i];
            return n === undefined ? [] : [{ text: `${n}${unit}`, ms: n * size }];
          });
          fc.pre(used.length > 0);
          expect(parseDuration(used.map((u) => u.text).join(''))).toBe(used.reduce((sum, u) => sum + u.ms, 0));
        },
      ),
    );
  });
});
