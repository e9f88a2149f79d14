// Request ids drawn from a pool: twelve hex digits each, none repeated across refills.
import { describe, expect, it } from 'vitest';
import { newRequestId } from '../src/request-id.js';

describe('request ids', () => {
  it('are twelve hex digits, all different over many refills of the pool', () => {
    const ids = Array.from({ length: 5_000 }, newRequestId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
