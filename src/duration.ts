// Durations as users type them: "500ms", "30s", "2m", "1.5h", plain milliseconds ("250"),
// and Prometheus' compound form ("1h30m", "1w2d": units y w d h m s ms in that order, each
// at most once, as Prometheus and Alertmanager write them). Read in one pass over at most
// MAX_DURATION_CHARS characters: a regular expression here was quadratic on long spaces.

/** The longest duration text read at all; "1y52w6d23h59m59s999ms" is 21. */
export const MAX_DURATION_CHARS = 32;

const DAY_MS = 86_400_000;
/** Prometheus' units, largest first: the order a compound duration must follow. */
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['y', 365 * DAY_MS],
  ['w', 7 * DAY_MS],
  ['d', DAY_MS],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];
const MS_UNIT = UNITS.length - 1;

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string | undefined) => c === ' ' || c === '\t';

/** The unit at `text[i]` (its index in UNITS, its milliseconds and its length), or null. */
function unitAt(text: string, i: number): { unit: number; ms: number; length: number } | null {
  if (text[i] === 'm' && text[i + 1] === 's') return { unit: MS_UNIT, ms: 1, length: 2 };
  const unit = UNITS.findIndex(([name]) => name === text[i]);
  const found = UNITS[unit];
  return found ? { unit, ms: found[1], length: 1 } : null;
}

/** Milliseconds, or null for text that is not a duration (or longer than MAX_DURATION_CHARS). */
export function parseDuration(input: string): number | null {
  if (input.length > MAX_DURATION_CHARS) return null;
  const text = input.trim();
  let i = 0;
  let ms = 0;
  let terms = 0;
  let fractional = false;
  let lastUnit = -1;
  while (i < text.length) {
    const start = i;
    while (isDigit(text[i])) i++;
    if (i === start) return null;
    if (text[i] === '.') {
      i++;
      if (!isDigit(text[i])) return null;
      while (isDigit(text[i])) i++;
      fractional = true;
    }
    const value = Number(text.slice(start, i));
    while (isSpace(text[i])) i++;
    const unit = i < text.length ? unitAt(text, i) : null;
    // A bare number is milliseconds, and only on its own.
    if (!unit) {
      if (i < text.length || terms > 0) return null;
      ms = value;
      terms = 1;
      break;
    }
    if (unit.unit <= lastUnit) return null;
    lastUnit = unit.unit;
    ms += value * unit.ms;
    terms++;
    i += unit.length;
  }
  // "1.5h" reads as it says; a fraction inside a compound ("1.5h30m") is a typo, not a duration.
  if (terms === 0 || (fractional && terms > 1)) return null;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}
