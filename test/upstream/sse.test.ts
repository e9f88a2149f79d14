// The SSE pass-through on its own: bytes out exactly as they came in, events found
// whatever the line ends (LF, CRLF, a lone CR) and however the network splits them; an
// event that never ends is not held past MAX_SSE_EVENT_BYTES.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { MAX_SSE_EVENT_BYTES, SseTap } from '../../src/upstream/sse.js';

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
  for (let i = 0; i < bytes.length; i += size) tap.feed(bytes.subarray(i, i + size));
  tap.finish();
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

  it('drops the usage chunk from a read of the whole answer in one write, touching no byte outside that read', async () => {
    const text = stream('\n');
    // undici hands on a view of the socket's read: bytes of the HTTP framing lie on both sides.
    const head = `${Buffer.byteLength(text).toString(16)}\r\n`;
    const socketRead = Buffer.from(`${head}${text}\r\n0\r\n\r\n`);
    const before = Buffer.from(socketRead);
    const at = head.length;
    const view = socketRead.subarray(at, at + Buffer.byteLength(text));
    const tap = new SseTap({ dropUsageChunk: true });
    const writes: string[] = [];
    tap.on('data', (c: Buffer) => writes.push(c.toString()));
    tap.feed(view);
    tap.finish();
    await once(tap, 'end');
    expect(writes).toEqual([text.replace(/data: \{"choices":\[\],"usage"[^\n]*\n\n/, '')]);
    expect(writes[0]).toContain('你好');
    expect(socketRead.subarray(0, at)).toEqual(before.subarray(0, at));
    expect(socketRead.subarray(at + view.length)).toEqual(before.subarray(at + view.length));
  });

  it('ends a stream that stops without [DONE] or a finish_reason with an error event', async () => {
    const r = await relay(`data: ${chunk('half')}\n\n`, 4);
    expect(r.complete).toBe(false);
    expect(r.failure?.code).toBe('UPSTREAM_STREAM_CUT');
    expect(r.out.split('\n\n').filter(Boolean).at(-1)).toMatch(
      /^data: \{"error":\{"message":"The model server ended the stream/,
    );
  });

  it('takes an answer for complete when its last finish_reason says so, or at [DONE]', async () => {
    const token = (index: number, content: string, finish: string | null = null) =>
      `data: ${JSON.stringify({ choices: [{ index, delta: { content }, finish_reason: finish }] })}\n\n`;
    const tokens = Array.from({ length: 100 }, (_, i) => token(0, ` t${i}`)).join('');
    // Two choices (n = 2): the first finishes, the second is still being written when the
    // model server stops. Before, any finish_reason in a read counted, and this cut answer
    // passed for complete.
    const cut = `${token(0, 'a')}${token(1, 'b')}${token(0, '', 'stop')}${token(1, ' c')}`;
    const whole = `${cut}${token(1, '', 'length')}`;
    for (const size of [7, 64, 4096]) {
      expect((await relay(tokens, size)).complete).toBe(false);
      expect((await relay(`${tokens}${token(0, '', 'stop')}`, size)).complete).toBe(true);
      expect((await relay(`${tokens}data: [DONE]\n\n`, size)).complete).toBe(true);
      const r = await relay(cut, size);
      expect(r.complete).toBe(false);
      expect(r.failure?.code).toBe('UPSTREAM_STREAM_CUT');
      expect((await relay(whole, size)).complete).toBe(true);
      // An empty finish_reason is none, and a key only mentioned in the text is no key.
      expect((await relay(`${tokens}${token(0, '', '')}`, size)).complete).toBe(false);
      expect((await relay(`${tokens}${token(0, '"finish_reason":"stop"')}`, size)).complete).toBe(false);
    }
  });

  it('relays any stream split anywhere, mixed line ends and all, byte for byte and event for event', async () => {
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    // Now and then a blank line more between events (nothing in SSE, and "\n\n\n" has two
    // blank-line pairs in it: the relay must not lose or move a byte over which one ends the event).
    const event = fc
      .tuple(
        fc.string({ unit: fc.constantFrom('a', ' ', '你', ':', '\n', '\r'), maxLength: 12 }),
        eol,
        eol,
        fc.constantFrom('', '', '\n', '\r\n'),
      )
      .map(([body, a, b, extra]) => `data: ${chunk(body)}${a}${b}${extra}`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 40 }),
        async (events, size) => {
          const text = `${events.join('')}data: [DONE]\n\n`;
          const whole = await relay(text, text.length);
          const split = await relay(text, size);
          expect(split.out.startsWith(text)).toBe(true);
          expect(split).toEqual(whole);
        },
      ),
    );
  });
});

describe('the first token', () => {
  const ev = (delta: unknown, extra = {}) =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta, ...extra }] })}\n\n`;
  /** Which event (by index) the tap took for the first token, each event fed on its own; -1 if none. */
  function firstTokenAt(events: string[]): number {
    let at = -1;
    let i = 0;
    const tap = new SseTap({
      dropUsageChunk: false,
      onFirstToken: () => {
        if (at < 0) at = i;
      },
    });
    tap.resume();
    for (; i < events.length; i++) tap.feed(events[i] as string);
    tap.finish();
    return at;
  }
  const before = [
    ev({ role: 'assistant', content: '' }),
    ev({ content: null, reasoning: '' }),
    ev({ tool_calls: [] }),
    ev({ content: '' }, { logprobs: { content: [{ token: 'x', logprob: -0.1 }] } }),
    ': keep-alive\n\n',
  ];

  for (const [name, delta] of [
    ['content', { content: 'Hi' }],
    ["vLLM's reasoning (since 2026)", { reasoning: 'Let me look' }],
    ['reasoning_content (DeepSeek, older vLLM, SGLang)', { reasoning_content: 'Let me look' }],
    ['a tool call', { tool_calls: [{ index: 0, id: 'c1', function: { name: 'click', arguments: '' } }] }],
    ['content with spaces around the colon', { content: 'Hi' }],
  ] as const) {
    it(`is the first event with ${name}, not an earlier empty one`, () => {
      const token = name.includes('spaces') ? ev(delta).replace('"content":', '"content" :  ') : ev(delta);
      expect(firstTokenAt([...before, token, ev({ content: 'later' })])).toBe(before.length);
    });
  }

  it('is not an event that only mentions a key inside its text', () => {
    expect(firstTokenAt([ev({ content: '' }, { note: 'the \\"content\\":\\"x\\" key' }), 'data: [DONE]\n\n'])).toBe(-1);
  });
});

describe('an event that never ends', () => {
  const endless = (bytes: number) => Buffer.from(`data: ${'x'.repeat(bytes)}`);

  it(`is refused past ${MAX_SSE_EVENT_BYTES} bytes: the stream ends with an error event`, async () => {
    const r = await relay(endless(3 * MAX_SSE_EVENT_BYTES).toString(), 64 * 1024);
    expect(r.failure?.code).toBe('UPSTREAM_BAD_ANSWER');
    expect(r.out).not.toContain('xxx');
    expect(JSON.parse(r.out.trim().slice('data: '.length)).error).toMatchObject({
      code: 'UPSTREAM_BAD_ANSWER',
      type: 'upstream_error',
      message: expect.stringContaining(`more than ${MAX_SSE_EVENT_BYTES} bytes`),
    });
  });

  it('passes an event just under the limit whole', async () => {
    const big = `data: ${chunk('y'.repeat(MAX_SSE_EVENT_BYTES - 100))}\n\ndata: [DONE]\n\n`;
    const r = await relay(big, 64 * 1024);
    expect(r.failure).toBeNull();
    expect(r.out).toBe(big);
  });

  it('fails the body it reads, as any broken stream is failed, and stops reading it', async () => {
    let pulled = 0;
    const body = new Readable({
      read() {
        pulled++;
        this.push(pulled === 1 ? 'data: ' : 'x'.repeat(64 * 1024));
      },
    });
    const tap = new SseTap({ dropUsageChunk: false });
    tap.resume();
    tap.readFrom(body);
    const [err] = await once(body, 'error');
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'UPSTREAM_BAD_ANSWER', statusCode: 502 });
    expect(body.destroyed).toBe(true);
    // A little over the limit was read, not the endless rest.
    expect(pulled * 64 * 1024).toBeLessThan(MAX_SSE_EVENT_BYTES + 4 * 64 * 1024);
  });
});

describe("reading the model server's body", () => {
  const event = (i: number) => `data: ${chunk(`token ${i} `)}\n\n`;

  it('passes on what one network read brought in one write, however many events it holds', async () => {
    const body = new Readable({ read() {} });
    const tap = new SseTap({ dropUsageChunk: false });
    const writes: string[] = [];
    tap.on('data', (c: Buffer) => writes.push(c.toString()));
    tap.readFrom(body);
    const events = Array.from({ length: 100 }, (_, i) => event(i));
    // undici pushes one piece per HTTP chunk: a model server's 100 events sent together.
    for (const e of events) body.push(e);
    await new Promise(setImmediate);
    expect(writes).toEqual([events.join('')]);
    body.push('data: [DONE]\n\n');
    body.push(null);
    await once(tap, 'end');
    expect(writes.join('')).toBe(`${events.join('')}data: [DONE]\n\n`);
    expect(tap.complete).toBe(true);
  });

  it('stops reading while the client does not, then relays every byte in order', async () => {
    const body = new Readable({ read() {} });
    const tap = new SseTap({ dropUsageChunk: false });
    tap.readFrom(body);
    const sent: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      sent.push(event(i));
      body.push(sent[i]);
      if (i % 500 === 0) await new Promise(setImmediate);
    }
    body.push('data: [DONE]\n\n');
    body.push(null);
    await new Promise(setImmediate);
    // Nobody reads the tap: it holds its buffers' worth, the rest waits in the body.
    expect(body.readableLength).toBeGreaterThan(sent.join('').length - 256 * 1024);
    const out: Buffer[] = [];
    tap.on('data', (c: Buffer) => out.push(c));
    await once(tap, 'end');
    expect(Buffer.concat(out).toString()).toBe(`${sent.join('')}data: [DONE]\n\n`);
  });
});
