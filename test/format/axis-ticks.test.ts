// A chart's axis as a person draws it: every tick in one unit with one number of decimals,
// the fewest that write each tick exactly ("0 s … 12 s", "0.25 s", "0.50 req/s").
import { describe, expect, it } from 'vitest';

const { fmtAxisTicks } = (await import(new URL('../../public/js/format.js', import.meta.url).href)) as {
  fmtAxisTicks: (ticks: number[], unit: string) => string[];
};

describe('axis ticks', () => {
  it('write durations in the one unit of the largest tick', () => {
    expect(fmtAxisTicks([0, 2_000, 4_000, 6_000, 8_000, 10_000, 12_000], 'ms')).toEqual([
      '0 s',
      '2 s',
      '4 s',
      '6 s',
      '8 s',
      '10 s',
      '12 s',
    ]);
    expect(fmtAxisTicks([0, 250, 500, 750, 1_000, 1_250], 'ms')).toEqual([
      '0.00 s',
      '0.25 s',
      '0.50 s',
      '0.75 s',
      '1.00 s',
      '1.25 s',
    ]);
    expect(fmtAxisTicks([0, 200, 400, 600], 'ms')).toEqual(['0 ms', '200 ms', '400 ms', '600 ms']);
    expect(fmtAxisTicks([0, 60_000, 120_000, 180_000], 'ms')).toEqual(['0 min', '1 min', '2 min', '3 min']);
  });

  it('give every tick the decimals the finest one needs, and the unit as the cards write it', () => {
    expect(fmtAxisTicks([0.4, 0.45, 0.5, 0.55, 0.6], 'req/s')).toEqual([
      '0.40 req/s',
      '0.45 req/s',
      '0.50 req/s',
      '0.55 req/s',
      '0.60 req/s',
    ]);
    expect(fmtAxisTicks([0, 25, 50, 75, 100], '%')).toEqual(['0 %', '25 %', '50 %', '75 %', '100 %']);
    expect(fmtAxisTicks([0, 0.5, 1], 'ratio')).toEqual(['0.0', '0.5', '1.0']);
    expect(fmtAxisTicks([0, 10_000, 20_000], 'tokens')).toEqual(['0k tokens', '10k tokens', '20k tokens']);
    // Floating-point ticks (0.1 + 0.2) still read as the decimals they are.
    expect(fmtAxisTicks([0.1, 0.1 + 0.2, 0.5], 'req/s')).toEqual(['0.1 req/s', '0.3 req/s', '0.5 req/s']);
  });
});

const { fmtAgainst, fmtBeside, fmtLine } = (await import(
  new URL('../../public/js/format.js', import.meta.url).href
)) as {
  fmtAgainst: (
    v: number,
    lines: { warn: { value: number } | null; crit: { value: number } | null },
    unit: string,
  ) => string;
  fmtBeside: (v: number, line: number, unit: string) => string;
  fmtLine: (v: number, unit: string | undefined) => string;
};

describe('a threshold', () => {
  it('prints as it was set, never rounded to the usual decimals of its unit', () => {
    expect(fmtLine(95.5, '%')).toBe('95.5 %');
    expect(fmtLine(93.5, '%')).toBe('93.5 %');
    expect(fmtLine(90, '%')).toBe('90 %');
    expect(fmtLine(0.385, 'ratio')).toBe('0.385');
    expect(fmtLine(0.6, 'ratio')).toBe('0.60');
    expect(fmtLine(2_000, 'ms')).toBe('2.00 s');
    expect(fmtLine(1_234, 'ms')).toBe('1.234 s');
    // No decimals of minutes write 65 432 ms: in ms.
    expect(fmtLine(65_432, 'ms')).toBe('65,432 ms');
    expect(fmtLine(90_000, 'ms')).toBe('1.5 min');
    expect(fmtLine(5.25, 'per minute')).toBe('5.25 /min');
    expect(fmtLine(250.5, undefined)).toBe('250.5');
    // A threshold no metric reaches is valid: written in powers of ten, not 309 digits.
    expect(fmtLine(1e308, '%')).toBe('1E308 %');
  });
});

describe('a value beside its threshold', () => {
  it('never prints as the threshold it is past', () => {
    expect(fmtBeside(0.598, 0.6, 'ratio')).toBe('0.598');
    expect(fmtBeside(0.38, 0.6, 'ratio')).toBe('0.38');
    expect(fmtBeside(5_004, 5_000, 'ms')).toBe('5.004 s');
    expect(fmtBeside(92.04, 92, '%')).toBe('92.04 %');
    expect(fmtBeside(5.04, 5, 'per minute')).toBe('5.04 /min');
    // Equal is equal: no digits added, the line's own.
    expect(fmtBeside(0.6, 0.6, 'ratio')).toBe('0.60');
    expect(fmtBeside(95.5, 95.5, '%')).toBe('95.5 %');
  });

  it('never prints on the wrong side of it', () => {
    // 95.3 % prints as 95 %, under a line of 95.25 % it is above.
    expect(fmtBeside(95.3, 95.25, '%')).toBe('95.3 %');
    expect(fmtBeside(96, 95.5, '%')).toBe('96 %');
    expect(fmtBeside(0.3849, 0.385, 'ratio')).toBe('0.38');
    expect(fmtBeside(0.3851, 0.385, 'ratio')).toBe('0.39');
    expect(fmtBeside(1_230, 1_234, 'ms')).toBe('1.23 s');
    expect(fmtBeside(1_235, 1_234, 'ms')).toBe('1.24 s');
    expect(fmtBeside(1_234.4, 1_234, 'ms')).toBe('1.2344 s');
    // Judged by the figure printed: Intl writes 1.005 as "1.01" (toFixed: "1.00"), past 1.0051.
    expect(fmtBeside(1.005, 1.0051, 'ratio')).toBe('1.005');
    // Powers of ten get no decimals added.
    expect(fmtBeside(1e308, 1e307, '%')).toBe('1E308 %');
  });

  it('on a card, prints on its own side of the nearest of its lines', () => {
    const lines = { warn: { value: 45.5 }, crit: { value: 45.75 } };
    expect(fmtAgainst(45.72, lines, '%')).toBe('45.7 %');
    expect(fmtAgainst(45.76, lines, '%')).toBe('46 %'); // past the line, and printed past it
    expect(fmtAgainst(45.46, lines, '%')).toBe('45 %');
    expect(fmtAgainst(45.6, lines, '%')).toBe('45.6 %'); // between the two lines: 46 % would read past both
    expect(fmtAgainst(30.4, lines, '%')).toBe('30 %');
    expect(fmtAgainst(45.72, { warn: null, crit: null }, '%')).toBe('46 %');
  });
});
