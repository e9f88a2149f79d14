// JSON bodies as every route reads them: the text is measured against the JSON budgets
// first (json-budget.ts: depth, values, entries per list), then JSON.parse, then one walk
// that refuses keys reaching for prototypes (__proto__, constructor.prototype) and
// nesting deeper than MAX_JSON_DEPTH. Each refusal is the API's 4xx naming the field.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { fieldPath } from '../validation.js';
import { JSON_BUDGETS, jsonOverBudget, type JsonRefusal } from './json-budget.js';

/** OpenAI tool schemas nest about a dozen levels; 64 leaves room and stays far from any stack limit. */
export const MAX_JSON_DEPTH = JSON_BUDGETS.depth;

const BUDGET_DOCS = 'docs/RELIABILITY.md#budgets-at-the-edge';

const deepError = (field: string) =>
  new AppError('VALIDATION_FAILED', `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`, { field });

export function budgetError(refusal: JsonRefusal): AppError {
  const { budget, field } = refusal;
  if (budget === 'depth') return deepError(field);
  if (budget === 'width')
    return new AppError(
      'BODY_TOO_LARGE',
      `${field}: more than ${JSON_BUDGETS.width} entries in one list or object (the JSON width budget, ${BUDGET_DOCS})`,
      { field },
    );
  return new AppError(
    'BODY_TOO_LARGE',
    `The request body has more than ${JSON_BUDGETS.nodes} JSON values (the JSON node budget, ${BUDGET_DOCS})`,
  );
}

/** One open list or object of the walk: what it is, its keys (objects), the next entry to visit. */
interface Frame {
  node: object;
  keys: string[] | null;
  next: number;
}

const frameOf = (node: object): Frame => ({ node, keys: Array.isArray(node) ? null : Object.keys(node), next: 0 });

/** The path to the entry each open frame is visiting, built only for an error. */
function pathOf(frames: Frame[]): string {
  return fieldPath(frames.map((f) => f.keys?.[f.next - 1] ?? f.next - 1));
}

/**
 * Refuses prototype-reaching keys and nesting past MAX_JSON_DEPTH. Depth-first with one
 * frame per open level, so its memory is bounded by the depth, not by the size of the
 * value (the old walk copied a path array for every node: +489 MiB on `[{},{},…]`).
 */
export function checkJson(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const frames: Frame[] = [frameOf(value)];
  for (let f = frames[0]; f !== undefined; f = frames[frames.length - 1]) {
    let child: unknown;
    if (f.keys) {
      const key = f.keys[f.next];
      if (key === undefined) {
        frames.pop();
        continue;
      }
      f.next++;
      child = (f.node as Record<string, unknown>)[key];
      if (
        key === '__proto__' ||
        (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype'))
      ) {
        const field = pathOf(frames);
        throw new AppError(
          'VALIDATION_FAILED',
          `${field}: a key named ${key === '__proto__' ? '__proto__' : 'constructor with a prototype'} is not allowed`,
          { field },
        );
      }
    } else {
      const list = f.node as unknown[];
      if (f.next >= list.length) {
        frames.pop();
        continue;
      }
      child = list[f.next++];
    }
    if (child !== null && typeof child === 'object') {
      if (frames.length >= MAX_JSON_DEPTH) throw deepError(pathOf(frames));
      frames.push(frameOf(child));
    }
  }
}

/** Whether the text holds nothing but JSON whitespace (checked without copying it). */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return true;
}

/** A byte-order mark is not JSON, but some clients send one (as Fastify's own parser allows). */
const withoutBom = (body: string) => (body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);

/** Parses a JSON body within the budgets; throws the API's 4xx when it is not within them. */
export function parseJsonBody(body: string): unknown {
  const text = withoutBom(body);
  if (isBlank(text)) throw new AppError('BAD_REQUEST', 'The request body is empty; expected a JSON object');
  const refusal = jsonOverBudget(text);
  if (refusal) throw budgetError(refusal);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('BAD_REQUEST', `The request body is not valid JSON: ${(err as Error).message}`);
  }
  checkJson(value);
  return value;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route relays the client's JSON as it was sent: its text is kept as `jsonText`. */
    keepJsonText?: boolean;
  }
  interface FastifyRequest {
    /** The JSON text the body was parsed from, on routes with `keepJsonText`; else null. */
    jsonText: string | null;
  }
}

export function installJsonParser(app: FastifyInstance): void {
  app.decorateRequest('jsonText', null);
  app.removeContentTypeParser('application/json');
  // The route's body limit (security/body-limits.ts) has already bounded the bytes.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    let value: unknown;
    const text = typeof body === 'string' ? body : body.toString('utf8');
    try {
      value = parseJsonBody(text);
    } catch (err) {
      return done(err as AppError, undefined);
    }
    // Only where asked: elsewhere the text would outlive its parse for the whole request.
    // (Without a byte-order mark: the model server's parser may refuse one, as Python's does.)
    if (request.routeOptions.config.keepJsonText) request.jsonText = withoutBom(text);
    done(null, value);
  });
}
