// zod at the edge: one helper turns a failed parse into the API's 400 naming the field.
import type { z, ZodError } from 'zod';
import { AppError } from './errors.js';

/** `messages.0.content.1.type` → `messages[0].content[1].type` */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(body)';
}

interface Found {
  path: PropertyKey[];
  message: string;
}

/**
 * For a union ("a string or a list of parts"), the branch that got furthest names the
 * real mistake: `messages[0].content[0].image_url.url`, not `messages[0].content`.
 */
function deepest(issue: z.core.$ZodIssue, prefix: PropertyKey[]): Found {
  const here = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { path: here, message: issue.message };
  let best: Found | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first) continue;
    const found = deepest(first, here);
    if (!best || found.path.length > best.path.length) best = found;
  }
  return best && best.path.length > here.length ? best : { path: here, message: issue.message };
}

/** The API's 400 for a failed parse: the first problem, at the deepest field it names. */
export function validationError(err: ZodError): AppError {
  const found = deepest(err.issues[0]!, []);
  const field = fieldPath(found.path);
  return new AppError('VALIDATION_FAILED', `${field}: ${found.message}`, { field });
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw validationError(r.error);
}
