// The structured log: time, level, module, a short event and key=value parameters.
// INFO lines are sampled (10 % by default, 100 % while boosted); WARN and ERROR are
// always kept. Kept lines go to pino (stdout), to a bounded ring the UI queries, and to
// the Monitor stream. Sampling uses an injected random source so tests are seeded.
import { redactParams, type LogParams } from './redact.js';

export type Level = 'INFO' | 'WARN' | 'ERROR';
export const LEVELS: readonly Level[] = ['INFO', 'WARN', 'ERROR'];

export interface LogLine {
  seq: number;
  t: number;
  level: Level;
  module: string;
  event: string;
  params: LogParams;
}

export interface LogSink {
  (line: LogLine): void;
}

export interface EventLogOptions {
  capacity?: number;
  sampleRate: number;
  clock: () => number;
  random?: () => number;
  /** Every kept line, e.g. pino and the WebSocket stream. */
  sinks?: LogSink[];
}

export interface LogQuery {
  level?: Level;
  module?: string;
  q?: string;
  since?: number;
  limit?: number;
}

/** `INFO gui GUI step executed action=click target="登录按钮" duration=842ms` */
export function formatLine(line: LogLine): string {
  const params = Object.entries(line.params)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${line.level} ${line.module} ${line.event}${params ? ` ${params}` : ''}`;
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

  /** An INFO line, sampled; `always` keeps it whatever the rate (an alert's own line). */
  info(module: string, event: string, params: Record<string, unknown> = {}, opts: { always?: boolean } = {}): LogLine | undefined {
    const now = this.opts.clock();
    const rate = this.sampleRate(now);
    if (!opts.always && rate < 1 && this.random() >= rate) {
      this.sampledOut++;
      return undefined;
    }
    return this.keep('INFO', module, event, params, now);
  }

  warn(module: string, event: string, params: Record<string, unknown> = {}): LogLine {
    return this.keep('WARN', module, event, params, this.opts.clock());
  }

  error(module: string, event: string, params: Record<string, unknown> = {}): LogLine {
    return this.keep('ERROR', module, event, params, this.opts.clock());
  }

  private keep(level: Level, module: string, event: string, params: Record<string, unknown>, t: number): LogLine {
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

  /** Newest first. `level` is a minimum (WARN returns WARN and ERROR). */
  query(q: LogQuery = {}): LogLine[] {
    const minLevel = q.level ? LEVELS.indexOf(q.level) : 0;
    const needle = q.q?.toLowerCase();
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 1_000);
    const out: LogLine[] = [];
    for (let k = 1; k <= this.ring.length && out.length < limit; k++) {
      const line = this.ring[(this.next - k + this.ring.length) % this.ring.length];
      if (!line) break;
      if (q.since !== undefined && line.t < q.since) break;
      if (LEVELS.indexOf(line.level) < minLevel) continue;
      if (q.module && line.module !== q.module) continue;
      if (needle && !formatLine(line).toLowerCase().includes(needle)) continue;
      out.push(line);
    }
    return out;
  }
}
