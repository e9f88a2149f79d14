import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { validationError } from '../src/validation.js';

const refusal = (schema: z.ZodType, input: unknown) => {
  const r = schema.safeParse(input);
  if (r.success) throw new Error('expected a refusal');
  const e = validationError(r.error, input);
  return { message: e.message, field: e.field, reasonParts: e.reasonParts };
};

const rule = z.object({
  name: z.string().min(1),
  checks: z.number().int().min(1).max(100),
  channels: z.array(z.string()).min(1),
  op: z.enum(['>', '<']),
  labels: z.record(z.string(), z.string()).optional(),
  for: z.string({ message: 'expected a duration such as 30s' }).optional(),
});
const ok = { name: 'x', checks: 2, channels: ['console'], op: '>' };

describe('a refused field, worded once for the API and the form', () => {
  it("says a generic check in plain words, with its codes (zod's own said 'Invalid input: expected int, received number')", () => {
    expect(refusal(rule, { ...ok, name: undefined })).toEqual({
      message: 'name: required',
      field: 'name',
      reasonParts: [{ code: 'FIELD_REQUIRED' }],
    });
    // Sent, but empty: not "required" (that is for what was not sent).
    expect(refusal(rule, { ...ok, name: '' })).toMatchObject({
      message: 'name: expected a value, got an empty string',
      reasonParts: [{ code: 'FIELD_EMPTY' }],
    });
    expect(refusal(rule, { ...ok, checks: 1.5 })).toMatchObject({
      message: 'checks: expected a whole number',
      reasonParts: [{ code: 'FIELD_WHOLE_NUMBER' }],
    });
    expect(refusal(rule, { ...ok, checks: 0 })).toMatchObject({
      message: 'checks: expected at least 1',
      reasonParts: [{ code: 'FIELD_AT_LEAST', params: { min: 1 } }],
    });
    expect(refusal(rule, { ...ok, checks: 101 }).message).toBe('checks: expected at most 100');
    expect(refusal(rule, { ...ok, channels: [] }).message).toBe('channels: expected at least 1 item(s)');
    expect(refusal(rule, { ...ok, op: '=' }).message).toBe('op: expected one of >, <');
    expect(refusal(rule, { ...ok, checks: '2' })).toMatchObject({
      message: 'checks: expected number, got string',
      reasonParts: [{ code: 'FIELD_EXPECTED', params: { expected: 'number', got: 'string' } }],
    });
    expect(refusal(rule, { ...ok, labels: { gpu: 0 } }).field).toBe('labels.gpu');
    // A query's number that is none (?limit=abc) coerces to NaN: the client sent a string.
    expect(refusal(z.object({ limit: z.coerce.number() }), { limit: 'abc' }).message).toBe(
      'limit: expected number, got string',
    );
  });

  it("keeps a schema's own words, and then sends no codes (the form shows the words)", () => {
    expect(refusal(rule, { ...ok, for: 30 })).toEqual({
      message: 'for: expected a duration such as 30s',
      field: 'for',
      reasonParts: undefined,
    });
  });
});
