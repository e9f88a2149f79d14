// A condition's reach over the values its metric takes: the rule form warns of a rule that
// never fires (`> 150` on a percentage) or fires at every check (`> -5`).
import { describe, expect, it } from 'vitest';
import { catalogue } from '../src/metrics/catalogue.js';
import { conditionReach, valueRange } from '../src/value-range.js';

describe('a condition against the values its metric takes', () => {
  const percent = valueRange('%');
  it.each([
    ['>', 150, 'never'],
    ['>', 100, 'never'],
    ['>=', 100, 'may'],
    ['>=', 100.5, 'never'],
    ['>', 90, 'may'],
    ['>', -5, 'always'],
    ['>=', 0, 'always'],
    ['>', 0, 'may'],
    ['<', 0, 'never'],
    ['<=', 0, 'may'],
    ['<=', -1, 'never'],
    ['<', 85, 'may'],
    ['<', 101, 'always'],
    ['<=', 100, 'always'],
  ] as const)('%%: value %s %d %s holds', (op, threshold, reach) => {
    expect(conditionReach(op, threshold, percent)).toBe(reach);
  });

  it('durations and counts have no upper bound; temperatures none at all', () => {
    expect(conditionReach('>', 1e12, valueRange('ms'))).toBe('may');
    expect(conditionReach('<', 0, valueRange('ms'))).toBe('never');
    expect(conditionReach('<', -40, valueRange('°C'))).toBe('may');
    expect(conditionReach('>', 1, valueRange('ratio'))).toBe('never');
  });

  it('knows every unit of the catalogue', () => {
    const known = new Set(['%', 'ratio', 'bool', '°C']);
    // Every other unit is a figure that is 0 or more: a new unit that can go below 0 must be named here.
    const others = [...new Set([...catalogue.values()].map((m) => m.unit))].filter((u) => !known.has(u)).sort();
    expect(others).toEqual([
      'KiB/s',
      'MHz',
      'MiB',
      'W',
      'bytes',
      'connections',
      'errors',
      'frames/s',
      'images',
      'ms',
      'per minute',
      'preemptions',
      'req/s',
      'requests',
      's',
      'tasks',
      'tokens',
      'tokens/s',
    ]);
    for (const u of others) expect(valueRange(u)).toEqual({ min: 0, max: null });
  });
});
