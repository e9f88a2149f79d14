// zod at the edge: one helper turns a failed parse into the API's 400 naming the field.
// A field's generic checks (required, a whole number, at least 1) are worded from codes
// (src/reasons.ts), in place of zod's own "Invalid input: expected int, received number",
// so a form says them at the field in its language; a schema's own message is kept.
import { z, type ZodError } from 'zod';
import { AppError } from './errors.js';
import { type ReasonPart, wordReason } from './reasons.js';

/** A key as an error names it: a client's 40 MiB key is not sent back to it whole. */
export function keyText(key: PropertyKey, max = 64): string {
  const s = String(key);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

/** `messages.0.content.1.type` → `messages[0].content[1].type` */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${keyText(p)}` : keyText(p);
  return out || '(body)';
}

interface Found {
  path: PropertyKey[];
  message: string;
  issue: z.core.$ZodIssue;
}

/**
 * For a union ("a string or a list of parts"), the branch that got furthest names the
 * real mistake: `messages[0].content[0].image_url.url`, not `messages[0].content`.
 */
function deepest(issue: z.core.$ZodIssue, prefix: PropertyKey[]): Found {
  const here = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { path: here, message: issue.message, issue };
  let best: Found | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first) continue;
    const found = deepest(first, here);
    if (!best || found.path.length > best.path.length) best = found;
  }
  return best && best.path.length > here.length ? best : { path: here, message: issue.message, issue };
}

const MISSING = Symbol('missing');

/**
 * What a value is, as "got …" says it: JSON's names, in any language. NaN is what a coerced
 * number makes of a text that is none (`?limit=abc`; JSON carries no NaN): the client sent a
 * string, not the number "got number" would say.
 */
const kindOf = (v: unknown) =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isNaN(v) ? 'string' : typeof v;

/**
 * A generic check's reason as a code, from the issue and the value sent (MISSING: none);
 * undefined for what only the schema can say in words.
 */
export function genericReason(issue: z.core.$ZodRawIssue | z.core.$ZodIssue, sent: unknown): ReasonPart | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (sent === MISSING || sent === undefined) return { code: 'FIELD_REQUIRED' };
      if (issue.expected === 'int') return { code: 'FIELD_WHOLE_NUMBER' };
      return { code: 'FIELD_EXPECTED', params: { expected: issue.expected, got: kindOf(sent) } };
    case 'too_small':
      if (issue.origin === 'number' || issue.origin === 'int')
        return { code: 'FIELD_AT_LEAST', params: { min: Number(issue.minimum) } };
      if (issue.origin === 'array' || issue.origin === 'set')
        return { code: 'FIELD_AT_LEAST_ITEMS', params: { min: Number(issue.minimum) } };
      // A text that must not be empty ("required" only for what was not sent at all).
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return { code: 'FIELD_EMPTY' };
      return undefined;
    case 'too_big':
      if (issue.origin === 'number' || issue.origin === 'int')
        return { code: 'FIELD_AT_MOST', params: { max: Number(issue.maximum) } };
      if (issue.origin === 'array' || issue.origin === 'set')
        return { code: 'FIELD_AT_MOST_ITEMS', params: { max: Number(issue.maximum) } };
      if (issue.origin === 'string')
        return { code: 'FIELD_AT_MOST_CHARACTERS', params: { max: Number(issue.maximum) } };
      return undefined;
    case 'invalid_value':
      return issue.values.length > 1 && issue.values.length <= 12
        ? { code: 'FIELD_ONE_OF', params: { options: issue.values.map(String).join(', ') } }
        : undefined;
    default:
      return undefined;
  }
}

// Every schema without a message of its own words its generic checks this way (a schema's
// message, `z.string({ message })`, still comes first: zod asks the global map last).
z.config({
  customError: (issue) => {
    const reason = genericReason(issue, issue.input);
    return reason && wordReason([reason]);
  },
});

/** The value at `path` in what was sent, or MISSING where there is none. */
function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return MISSING;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v === undefined ? MISSING : v;
}

const UNITS: Record<string, string> = { string: 'characters', array: 'items', set: 'items', file: 'bytes' };

/**
 * In zod 4 a message given to the schema (`z.string({ message: 'required: the image' })`)
 * replaces the message of every issue, so an over-long or wrongly typed value would read
 * "required". Such a message is kept only for a missing value; otherwise the issue says
 * what was wrong with the value that was sent.
 */
function realReason(issue: z.core.$ZodIssue, message: string, sent: unknown): string {
  if (!message.startsWith('required')) return message;
  const what = message.replace(/^required:?\s*/, '');
  switch (issue.code) {
    case 'invalid_type':
      if (sent === MISSING) return message;
      return issue.expected === 'int'
        ? 'expected a whole number'
        : `expected ${what || issue.expected}, got ${Array.isArray(sent) ? 'an array' : kindOf(sent)}`;
    case 'too_big': {
      const unit = UNITS[issue.origin] ?? '';
      const got = typeof sent === 'string' || Array.isArray(sent) ? ` (got ${sent.length})` : '';
      return `expected at most ${String(issue.maximum)}${unit ? ` ${unit}` : ''}${got}`;
    }
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1)
        return `expected ${what || 'a value'}, got an empty string`;
      return `expected at least ${String(issue.minimum)}${UNITS[issue.origin] ? ` ${UNITS[issue.origin]}` : ''}`;
    default:
      return `not valid: ${issue.code.replace(/_/g, ' ')}`;
  }
}

/**
 * The API's 400 for a failed parse: the first problem, at the deepest field it names.
 * `input` (what was parsed) lets the message tell a missing value from a wrong one.
 */
export function validationError(err: ZodError, input?: unknown): AppError {
  const first = err.issues[0];
  if (!first) return new AppError('VALIDATION_FAILED', '(body): not valid', { field: '(body)' });
  const found = deepest(first, []);
  const keys = found.issue.code === 'unrecognized_keys' ? found.issue.keys : [];
  const key = keys[0];
  if (key !== undefined) {
    // A strict body: name the key itself (a misspelt "webhooks" must not pass unnoticed).
    const field = fieldPath([...found.path, key]);
    // A few of the others by name: 300 000 unknown keys are not all listed back.
    const others = keys.slice(1, 4).map((k) => `"${keyText(k)}"`);
    if (keys.length > 4) others.push(`${keys.length - 4} more`);
    return new AppError(
      'VALIDATION_FAILED',
      `${field}: unknown key${others.length ? ` (also ${others.join(', ')})` : ''}: not a field this takes, misspelt?`,
      { field },
    );
  }
  const field = fieldPath(found.path);
  // A record's key that failed its own schema: say what that schema says (not "Invalid key in record").
  const inner = found.issue.code === 'invalid_key' ? found.issue.issues[0]?.message : undefined;
  const sent = input === undefined ? MISSING : valueAt(input, found.path);
  // The words are the generic check's (not a schema's own): its codes go with them.
  const reason = inner === undefined ? genericReason(found.issue, sent) : undefined;
  const generic = reason !== undefined && wordReason([reason]) === found.message;
  const message = inner ?? (generic ? found.message : realReason(found.issue, found.message, sent));
  const reasonParts = generic ? [reason] : undefined;
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, { field, ...(reasonParts ? { reasonParts } : {}) });
}

/**
 * For `z.coerce.number({ error: numberOnly })`: "expected a number" for what is not one, and
 * the range's own words for one out of range. (A schema's `message` would say "expected a
 * number" for 0 against `.min(1)` too: in zod 4 it covers every check of the schema.)
 */
export const numberOnly = (issue: { code: string }) =>
  issue.code === 'invalid_type' ? 'expected a number' : undefined;
