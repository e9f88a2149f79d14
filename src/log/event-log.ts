// The structured log: time, level, module, a short event and key=value parameters.
// INFO lines are sampled (10 % by default, 100 % while boosted); WARN and ERROR are
// always kept. Kept lines go to pino (stdout), to a bounded ring the UI queries, and to
// the Monitor stream. Sampling uses an injected random source so tests are seeded.
import { isEmptySearch, matchesSearch, parseLogSearch, type LogSearch } from './log-search.js';
import { EventTally, type LogSummary } from './log-summary.js';
import { LEVELS, type Level } from './level.js';
import { redactParams } from './redact.js';
import { LOG_MODULES, type LogLine, type LogModule } from './log-line.js';

export { LEVELS, levelSchema, type Level } from './level.js';
export { LOG_MODULES, type LogModule, logLineSchema, type LogLine } from './log-line.js';

export type LogSink = (line: LogLine) => void;

export interface EventLogOptions {
  capacity?: number;
  sampleRate: number;
  clock: () => number;
  random?: () => number;
  /** Every kept line, e.g. pino and the WebSocket stream. */
  sinks?: LogSink[];
  /** Lines stdout's writer dropped since start (its backlog full: src/log/stdout.ts). */
  stdoutDropped?: () => number;
}

export interface LogQuery {
  /** A minimum: WARN returns WARN and ERROR. */
  level?: Level;
  module?: string;
  /** The search language of log-search.ts: `WARN ocr`, `image_hash=ab3f`, free text. */
  q?: string;
  since?: number;
  limit?: number;
}

export { formatLine } from './log-format.js';

/** Which lines share a line's context: its request, its client, or its module. */
export type ContextKey = 'request' | 'client' | 'module';

/** The value a line has for a context key, if any. */
export function contextValue(line: LogLine, by: ContextKey): string | undefined {
  if (by === 'module') return line.module;
  const v = by === 'request' ? (line.params.requestId ?? line.params.request_id) : line.params.client;
  return v === null || v === undefined ? undefined : String(v);
}

export interface SearchResult {
  /** Newest first, at most the limit. */
  lines: LogLine[];
  /** Lines in the ring that match (all of them, not only those returned). */
  matched: number;
  /** Lines looked at: the whole ring. */
  scanned: number;
  /** The matched lines by event (all of them): the counts add up to `matched`. */
  summary: LogSummary;
  /** The newest line in the ring when the search began: lines after it are not in the answer. */
  newestSeq: number;
}

export class EventLog {
  private readonly ring: (LogLine | undefined)[];
  private next = 0;
  private seq = 0;
  private boostUntil = 0;
  private readonly random: () => number;
  readonly sinks: LogSink[];
  /** INFO lines not kept by sampling, since start. */
  sampledOut = 0;

  constructor(private readonly opts: EventLogOptions) {
    this.ring = new Array(opts.capacity ?? 10_000);
    this.random = opts.random ?? Math.random;
    this.sinks = opts.sinks ?? [];
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** Keep every INFO line until `untilMs` (alerts call this to see what led up to them). */
  boost(untilMs: number): void {
    this.boostUntil = Math.max(this.boostUntil, untilMs);
  }

  sampleRate(now = this.opts.clock()): number {
    return now < this.boostUntil ? 1 : this.opts.sampleRate;
  }

  /**
   * The sampling decision for one INFO line, drawn now (a dropped line is counted): a hot
   * path asks first and builds the line's parameters only when it is kept, then writes it
   * with `always`.
   */
  keepsInfo(): boolean {
    const rate = this.sampleRate();
    if (rate >= 1 || this.random() < rate) return true;
    this.sampledOut++;
    return false;
  }

  /** An INFO line, sampled; `always` keeps it whatever the rate (an alert's own line). */
  info(
    module: LogModule,
    event: string,
    params: Record<string, unknown> = {},
    opts: { always?: boolean } = {},
  ): LogLine | undefined {
    const now = this.opts.clock();
    const rate = this.sampleRate(now);
    if (!opts.always && rate < 1 && this.random() >= rate) {
      this.sampledOut++;
      return undefined;
    }
    return this.keep('INFO', module, event, params, now);
  }

  warn(module: LogModule, event: string, params: Record<string, unknown> = {}): LogLine {
    return this.keep('WARN', module, event, params, this.opts.clock());
  }

  error(module: LogModule, event: string, params: Record<string, unknown> = {}): LogLine {
    return this.keep('ERROR', module, event, params, this.opts.clock());
  }

  private keep(level: Level, module: LogModule, event: string, params: Record<string, unknown>, t: number): LogLine {
    const line: LogLine = { seq: ++this.seq, t, level, module, event, params: redactParams(params) };
    this.ring[this.next] = line;
    this.next = (this.next + 1) % this.ring.length;
    for (const sink of this.sinks) {
      try {
        sink(line);
      } catch {
        // A failing sink (a closed stdout) must not lose the line for the others.
      }
    }
    return line;
  }

  /** Kept lines, newest first; stops at a line overwritten while it runs. */
  *newestFirst(): Generator<LogLine> {
    const newest = this.seq;
    for (let k = 1; k <= this.ring.length; k++) {
      const line = this.ring[(this.next - k + this.ring.length) % this.ring.length];
      if (!line || line.seq > newest) return;
      yield line;
    }
  }

  private static filter(q: LogQuery): (line: LogLine) => boolean {
    const minLevel = q.level ? LEVELS.indexOf(q.level) : 0;
    const search: LogSearch | undefined = q.q ? parseLogSearch(q.q, LOG_MODULES) : undefined;
    const useSearch = search !== undefined && !isEmptySearch(search);
    return (line) => {
      if (LEVELS.indexOf(line.level) < minLevel) return false;
      if (q.module && line.module !== q.module) return false;
      return !useSearch || matchesSearch(line, search);
    };
  }

  /** Newest first. `level` is a minimum (WARN returns WARN and ERROR). */
  query(q: LogQuery = {}): LogLine[] {
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 1_000);
    const keep = EventLog.filter(q);
    const out: LogLine[] = [];
    for (const line of this.newestFirst()) {
      if (q.since !== undefined && line.t < q.since) break;
      if (keep(line)) out.push(line);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Searches the whole ring, newest first, counting every match by event. Yields to the
   * event loop every `chunk` lines (a million-line ring is searched without stalling requests).
   */
  async search(q: LogQuery, chunk = 20_000): Promise<SearchResult> {
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 1_000);
    const keep = EventLog.filter(q);
    const lines: LogLine[] = [];
    const tally = new EventTally();
    const newestSeq = this.seq;
    let matched = 0;
    let scanned = 0;
    for (const line of this.newestFirst()) {
      if (q.since !== undefined && line.t < q.since) break;
      scanned++;
      if (keep(line)) {
        matched++;
        tally.add(line);
        if (lines.length < limit) lines.push(line);
      }
      if (scanned % chunk === 0) await new Promise((r) => setImmediate(r));
    }
    return { lines, matched, scanned, summary: tally.summary(), newestSeq };
  }

  /** The line with this sequence number, if still in the ring. */
  get(seq: number): LogLine | undefined {
    const line = this.ring[(seq - 1) % this.ring.length];
    return line?.seq === seq ? line : undefined;
  }

  /**
   * The lines before and after a line that share its request, client or module, oldest
   * first with the line itself among them; undefined when the line has left the ring.
   */
  context(
    seq: number,
    by: ContextKey,
    before = 10,
    after = 10,
  ): { line: LogLine; value: string; lines: LogLine[] } | undefined {
    const line = this.get(seq);
    if (!line) return undefined;
    const value = contextValue(line, by);
    if (value === undefined) return { line, value: '', lines: [line] };
    const n = this.ring.length;
    const at = (seq - 1) % n;
    const earlier: LogLine[] = [];
    for (let k = 1; k < n && earlier.length < before; k++) {
      const l = this.ring[(at - k + n) % n];
      if (!l || l.seq >= seq) break;
      if (contextValue(l, by) === value) earlier.push(l);
    }
    const later: LogLine[] = [];
    for (let k = 1; k < n && later.length < after; k++) {
      const l = this.ring[(at + k) % n];
      if (!l || l.seq <= seq) break;
      if (contextValue(l, by) === value) later.push(l);
    }
    return { line, value, lines: [...earlier.reverse(), line, ...later] };
  }

  /** Until when every INFO line is kept (0: not boosted). */
  get boostedUntil(): number {
    return this.boostUntil;
  }

  get configuredSampleRate(): number {
    return this.opts.sampleRate;
  }

  /** Lines that did not reach stdout (it stopped draining), since start; still in the ring. */
  get stdoutDropped(): number {
    return this.opts.stdoutDropped?.() ?? 0;
  }
}
