// Failed-login throttling, after Grafana's brute-force protection: 5 failures within
// 5 minutes lock that client out for the rest of the 5 minutes, right token or not.
// Pure: the clock is injected; memory is bounded (the oldest clients are forgotten first).

export interface ThrottleOptions {
  clock: () => number;
  maxFailures?: number;
  windowMs?: number;
  /** Clients remembered at most; past it the least recently failed are forgotten. */
  maxClients?: number;
}

export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();
  readonly maxFailures: number;
  readonly windowMs: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
  }

  private recent(client: string, now: number): number[] {
    const times = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length) this.failures.set(client, times);
    else this.failures.delete(client);
    return times;
  }

  /** Milliseconds until this client may try again; 0 when it may now. */
  lockedForMs(client: string): number {
    const now = this.opts.clock();
    const times = this.recent(client, now);
    return times.length >= this.maxFailures ? times[0]! + this.windowMs - now : 0;
  }

  fail(client: string): void {
    const now = this.opts.clock();
    const times = this.recent(client, now);
    times.push(now);
    if (times.length > this.maxFailures) times.shift();
    // Re-insert so Map order is "least recently failed first".
    this.failures.delete(client);
    this.failures.set(client, times);
    const max = this.opts.maxClients ?? 10_000;
    while (this.failures.size > max) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(client: string): void {
    this.failures.delete(client);
  }

  get clientsTracked(): number {
    return this.failures.size;
  }
}
