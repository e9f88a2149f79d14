// What relaying a streamed answer costs per event, against a transform that parses every
// event once: the tap passes bytes through and reads only what the Monitor needs, so it
// must cost no more than such a parse (it was 2.2 times one: a decode, a regex split into
// lines and a JSON.parse of every event, each event pushed as its own string). CPU time,
// both measured side by side in this process, the least ratio of three rounds: a ratio,
// not a time limit, loose enough for a loaded machine.
import { type PassThrough, Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SseTap } from '../../src/upstream/sse.js';

const EVENTS = 30_000;
const events = Array.from({ length: 500 }, (_, i) =>
  Buffer.from(
    `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3-vl","choices":[{"index":0,"delta":{"content":"词${i} token"},"finish_reason":null}],"usage":null}\n\n`,
  ),
);

async function cpuPerEvent(make: () => Transform | PassThrough): Promise<number> {
  const t = make();
  t.on('data', () => {});
  const ended = new Promise((r) => t.on('end', r));
  const start = process.cpuUsage();
  for (let i = 0; i < EVENTS; i++) t.write(events[i % events.length]!);
  t.end();
  await ended;
  const used = process.cpuUsage(start);
  return (used.user + used.system) / EVENTS;
}

/** Every event decoded and parsed once: what a relay that reads everything pays at least. */
const parseEach = () =>
  new Transform({
    transform(chunk: Buffer, _enc, done) {
      JSON.parse(chunk.toString('utf8').slice(6));
      done(null, chunk);
    },
  });

describe('relaying a stream', () => {
  it('costs no more CPU per event than parsing each event once', async () => {
    const ratios: number[] = [];
    for (let round = 0; round < 3; round++) {
      const reference = await cpuPerEvent(parseEach);
      const tap = await cpuPerEvent(() => new SseTap({ dropUsageChunk: true }));
      ratios.push(tap / reference);
    }
    expect(Math.min(...ratios)).toBeLessThan(1.5);
  }, 60_000);
});
