// What relaying a streamed answer costs per event, against a transform that parses every
// event once (a Readable fed the same way): the tap passes bytes through and reads only what the Monitor needs, so it
// must cost well under such a parse. Two shapes of network read: one event each (a model
// server pacing its tokens) and a hundred (an answer sent at once, or a busy relay reading
// late). The tap was 2.2 times one parse per event with one event a read (a decode, a regex
// split into lines and a JSON.parse of every event, each pushed as its own string), and
// with a hundred a read it searched each event for each key (0.64 µs an event; now 0.25,
// one parse 1.7). CPU time, all measured side by side in this process, the least ratio of
// three rounds: a ratio, not a time limit, loose enough for a loaded machine.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SseTap } from '../../src/upstream/sse.js';

const EVENTS = 30_000;
const event = (i: number) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3-vl","choices":[{"index":0,"delta":{"content":"词${i} token"},"finish_reason":null}],"usage":null}\n\n`;

/** 50 different reads of `perRead` events each. */
const readsOf = (perRead: number) =>
  Array.from({ length: 50 }, (_, r) =>
    Buffer.from(Array.from({ length: perRead }, (_, i) => event(r * perRead + i)).join('')),
  );

/** A Readable fed one network read at a time, as the tap is. */
type Fed = Readable & { feed(chunk: Buffer): void; finish(): void };

async function cpuPerEvent(make: () => Fed, reads: Buffer[], perRead: number): Promise<number> {
  const t = make();
  t.on('data', () => {});
  const ended = new Promise((r) => t.on('end', r));
  t.feed(Buffer.from(event(-1))); // the first token: the tap reads every event until it has it
  const start = process.cpuUsage();
  for (let i = 0; i < EVENTS / perRead; i++) t.feed(reads[i % reads.length]!);
  const used = process.cpuUsage(start);
  t.finish();
  await ended;
  return (used.user + used.system) / EVENTS;
}

/** Every event decoded and parsed once: what a relay that reads everything pays at least. */
class ParseEach extends Readable implements Fed {
  override _read(): void {}
  feed(chunk: Buffer): void {
    for (const e of chunk.toString('utf8').split('\n\n')) if (e) JSON.parse(e.slice(6));
    this.push(chunk);
  }
  finish(): void {
    this.push(null);
  }
}
const parseEach = () => new ParseEach();

describe('relaying a stream', () => {
  for (const [perRead, limit] of [
    [1, 0.9],
    [100, 0.3],
  ] as const) {
    it(`costs under ${limit} of one parse per event, ${perRead} event(s) a network read`, async () => {
      const reads = readsOf(perRead);
      const ratios: number[] = [];
      for (let round = 0; round < 3; round++) {
        const reference = await cpuPerEvent(parseEach, reads, perRead);
        const tap = await cpuPerEvent(() => new SseTap({ dropUsageChunk: true }), reads, perRead);
        ratios.push(tap / reference);
      }
      expect(Math.min(...ratios)).toBeLessThan(limit);
    }, 60_000);
  }
});
