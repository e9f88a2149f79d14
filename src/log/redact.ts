// What may enter the log: secrets are replaced, images are reduced to their size, long
// text is cut. Applied to every parameter of every line, before pino or the ring.
import { z } from 'zod';

/** A parameter's value as the log keeps it: other values are written as (cut) JSON text. */
export const logValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type LogValue = z.infer<typeof logValueSchema>;
export const logParamsSchema = z.record(z.string(), logValueSchema);
export type LogParams = z.infer<typeof logParamsSchema>;

// Names of secrets, whole or as a suffix (monitorToken, UPSTREAM_API_KEY); not words that
// merely contain "token" (completionTokens).
const SECRET_KEY =
  /^(authorization|cookie|set-cookie|token|password|passwd|secret|bearer)$|(secret|password|api[_-]?key|_token|[a-z]Token|access[_-]?token|auth[_-]?token)$/i;
const DATA_URL = /^data:[^;,]+;base64,/i;
// Bare base64 (an image sent without a data: prefix); text with spaces never matches.
const LONG_BASE64 = /^[A-Za-z0-9+/=\r\n]{256,}$/;
export const MAX_TEXT = 512;

export function redactValue(key: string, value: unknown): LogValue {
  if (SECRET_KEY.test(key)) return '[redacted]';
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  let text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (DATA_URL.test(text) || LONG_BASE64.test(text)) return `[image omitted, ${text.length} chars]`;
  // Bearer tokens and keys can hide inside free text (an upstream error echoing a header).
  text = text.replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/g, 'Bearer [redacted]');
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…(${text.length} chars)` : text;
}

export function redactParams(params: Record<string, unknown>): LogParams {
  const out: LogParams = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = redactValue(k, v);
  return out;
}
