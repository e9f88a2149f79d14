// The server rounds a card's value and its normal as the page prints them (src/metrics/
// shown.ts) before taking the change between them. The page's formatter is the source of
// truth: across every unit and many magnitudes, the two must round alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundShown } from '../../src/metrics/shown.js';

type FmtValue = (v: number, unit: string) => string;
const format = (await import(new URL('../../public/js/format.js', import.meta.url).href)) as { fmtValue: FmtValue };

const parts = new Intl.NumberFormat(undefined).formatToParts(12345.6);
const group = parts.find((p) => p.type === 'group')?.value ?? ',';
const decimal = parts.find((p) => p.type === 'decimal')?.value ?? '.';

/** The number the page prints, back in the metric's unit ("4.83 s" in ms is 4830). */
function printed(v: number, unit: string): number {
  const text = format.fmtValue(v, unit);
  const m = /^(-?[\d.,\s\u00a0\u202f]+)\s*(ms|s|min)?/.exec(text.replaceAll(group, '').replace(decimal, '.'))!;
  const n = Number(m[1]!.replace(/[\s\u00a0\u202f]/g, ''));
  if (unit !== 'ms') return n;
  return m[2] === 'min' ? n * 60_000 : m[2] === 's' ? n * 1_000 : n;
}

const UNITS = ['ms', '%', 'ratio', 'per minute', 'connections', 'requests', 'tokens', 'frames/s', 'MiB', '°C'];
const magnitudes = fc.oneof(
  fc.double({ min: 0, max: 10, noNaN: true }),
  fc.double({ min: 0, max: 1_000, noNaN: true }),
  fc.double({ min: 0, max: 200_000, noNaN: true }),
  fc.integer({ min: 0, max: 100_000 }),
  // Halves at every rounding step: where two roundings would part.
  fc.integer({ min: 0, max: 20_000 }).map((n) => n / 200),
);

describe('a value as the page prints it', () => {
  it('rounds as fmtValue does, for every unit', () => {
    fc.assert(
      fc.property(magnitudes, fc.constantFrom(...UNITS), (v, unit) => {
        expect(roundShown(v, unit)).toBeCloseTo(printed(v, unit), 9);
      }),
      { numRuns: 5_000 },
    );
  });

  it('prints the examples people see', () => {
    expect(roundShown(4_352, 'ms')).toBeCloseTo(4_350, 9);
    expect(roundShown(13_249, 'ms')).toBeCloseTo(13_200, 9);
    expect(roundShown(0.3849, 'ratio')).toBe(0.38);
    expect(roundShown(7.34, '%')).toBe(7.3);
    expect(roundShown(24.6, 'per minute')).toBe(25);
  });
});
