// What a JSON body would cost, measured on its text before JSON.parse builds it: one
// linear pass (string contents skipped with indexOf) counts its values, the entries of
// each list and object, and its depth. A body past a budget is refused before it takes
// any memory: `[{},{},…]` in 5.7 MiB used to cost JSON.parse 107 MiB and the checks after it 489 MiB.

export interface JsonBudgets {
  /** Lists and objects nested in each other, the body's own included. */
  depth: number;
  /** Values in the whole body: every object, list, string, number, true, false and null. */
  nodes: number;
  /** Entries of one list, or members of one object. */
  width: number;
}

/**
 * OpenAI tool schemas nest about a dozen levels. A 50-message chat with 20 images and 8
 * tool schemas has about 2 000 values and no list longer than 50 (test/security/json-budgets.test.ts
 * measures one): the node budget is 50 times that, and at most a few MiB once parsed.
 */
export const JSON_BUDGETS: JsonBudgets = { depth: 64, nodes: 100_000, width: 10_000 };

export interface JsonRefusal {
  budget: keyof JsonBudgets;
  /** Where the budget was passed, as `messages[3].content` (`(body)` for the body itself or the node budget). */
  field: string;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_LIST = 91;
const CLOSE_LIST = 93;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;

/** Index of the quote that closes the string opening at `start`; -1 if it never closes. */
function closingQuote(text: string, start: number): number {
  let end = start;
  for (;;) {
    end = text.indexOf('"', end + 1);
    if (end < 0) return -1;
    // Escaped when preceded by an odd number of backslashes. Each run of backslashes is
    // counted once, by the quote right after it, so the pass stays linear.
    let k = end - 1;
    while (k > start && text.charCodeAt(k) === BACKSLASH) k--;
    if ((end - 1 - k) % 2 === 0) return end;
  }
}

/**
 * The first budget `text` passes, or null when it keeps to all of them (or is not JSON:
 * JSON.parse then says why). Keeps four numbers per open level, whatever the size of the text.
 */
export function jsonOverBudget(text: string, budgets: JsonBudgets = JSON_BUDGETS): JsonRefusal | null {
  // Per open level (1 = the body itself): a list or an object, its entries so far, and
  // for an object where its current key starts and ends, so a refusal can say where.
  // Plain arrays that grow with the depth reached (at most budgets.depth + 1 long).
  const isList: boolean[] = [false];
  const entries: number[] = [0];
  const keyStart: number[] = [0];
  const keyEnd: number[] = [0];
  let depth = 0;
  let nodes = 0;
  let expectKey = false;
  const where = (levels: number) => fieldAt(text, levels, isList, entries, keyStart, keyEnd);

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9 || c === COLON) continue;
    if (c === CLOSE_LIST || c === CLOSE_OBJECT) {
      if (depth > 0) depth--;
      expectKey = false;
      continue;
    }
    if (c === COMMA) {
      if (depth === 0) continue;
      const n = (entries[depth] ?? 0) + 1;
      entries[depth] = n;
      if (++nodes > budgets.nodes) return { budget: 'nodes', field: '(body)' };
      if (n > budgets.width) return { budget: 'width', field: where(depth - 1) };
      expectKey = !isList[depth];
      continue;
    }
    // A value or key starts here (or a number or literal goes on); the first at its
    // level is its container's first entry, the others were counted at their comma.
    if (entries[depth] === 0) {
      entries[depth] = 1;
      if (++nodes > budgets.nodes) return { budget: 'nodes', field: '(body)' };
      if (depth > 0 && budgets.width < 1) return { budget: 'width', field: where(depth - 1) };
    }
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (end < 0) return null;
      if (expectKey) {
        keyStart[depth] = i;
        keyEnd[depth] = end;
      }
      expectKey = false;
      i = end;
      continue;
    }
    expectKey = false;
    if (c === OPEN_LIST || c === OPEN_OBJECT) {
      if (depth === budgets.depth) return { budget: 'depth', field: where(depth) };
      depth++;
      isList[depth] = c === OPEN_LIST;
      entries[depth] = 0;
      keyStart[depth] = -1;
      expectKey = c === OPEN_OBJECT;
    }
  }
  return null;
}

/** The path to the entry being read at `levels`, built only for a refusal. */
function fieldAt(
  text: string,
  levels: number,
  isList: boolean[],
  entries: number[],
  keyStart: number[],
  keyEnd: number[],
): string {
  let out = '';
  for (let level = 1; level <= levels; level++) {
    if (isList[level]) {
      out += `[${Math.max(0, (entries[level] ?? 0) - 1)}]`;
      continue;
    }
    const start = keyStart[level] ?? -1;
    const end = keyEnd[level] ?? -1;
    if (start < 0 || end < 0) {
      out += out ? '.?' : '?';
      continue;
    }
    const raw = text.slice(start, end + 1);
    let key: string;
    try {
      key = String(JSON.parse(raw));
    } catch {
      key = raw.slice(1, -1);
    }
    if (key.length > 100) key = `${key.slice(0, 100)}…`;
    out += out ? `.${key}` : key;
  }
  return out || '(body)';
}
