// The values a metric can take, from its unit: a share (%) 0–100, a ratio or a yes/no 0–1,
// a temperature anything, every other figure the Monitor keeps (durations, counts, rates,
// sizes) 0 or more. A rule's condition outside them never holds (the rule never fires), or
// always holds (it fires at every check): the rule form says so. Neither is refused: `>= 0`
// is how an operator tries a channel. Here too the one comparison a condition or a line is
// judged by. (The browser loads this module too, from /js/shared/.)

export interface ValueRange {
  /** null: no lower bound. */
  min: number | null;
  /** null: no upper bound. */
  max: number | null;
}

export function valueRange(unit: string | undefined): ValueRange {
  if (unit === '%') return { min: 0, max: 100 };
  if (unit === 'ratio' || unit === 'bool') return { min: 0, max: 1 };
  if (unit === undefined || unit === '°C') return { min: null, max: null };
  return { min: 0, max: null };
}

/**
 * Whether `value op threshold` holds: the one comparison every condition and line is judged
 * by ('>=' counts a value at the line as past it, '>' only one beyond). The alert engine, the
 * cards' lines and the alert summary all use this one.
 */
export const pastLine = (value: number, op: string, line: number): boolean =>
  op === '>' ? value > line : op === '>=' ? value >= line : op === '<' ? value < line : op === '<=' && value <= line;

/** Whether `value op threshold` never holds, always holds, or may, for every value in `range`. */
export function conditionReach(op: string, threshold: number, range: ValueRange): 'never' | 'always' | 'may' {
  const { min, max } = range;
  switch (op) {
    case '>':
      if (max !== null && threshold >= max) return 'never';
      return min !== null && threshold < min ? 'always' : 'may';
    case '>=':
      if (max !== null && threshold > max) return 'never';
      return min !== null && threshold <= min ? 'always' : 'may';
    case '<':
      if (min !== null && threshold <= min) return 'never';
      return max !== null && threshold > max ? 'always' : 'may';
    case '<=':
      if (min !== null && threshold < min) return 'never';
      return max !== null && threshold >= max ? 'always' : 'may';
    default:
      return 'may';
  }
}
