// zod at the edge: one helper turns a failed parse into the API's 400 naming the field.
import type { z, ZodError } from 'zod';
import { AppError } from './errors.js';

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
        : `expected ${what || issue.expected}, got ${Array.isArray(sent) ? 'an array' : sent === null ? 'null' : typeof sent}`;
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
  const message =
    inner ?? realReason(found.issue, found.message, input === undefined ? MISSING : valueAt(input, found.path));
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

/**
 * For `z.coerce.number({ error: numberOnly })`: "expected a number" for what is not one, and
 * the range's own words for one out of range. (A schema's `message` would say "expected a
 * number" for 0 against `.min(1)` too: in zod 4 it covers every check of the schema.)
 */
export const numberOnly = (issue: { code: string }) =>
  issue.code === 'invalid_type' ? 'expected a number' : undefined;
