// Each route declares its body, params, query and answers once, as zod schemas in its
// Fastify `schema`: Fastify validates with them (through the compiler below), the handler
// is typed by them (fastify-type-provider-zod's ZodTypeProvider), and the API description
// is built from them (routes/openapi.ts). One fact, three uses.
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import type { FastifyInstance, FastifyBaseLogger, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { validationError } from './validation.js';

/** The Fastify instance routes are declared on: its schemas are zod, its handlers typed by them. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Validation by the route's zod schema, answering the API's own 400 (validation.ts): the
 * deepest field of a union, unknown keys by name, "expected …, got …". The parsed value
 * (defaults filled in, durations read) replaces what was sent.
 */
export const zodValidator: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const r = schema.safeParse(data);
    return r.success ? { value: r.data } : { error: validationError(r.error, data ?? undefined) };
  };

/** What a route's answer is described as, in JSON Schema (OpenAPI 3.0 flavour). */
export function answerJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: 'output',
    unrepresentable: 'any',
    target: 'openapi-3.0',
  }) as Record<string, unknown>;
  return rest;
}

/**
 * Answers are written with JSON.stringify, unchecked: the schema types the handler at compile
 * time and describes the answer, and a check of every answer would cost the request path.
 * With `check` (the test suite sets CHECK_ANSWERS=1) every answer is held to its description
 * as a client generated from it would read it: each field described, no field left out of
 * it (`additionalProperties: false` where the schema says so). An answer that does not match
 * fails loudly, so the whole suite compares the document with what the server sends.
 */
export function answerSerializer(check: boolean): FastifySerializerCompiler<z.ZodType> {
  if (!check) return () => (data) => JSON.stringify(data);
  return ({ schema, method, url, httpStatus }) => {
    let validate: ValidateFunction | undefined;
    return (data) => {
      // Compiled at the route's first answer, once per schema for every app of the process:
      // a test file starts many apps, and most routes never answer in it.
      validate ??= checkerOf(schema);
      // What the client receives: Dates as strings, undefined fields gone.
      const text = JSON.stringify(data);
      if (!validate(JSON.parse(text))) {
        const e = validate.errors?.[0];
        throw new Error(
          `The ${httpStatus} answer of ${method} ${url} is not as described: ${e?.instancePath || '(answer)'} ${e?.message ?? ''} ${JSON.stringify(e?.params ?? {})}`,
        );
      }
      return text;
    };
  };
}

let ajv: Ajv | undefined;
const checkers = new WeakMap<z.ZodType, ValidateFunction>();

function checkerOf(schema: z.ZodType): ValidateFunction {
  let validate = checkers.get(schema);
  if (!validate) {
    ajv ??= new Ajv({ allErrors: false, strict: false, validateFormats: false });
    // Draft 7 for Ajv (OpenAPI 3.0's `exclusiveMinimum: true` is draft 4's); the same schema.
    const { $schema: _drop, ...draft7 } = z.toJSONSchema(schema, {
      io: 'output',
      unrepresentable: 'any',
      target: 'draft-7',
    });
    validate = ajv.compile(draft7);
    checkers.set(schema, validate);
  }
  return validate;
}

/**
 * An answer relayed as the model server wrote it (its text, or its stream, never parsed on
 * the way): the handler sends text or a stream, and the description gives `shape`.
 */
export function relayed(shape: z.ZodType): z.ZodType<string | Readable> {
  return z.custom<string | Readable>().meta(answerJsonSchema(shape));
}
