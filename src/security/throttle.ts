// Failed-guess throttling, after Grafana's brute-force protection: N failures within a
// window lock that client out for the rest of the window, right secret or not (the
// numbers per secret are in guesses.ts). Pure: the clock is injected; memory is bounded
// (the least recently failed clients are forgotten first); a client without failures
// costs one Map lookup, so checking every request's key allocates nothing.

export interface ThrottleOptions {
  clock: () => number;
  maxFailures?: number;
  windowMs?: number;
  /** Clients remembered at most; past it the least recently failed are forgotten. */
  maxClients?: number;
}

const NONE: readonly number[] = [];

export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();
  readonly maxFailures: number;
  readonly windowMs: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
  }

  /** The client's failures within the window; the shared empty list (no allocation) when it has none. */
  private recent(client: string, now: number): readonly number[] {
    const times = this.failures.get(client);
    if (times === undefined) return NONE;
    const kept = times.filter((t) => t > now - this.windowMs);
    if (kept.length) this.failures.set(client, kept);
    else this.failures.delete(client);
    return kept;
  }

  /** Milliseconds until this client may try again; 0 when it may now. */
  lockedForMs(client: string): number {
    const now = this.opts.clock();
    const times = this.recent(client, now);
    const oldest = times[0];
    return oldest !== undefined && times.length >= this.maxFailures ? oldest + this.windowMs - now : 0;
  }

  fail(client: string): void {
    const now = this.opts.clock();
    const times = [...this.recent(client, now), now];
    if (times.length > this.maxFailures) times.shift();
    // Re-insert so Map order is "least recently failed first".
    this.failures.delete(client);
    this.failures.set(client, times);
    const max = this.opts.maxClients ?? 10_000;
    for (const key of this.failures.keys()) {
      if (this.failures.size <= max) break;
      this.failures.delete(key);
    }
  }

  succeed(client: string): void {
    this.failures.delete(client);
  }

  get clientsTracked(): number {
    return this.failures.size;
  }
}
