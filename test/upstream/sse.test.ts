// The SSE pass-through on its own: bytes out exactly as they came in, events found
// whatever the line ends (LF, CRLF, a lone CR) and however the network splits them.
import { describe, expect, it } from 'vitest';
import { SseTap } from '../../src/upstream/sse.js';

const chunk = (content: string) => JSON.stringify({ choices: [{ index: 0, delta: { content } }] });
const stream = (eol: string) =>
  [
    `data: ${chunk('')}`,
    `: keep-alive comment`,
    `data: ${chunk('你好')}`,
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } })}`,
    'data: [DONE]',
  ]
    .map((e) => `${e}${eol}${eol}`)
    .join('');

/** Runs a stream through a tap in pieces of `size` bytes. */
async function relay(text: string, size: number, dropUsageChunk = false) {
  const seen = { first: 0, usage: [] as unknown[] };
  const tap = new SseTap({ dropUsageChunk, onFirstToken: () => seen.first++, onUsage: (u) => seen.usage.push(u) });
  const out: Buffer[] = [];
  tap.on('data', (c: Buffer | string) => out.push(Buffer.from(c)));
  const done = new Promise((r) => tap.on('end', r));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) tap.write(bytes.subarray(i, i + size));
  tap.end();
  await done;
  return { out: Buffer.concat(out).toString(), ...seen, complete: tap.complete, failure: tap.failure };
}

describe('SseTap', () => {
  for (const [name, eol] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ] as const) {
    it(`relays ${name} streams byte for byte and reads first token and usage, split anywhere`, async () => {
      const text = stream(eol);
      for (const size of [1, 2, 3, 7, 64, text.length]) {
        const r = await relay(text, size);
        expect(r.out).toBe(text);
        expect(r.first).toBe(1);
        expect(r.usage).toEqual([{ promptTokens: 12, completionTokens: 3 }]);
        expect(r.complete).toBe(true);
        expect(r.failure).toBeNull();
      }
    });
  }

  it('drops the usage chunk the client did not ask for, and only that', async () => {
    const r = await relay(stream('\r\n'), 5, true);
    expect(r.out).not.toContain('"usage"');
    expect(r.out).toContain('你好');
    expect(r.out.endsWith('data: [DONE]\r\n\r\n')).toBe(true);
  });

  it('ends a stream that stops without [DONE] or a finish_reason with an error event', async () => {
    const r = await relay(`data: ${chunk('half')}\n\n`, 4);
    expect(r.complete).toBe(false);
    expect(r.failure?.code).toBe('UPSTREAM_STREAM_CUT');
    expect(r.out.split('\n\n').filter(Boolean).at(-1)).toMatch(
      /^data: \{"error":\{"message":"The model server ended the stream/,
    );
  });
});
