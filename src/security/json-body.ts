// JSON bodies as every route reads them: JSON.parse, then one iterative walk that refuses
// nesting deeper than MAX_JSON_DEPTH (a body nested 100 000 deep parses, but crashes
// whatever later serialises or recurses into it) and keys that reach for prototypes
// (__proto__, constructor.prototype). Each refusal is the API's 400 naming the field.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { fieldPath } from '../validation.js';

/** OpenAI tool schemas nest about a dozen levels; 64 leaves room and stays far from any stack limit. */
export const MAX_JSON_DEPTH = 64;

export function checkJson(value: unknown): void {
  const stack: Array<{ v: object; depth: number; path: PropertyKey[] }> = [];
  if (value !== null && typeof value === 'object') stack.push({ v: value, depth: 1, path: [] });
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) {
      const field = fieldPath(path);
      throw new AppError('VALIDATION_FAILED', `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`, { field });
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c: unknown = v[i];
        if (c !== null && typeof c === 'object') stack.push({ v: c, depth: depth + 1, path: [...path, i] });
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      const c: unknown = (v as Record<string, unknown>)[key];
      if (
        key === '__proto__' ||
        (key === 'constructor' && c !== null && typeof c === 'object' && Object.hasOwn(c, 'prototype'))
      ) {
        const field = fieldPath([...path, key]);
        throw new AppError(
          'VALIDATION_FAILED',
          `${field}: a key named ${key === '__proto__' ? '__proto__' : 'constructor with a prototype'} is not allowed`,
          { field },
        );
      }
      if (c !== null && typeof c === 'object') stack.push({ v: c, depth: depth + 1, path: [...path, key] });
    }
  }
}

export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    // A byte-order mark is not JSON, but some clients send one (as Fastify's own parser allows).
    const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
    if (text.trim() === '')
      return done(new AppError('BAD_REQUEST', 'The request body is empty; expected a JSON object'), undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(
        new AppError('BAD_REQUEST', `The request body is not valid JSON: ${(err as Error).message}`),
        undefined,
      );
    }
    try {
      checkJson(value);
    } catch (err) {
      return done(err as AppError, undefined);
    }
    done(null, value);
  });
}
