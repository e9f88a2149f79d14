// stdout's writer when stdout stops draining (a stalled log shipper): a real pipe that is
// not read until the logging is over. What waits stays under the backlog; the lines beyond
// it are counted, whole lines; the others arrive whole and in order once the pipe drains.
import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { StdoutLog } from '../../src/log/stdout.js';

describe('stdout log', () => {
  it('drops and counts the lines beyond its backlog while the pipe does not drain, and writes the rest whole', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'stdout-')), 'pipe');
    execFileSync('mkfifo', [fifo]);
    // Read and write ends in one descriptor (Linux): opening never blocks.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const out = new StdoutLog({ fd, backlogBytes: 64 * 1024 });
    const log = pino({ base: null, timestamp: false }, out.stream);
    const text = 'x'.repeat(200);
    const lines = 4_000; // ~880 KiB: the pipe's 64 KiB and the backlog's 64 KiB many times over
    for (let i = 0; i < lines; i++) log.info({ i }, text);
    expect(out.dropped).toBeGreaterThan(lines / 2);
    expect(out.dropped).toBeLessThan(lines);

    // The shipper reads again: every line not dropped arrives, whole and in order.
    let received = '';
    const buf = Buffer.alloc(1 << 16);
    await vi.waitFor(
      () => {
        for (;;) {
          let n = 0;
          try {
            n = readSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          }
          if (n === 0) break;
          received += buf.subarray(0, n).toString();
        }
        expect(received.split('\n').filter(Boolean)).toHaveLength(lines - out.dropped);
      },
      { timeout: 10_000, interval: 20 },
    );
    const parsed = received
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; i: number; msg: string });
    expect(parsed.every((p) => p.level === 30 && p.msg === text)).toBe(true);
    expect(parsed.map((p) => p.i)).toEqual([...parsed.map((p) => p.i)].sort((a, b) => a - b));
    expect(parsed[0]!.i).toBe(0);
    await new Promise((r) => {
      out.stream.once('close', r);
      out.stream.end();
    });
  });
});
