import { describe, expect, it } from 'vitest';
import { withTopLevelKeys } from '../../src/routes/relay-body.js';

describe('withTopLevelKeys (the client JSON, with what the relay adds)', () => {
  const text = '{ "messages": [{"role":"user","content":"caf\\u00e9 }"}],\n  "temperature": 1.0 }\n';
  const parsed = JSON.parse(text) as Record<string, unknown>;

  it('keeps the text byte for byte when nothing is added', () => {
    expect(withTopLevelKeys(text, parsed, {})).toBe(text);
  });

  it('splices new keys before the closing brace, leaving the rest as written', () => {
    const out = withTopLevelKeys(text, parsed, { model: 'm', stream_options: { include_usage: true } });
    expect(out).toBe(
      '{ "messages": [{"role":"user","content":"caf\\u00e9 }"}],\n  "temperature": 1.0 ,"model":"m","stream_options":{"include_usage":true}}',
    );
    expect(JSON.parse(out)).toEqual({ ...parsed, model: 'm', stream_options: { include_usage: true } });
  });

  it('writes the object out again when a key is to change, so that no key is there twice', () => {
    const withOptions = '{"messages":[],"stream_options":{"include_usage":false}}';
    const out = withTopLevelKeys(withOptions, JSON.parse(withOptions), { stream_options: { include_usage: true } });
    expect(out).toBe('{"messages":[],"stream_options":{"include_usage":true}}');
  });

  it('adds to an empty object without a leading comma, and serialises when no text was kept', () => {
    expect(withTopLevelKeys('{ }', {}, { a: 1, b: 'x' })).toBe('{ "a":1,"b":"x"}');
    expect(withTopLevelKeys(null, { a: 1 }, { b: 2 })).toBe('{"a":1,"b":2}');
  });
});
