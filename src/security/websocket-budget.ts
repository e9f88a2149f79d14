// How many Monitor WebSockets may be open: at most MAX_WEBSOCKETS in all (a quarter of
// MAX_CONNECTIONS by default) and MAX_WEBSOCKETS_PER_CLIENT per client address. A
// WebSocket holds its connection for hours and is never shed, so without a budget 520
// tabs of one client took every connection and /healthz was refused. Pure counting: the
// stream route admits before the upgrade and releases when the socket closes.

export type WebSocketRefusal = 'total' | 'client';

export class WebSocketBudget {
  private open = 0;
  private readonly byClient = new Map<string, number>();

  constructor(
    readonly maxTotal: number,
    readonly maxPerClient: number,
  ) {}

  /** Takes a place for `client`; null when admitted (release it once), else which budget is full. */
  admit(client: string): WebSocketRefusal | null {
    if (this.open >= this.maxTotal) return 'total';
    const mine = this.byClient.get(client) ?? 0;
    if (mine >= this.maxPerClient) return 'client';
    this.open++;
    this.byClient.set(client, mine + 1);
    return null;
  }

  release(client: string): void {
    const mine = this.byClient.get(client);
    if (mine === undefined) return;
    this.open--;
    if (mine <= 1) this.byClient.delete(client);
    else this.byClient.set(client, mine - 1);
  }

  get size(): number {
    return this.open;
  }
}
