// stdout's writer when stdout stops draining (a stalled log shipper): a real pipe that is
// not read until the logging is over. What waits stays under the backlog; the lines beyond
// it are counted, whole lines; the others arrive whole and in order once the pipe drains.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StdoutLog } from '../../src/log/stdout.js';
import { endDraining, stalledPipe } from './stalled-pipe.js';

describe('stdout log', () => {
  it('drops and counts the lines beyond its backlog while the pipe does not drain, and writes the rest whole', async () => {
    const pipe = stalledPipe();
    const out = new StdoutLog({ fd: pipe.fd, backlogBytes: 64 * 1024 });
    const log = pino({ base: null, timestamp: false }, out.stream);
    const text = 'x'.repeat(200);
    const lines = 4_000; // ~880 KiB: the pipe's 64 KiB and the backlog's 64 KiB many times over
    for (let i = 0; i < lines; i++) log.info({ i }, text);
    expect(out.dropped).toBeGreaterThan(lines / 2);
    expect(out.dropped).toBeLessThan(lines);

    // The shipper reads again: every line not dropped arrives, whole and in order.
    const parsed = (await endDraining(out, pipe))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; i: number; msg: string });
    expect(parsed).toHaveLength(lines - out.dropped);
    expect(parsed.every((p) => p.level === 30 && p.msg === text)).toBe(true);
    expect(parsed.map((p) => p.i)).toEqual([...parsed.map((p) => p.i)].sort((a, b) => a - b));
    expect(parsed[0]!.i).toBe(0);
  });
});
