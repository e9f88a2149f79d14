// At most MAX_CONNECTIONS open at once, without letting slow clients take them all
// (slowloris). When a new connection would pass the limit, the one that has waited
// longest without a whole request to work on (still sending headers or a body, or idle
// between requests) is closed to make room; so clients that send whole requests, health
// probes included, are still served during a flood. Only when every open connection is
// busy with a complete request (or is a WebSocket) is the new one refused.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';

interface Tracked {
  socket: Duplex;
  /** Where it is in `open`; -1 once it is gone. */
  index: number;
  /** When the connection opened or last finished a response: how long it has been waiting. */
  since: number;
  request: IncomingMessage | null;
  upgraded: boolean;
}

/** A connection's entry, kept on its socket: the request handler finds it without a lookup. */
const TRACKED = Symbol('connection-limit');
type TrackedSocket = Duplex & { [TRACKED]?: Tracked };

export interface ConnectionLimitStats {
  open: number;
  /** Slow or idle connections closed to make room, since start. */
  shed: number;
  /** New connections refused because every open one was busy, since start. */
  refused: number;
}

export class ConnectionLimit {
  /**
   * The open connections, in no order (a gone one's place is taken by the last). Not a Map
   * keyed by socket: a long-lived Map or Set that every connection enters and leaves kept
   * recent requests alive through young-generation GCs (with clients that close after each
   * request: 17 µs of GC a relayed request against 9; bench/relay-gc.mjs, the drain's
   * counter in shutdown.ts for the same reason).
   */
  private readonly open: Tracked[] = [];
  private shedCount = 0;
  private refusedCount = 0;

  constructor(
    server: Server,
    private readonly max: number,
    /** Called when a connection was shed or refused (the caller rate-limits its log line). */
    private readonly onPressure: (stats: ConnectionLimitStats) => void = () => {},
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const t = (req.socket as TrackedSocket)[TRACKED];
      if (!t) return;
      t.request = req;
      res.once('close', () => {
        t.request = null;
        t.since = this.now();
      });
    });
    server.on('upgrade', (req: IncomingMessage) => {
      const t = (req.socket as TrackedSocket)[TRACKED];
      if (t) t.upgraded = true;
    });
  }

  get stats(): ConnectionLimitStats {
    return { open: this.open.length, shed: this.shedCount, refused: this.refusedCount };
  }

  private onConnection(socket: Socket): void {
    if (this.open.length >= this.max) {
      if (!this.shedOne()) {
        this.refusedCount++;
        socket.destroy();
        this.onPressure(this.stats);
        return;
      }
      this.onPressure(this.stats);
    }
    const t: Tracked = { socket, index: this.open.length, since: this.now(), request: null, upgraded: false };
    this.open.push(t);
    (socket as TrackedSocket)[TRACKED] = t;
    socket.once('close', () => this.forget(t));
  }

  /** Takes a connection out of `open` (once: a shed one closes later). */
  private forget(t: Tracked): void {
    if (t.index < 0) return;
    const last = this.open.pop();
    if (last && last !== t) {
      this.open[t.index] = last;
      last.index = t.index;
    }
    t.index = -1;
    t.request = null;
  }

  /** Closes the connection waiting longest without a complete request; false when there is none. */
  private shedOne(): boolean {
    let victim: Tracked | undefined;
    let oldest = Infinity;
    for (const t of this.open) {
      const waiting = !t.upgraded && (t.request === null || !t.request.complete);
      if (waiting && t.since < oldest) {
        oldest = t.since;
        victim = t;
      }
    }
    if (!victim) return false;
    this.forget(victim);
    victim.socket.destroy();
    this.shedCount++;
    return true;
  }
}

/** The process's open-files limit (Linux), to warn when MAX_CONNECTIONS leaves too few. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
