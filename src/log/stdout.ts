// Where the JSON log goes: stdout, written in batches. pino's default destination writes
// each line with its own asynchronous write (a round trip through libuv's thread pool): at
// the default 10 % sampling that was 14–17 µs of CPU a relayed request in a CPU profile on
// the 2-core VM (docs/BENCHMARKS.md, "The log's writes"). Lines now wait in memory until
// 4 KiB have gathered or a second has passed; what waits is written out when the process
// exits, an uncaught exception's exit too (pino flushes its destinations on exit; a test in
// test/server.test.ts crashes a process to see it).
import pino from 'pino';

/** A line reaches stdout at most this long after it was logged, however quiet the server. */
const LOG_FLUSH_MS = 1_000;
/** Lines are written in batches of at least this many bytes (a line is ~300). */
const BATCH_BYTES = 4_096;
/**
 * What may wait while stdout does not drain (a stalled log shipper): beyond it lines are
 * dropped from stdout, not from the Monitor's own log, so memory stays bounded.
 */
export const LOG_BACKLOG_BYTES = 16 * 1024 * 1024;

export class StdoutLog {
  readonly stream: ReturnType<typeof pino.destination>;
  /** Lines not written because the backlog was full, since start (the logs API shows it). */
  dropped = 0;

  constructor(opts: { fd?: number; backlogBytes?: number } = {}) {
    const boom = pino.destination({
      dest: opts.fd ?? 1,
      sync: false,
      minLength: BATCH_BYTES,
      maxLength: opts.backlogBytes ?? LOG_BACKLOG_BYTES,
      periodicFlush: LOG_FLUSH_MS,
    });
    boom.on('drop', () => this.dropped++);
    this.stream = boom;
  }
}
