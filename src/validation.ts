// zod at the edge: one helper turns a failed parse into the API's 400 naming the field.
import type { z } from 'zod';
import { AppError } from './errors.js';

/** `messages.0.content.1.type` → `messages[0].content[1].type` */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(body)';
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = fieldPath(issue.path);
  throw new AppError('VALIDATION_FAILED', `${field}: ${issue.message}`, { field });
}
