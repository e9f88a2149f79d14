// A log shipper that stopped reading: a real FIFO, opened for reading first (non-blocking,
// so neither open waits), nothing draining it until the test reads. The writer closes its
// end when done; the test's read end stays open for what was written last.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import type { StdoutLog } from '../../src/log/stdout.js';

export interface StalledPipe {
  /** The write end, for the log. */
  fd: number;
  /** What the pipe holds now: the shipper reading again. */
  read(): string;
  close(): void;
}

export function stalledPipe(): StalledPipe {
  const fifo = join(mkdtempSync(join(tmpdir(), 'stdout-')), 'pipe');
  execFileSync('mkfifo', [fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(1 << 16);
  return {
    fd,
    read() {
      let out = '';
      for (;;) {
        let n = 0;
        try {
          n = readSync(readFd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        }
        if (n === 0) return out;
        out += buf.subarray(0, n).toString();
      }
    },
    close: () => closeSync(readFd),
  };
}

/** Ends the log's stream, reading the pipe so what waits can be written, until it closes the pipe; what was read. */
export async function endDraining(out: StdoutLog, pipe: StalledPipe): Promise<string> {
  let closed = false;
  let read = '';
  out.stream.once('close', () => {
    closed = true;
  });
  out.stream.end();
  await vi.waitFor(
    () => {
      read += pipe.read();
      expect(closed).toBe(true);
    },
    { timeout: 10_000, interval: 20 },
  );
  read += pipe.read();
  pipe.close();
  return read;
}
