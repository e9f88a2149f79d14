// Every error the HTTP API returns has a stable code, declared here, and one JSON shape:
// { "error": { "code", "message", "field"?, "type", "param", "reasonParts"? } }. Tests and clients match on
// the code; `type` and `param` are OpenAI's names for the kind of error and the field, so
// OpenAI SDKs raise the right exception and show the right parameter.
import { z } from 'zod';
import { reasonPartsSchema } from './reason-schema.js';
import type { ReasonPart } from './reasons.js';

export const ErrorCodes = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  /** A rule names a channel that is not set up (Settings → Channels): the field says which. */
  CHANNEL_NOT_SET_UP: 400,
  UNAUTHORIZED: 401,
  HOST_NOT_ALLOWED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** A configured maximum (ALERT_RULES_MAX, …) is reached. */
  LIMIT_REACHED: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The client's image is not an image, or is truncated or corrupt. */
  IMAGE_UNREADABLE: 400,
  /** The client's image is over a byte or pixel limit (the message names the setting). */
  IMAGE_TOO_LARGE: 413,
  /** An image in a format the model cannot be given (SVG): the message says what to send. */
  IMAGE_FORMAT_UNSUPPORTED: 415,
  /** An image or video URL the client sent could not be fetched. */
  IMAGE_FETCH_FAILED: 400,
  /** A URL that resolves to a loopback, private, link-local or metadata address. */
  URL_NOT_ALLOWED: 400,
  /** The request is longer than the model's context window (the model server said so). */
  CONTEXT_TOO_LONG: 400,
  /** nginx's "client closed request": the client went away before its answer was complete. */
  TOO_MANY_REQUESTS: 429,
  CLIENT_CLOSED: 499,
  UPSTREAM_NOT_CONFIGURED: 503,
  SHUTTING_DOWN: 503,
  /** A server-wide budget is full (MAX_WEBSOCKETS): try again after Retry-After. */
  SERVER_BUSY: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_BAD_ANSWER: 502,
  UPSTREAM_TIMEOUT: 504,
  /** The model server ran out of GPU memory (CUDA OOM, KV cache exhausted). */
  UPSTREAM_OOM: 503,
  /** The model server ended a streamed answer before it was complete. */
  UPSTREAM_STREAM_CUT: 502,
  UPSTREAM_ERROR: 502, // the real status of the upstream's answer replaces this
  /** A change that could not be written to DATA_DIR (507 when the disk is full): not applied. */
  NOT_SAVED: 500,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: { statusCode?: number; field?: string; reasonParts?: ReasonPart[]; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.statusCode = opts.statusCode ?? ErrorCodes[code];
    this.field = opts.field;
    this.reasonParts = opts.reasonParts;
  }
  readonly field: string | undefined;
  /** Why the field was refused, as codes (src/reasons.ts): what a form words in its language. */
  readonly reasonParts: ReasonPart[] | undefined;

  toJSON(opts: { openAi?: boolean } = {}): ErrorBody {
    const body = errorBody(this.code, this.message, this.statusCode, this.field, opts);
    if (this.reasonParts) body.error.reasonParts = this.reasonParts;
    return body;
  }
}

/** Every error's one shape, on every route: what errorBody writes and /docs/json describes. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe("Ours; on /v1/*, OpenAI's where it has one (context_length_exceeded …)"),
    app_code: z.string().describe('Always ours, whatever code says: VALIDATION_FAILED, UPSTREAM_TIMEOUT …'),
    message: z.string(),
    field: z.string().optional().describe('The field that was refused, e.g. messages[0].content[0].image_url.url'),
    type: z.string().describe("OpenAI's kind of error: invalid_request_error, authentication_error …"),
    param: z.string().nullable().describe('The field again, where OpenAI clients look for it'),
    reasonParts: reasonPartsSchema
      .optional()
      .describe("Why the field was refused, as codes with parameters, where the message is a field's generic check"),
  }),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * OpenAI's `error.code` for ours, given on the OpenAI surface (/v1/*): what its SDKs and
 * the tools built on them match on (a context overflow is `context_length_exceeded`).
 */
export const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  CONTEXT_TOO_LONG: 'context_length_exceeded',
  UNAUTHORIZED: 'invalid_api_key',
  TOO_MANY_REQUESTS: 'rate_limit_exceeded',
};

/** Whether a request is on the OpenAI surface, whose errors speak OpenAI's codes. */
export const onOpenAiSurface = (url: string): boolean => url === '/v1' || url.startsWith('/v1/');

/** OpenAI's error type for a status: what its SDKs map to an exception class. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function errorBody(
  code: string,
  message: string,
  status: number,
  field?: string,
  opts: { openAi?: boolean } = {},
): ErrorBody {
  const type = openAiErrorType(status);
  const shown = (opts.openAi && OPENAI_CODES[code as ErrorCode]) || code;
  return field === undefined
    ? { error: { code: shown, app_code: code, message, type, param: null } }
    : { error: { code: shown, app_code: code, message, field, type, param: field } };
}
