// The JSON budgets (src/security/json-budget.ts): the pre-scan counts exactly what
// JSON.parse would build (checked against a walk of the parsed value for any JSON,
// escapes and all), in linear time, and a real chat body with many images and tool
// schemas stays far inside them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JSON_BUDGETS, jsonOverBudget, type JsonBudgets } from '../../src/security/json-budget.js';
import { checkJson } from '../../src/security/json-body.js';

/** Depth, values and widest list or object of a parsed value: what the scan must agree with. */
function measure(value: unknown): JsonBudgets {
  let depth = 0;
  let nodes = 0;
  let width = 0;
  const walk = (v: unknown, d: number) => {
    nodes++;
    if (v === null || typeof v !== 'object') return;
    depth = Math.max(depth, d);
    const children = Array.isArray(v) ? v : Object.values(v);
    width = Math.max(width, children.length);
    for (const c of children) walk(c, d + 1);
  };
  walk(value, 1);
  return { depth, nodes, width };
}

const UNLIMITED: JsonBudgets = { depth: 1e9, nodes: 1e9, width: 1e9 };

describe('the JSON pre-scan', () => {
  it('counts what JSON.parse builds, for any JSON (strings with quotes, backslashes and unicode included)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        const m = measure(JSON.parse(text));
        expect(jsonOverBudget(text, m)).toBeNull();
        if (m.depth > 0) expect(jsonOverBudget(text, { ...UNLIMITED, depth: m.depth - 1 })?.budget).toBe('depth');
        expect(jsonOverBudget(text, { ...UNLIMITED, nodes: m.nodes - 1 })?.budget).toBe('nodes');
        if (m.width > 0) expect(jsonOverBudget(text, { ...UNLIMITED, width: m.width - 1 })?.budget).toBe('width');
      }),
      { numRuns: 2_000 },
    );
  });

  it('names where a budget was passed', () => {
    const wide = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: Array(12).fill('x') }] });
    expect(jsonOverBudget(wide, { ...UNLIMITED, width: 10 })).toEqual({
      budget: 'width',
      field: 'messages[0].content',
    });
    const deep = `{"a\\"b":[{"c":${'['.repeat(10)}${']'.repeat(10)}}]}`;
    expect(jsonOverBudget(deep, { ...UNLIMITED, depth: 6 })).toEqual({
      budget: 'depth',
      field: 'a"b[0].c[0][0][0]',
    });
    expect(jsonOverBudget('[{},{},{}]', { ...UNLIMITED, nodes: 3 })).toEqual({ budget: 'nodes', field: '(body)' });
    // Not JSON: left for JSON.parse to explain.
    expect(jsonOverBudget('{"never closed', JSON_BUDGETS)).toBeNull();
  });

  it('takes linear time, also on strings of backslashes and quotes (a ratio across sizes)', () => {
    const bodies = {
      '[{},{},…]': (n: number) => `[${'{},'.repeat(n)}{}]`,
      'escaped quotes': (n: number) => `["${'\\\\\\"'.repeat(n)}"]`,
      backslashes: (n: number) => `["${'\\\\'.repeat(n)}"]`,
      'many strings': (n: number) => `[${'"a\\"",'.repeat(n)}""]`,
    };
    const time = (text: string) => {
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        jsonOverBudget(text, UNLIMITED);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    for (const [name, make] of Object.entries(bodies)) {
      const small = make(20_000);
      const large = make(320_000);
      time(large); // warm up the optimiser
      // 16 times the input: linear is about 16 times the time, quadratic 256.
      expect(time(large) / time(small), name).toBeLessThan(60);
    }
  });

  it('lets a 50-message chat with 20 images and 8 tool schemas through with room to spare', () => {
    const tool = (i: number) => ({
      type: 'function',
      function: {
        name: `tool_${i}`,
        description: 'Looks something up for the user and returns it as structured data.',
        parameters: {
          type: 'object',
          properties: {
            query: { type: 'string', description: 'what to look for' },
            limit: { type: 'integer', minimum: 1, maximum: 100 },
            filters: {
              type: 'object',
              properties: {
                kind: { type: 'string', enum: ['a', 'b', 'c', 'd', 'e', 'f'] },
                since: { type: 'string', format: 'date-time' },
                tags: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          required: ['query'],
        },
      },
    });
    const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(200_000)}` } };
    const messages = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? { role: 'user', content: [{ type: 'text', text: `question ${i}` }, ...(i < 40 ? [image] : [])] }
        : {
            role: 'assistant',
            content: `answer ${i}`,
            tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'tool_1', arguments: '{"query":"x"}' } }],
          },
    );
    const body = JSON.stringify({ model: 'qwen3-vl', messages, tools: Array.from({ length: 8 }, (_, i) => tool(i)) });
    const m = measure(JSON.parse(body));
    expect(jsonOverBudget(body)).toBeNull();
    // A few thousand values: the budget is far above it.
    expect(m.nodes).toBeLessThan(JSON_BUDGETS.nodes / 20);
    expect(m.width).toBeLessThan(JSON_BUDGETS.width / 100);
    expect(m.depth).toBeLessThan(JSON_BUDGETS.depth / 4);
  });
});

describe('checkJson', () => {
  it('keeps one frame per level: a million-entry list is walked without a copy per entry', () => {
    const value = JSON.parse(`[${'{},'.repeat(1_000_000)}{"__proto__":1}]`);
    expect(() => checkJson(value)).toThrow('[1000000].__proto__: a key named __proto__ is not allowed');
    const deep = JSON.parse(`{"a":${'['.repeat(70)}${']'.repeat(70)}}`);
    expect(() => checkJson(deep)).toThrow(/^a(\[0\]){63}: nested deeper than 64 levels$/);
  });
});
