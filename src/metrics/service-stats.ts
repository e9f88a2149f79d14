// Per-endpoint request statistics, fed by the timing hook. One EndpointStats per route
// (method + pattern), created when the route is registered, so recording a request is
// arithmetic on an existing object. Unknown paths share one "(unmatched)" slot: random
// URLs cannot grow memory.
import { LATENCY_BUCKETS_S, SIZE_BUCKETS_BYTES } from './buckets.js';
import { SlidingWindow, summarizeWindows, type WindowSummary } from './sliding-window.js';
import { SlotSums } from './slot-sums.js';

/** Upper bounds (seconds) of the Prometheus request-duration histogram: 5 ms … 600 s (buckets.ts says why). */
export const DURATION_BUCKETS_S = LATENCY_BUCKETS_S;
/** Upper bounds (seconds) of the time-to-first-token histogram: the same as latency. */
export const TTFT_BUCKETS_S = LATENCY_BUCKETS_S;

export const UNMATCHED_ENDPOINT = '(unmatched)';

/** Cumulative histogram counts, as Prometheus wants them (never reset). */
export class CumulativeHistogram {
  readonly counts: Float64Array; // per bucket, non-cumulative; last = above the top bound
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    // Binary search for the first bound >= v (Prometheus' `le`): ~7 steps for 78 bounds.
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v > (b[mid] ?? Number.POSITIVE_INFINITY)) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo] = (this.counts[lo] ?? 0) + 1;
    this.sum += v;
    this.count++;
  }
}

export type ModuleGroup = 'model' | 'monitor' | 'other';

export class EndpointStats {
  readonly window: SlidingWindow;
  /** Requests by status class, index = first digit (0 unused): never reset. */
  readonly statusTotals = new Float64Array(6);
  readonly durations = new CumulativeHistogram(DURATION_BUCKETS_S);
  /** Sizes of the answers' bodies, where known (Content-Length, or counted for streams). */
  readonly responseBytes = new SlotSums();
  /** The same sizes since start, for /metrics. */
  readonly responseSizes = new CumulativeHistogram(SIZE_BUCKETS_BYTES);

  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly group: ModuleGroup,
    startedAtMs: number,
  ) {
    this.window = new SlidingWindow(startedAtMs);
  }

  /** `bytes`: the answer's body size, NaN when unknown. */
  record(latencyMs: number, statusCode: number, nowMs: number, bytes = Number.NaN): void {
    this.window.record(latencyMs, statusCode, nowMs);
    if (bytes >= 0) {
      this.responseBytes.record(bytes, nowMs);
      this.responseSizes.observe(bytes);
    }
    const cls = (statusCode / 100) | 0;
    const i = cls >= 1 && cls <= 5 ? cls : 0;
    this.statusTotals[i] = (this.statusTotals[i] ?? 0) + 1;
    this.durations.observe(latencyMs / 1_000);
  }
}

/** Streamed chat: time to first token, generation speed, token counts. */
export class ChatStats {
  readonly ttftWindow: SlidingWindow;
  readonly tokensPerSecondWindow: SlidingWindow;
  readonly ttft = new CumulativeHistogram(TTFT_BUCKETS_S);
  promptTokensTotal = 0;
  completionTokensTotal = 0;
  constructor(startedAtMs: number) {
    this.ttftWindow = new SlidingWindow(startedAtMs);
    this.tokensPerSecondWindow = new SlidingWindow(startedAtMs);
  }

  recordFirstToken(ttftMs: number, nowMs: number): void {
    this.ttftWindow.record(ttftMs, 0, nowMs);
    this.ttft.observe(ttftMs / 1_000);
  }

  recordUsage(promptTokens: number, completionTokens: number): void {
    this.promptTokensTotal += promptTokens;
    this.completionTokensTotal += completionTokens;
  }

  recordTokensPerSecond(tps: number, nowMs: number): void {
    this.tokensPerSecondWindow.record(tps, 0, nowMs);
  }
}

/**
 * Who is on the server now, counted by the connection and request hooks
 * (routes/client-load.ts): model requests between their arrival and their answer (or the
 * client giving up), those of them streaming their answer, and open client sockets.
 */
export class ClientLoad {
  /** Every open client socket, idle keep-alive ones included: exported, never "users". */
  openConnections = 0;
  modelRequestsInFlight = 0;
  /** Model requests whose answer is a stream being sent (part of modelRequestsInFlight). */
  streamsInFlight = 0;

  /**
   * The tutorial's active connections, users connected now: every model request in flight
   * (an open stream is one) and every WebSocket (a Monitor tab holds one). A browser tab is
   * one; a keep-alive socket left idle between requests is none.
   */
  activeConnections(websockets: number): number {
    return this.modelRequestsInFlight + websockets;
  }
}

export class ServiceStats {
  private readonly byKey = new Map<string, EndpointStats>();
  readonly unmatched: EndpointStats;
  readonly chat: ChatStats;
  readonly load = new ClientLoad();

  constructor(readonly startedAtMs: number) {
    this.unmatched = new EndpointStats('*', UNMATCHED_ENDPOINT, 'other', startedAtMs);
    this.chat = new ChatStats(startedAtMs);
  }

  /** Called once per route at registration; returns the slot its hook records into. */
  register(method: string, endpoint: string, group: ModuleGroup): EndpointStats {
    const key = `${method} ${endpoint}`;
    let stats = this.byKey.get(key);
    if (!stats) {
      stats = new EndpointStats(method, endpoint, group, this.startedAtMs);
      this.byKey.set(key, stats);
    }
    return stats;
  }

  get(method: string, endpoint: string): EndpointStats | undefined {
    return endpoint === UNMATCHED_ENDPOINT ? this.unmatched : this.byKey.get(`${method} ${endpoint}`);
  }

  all(): EndpointStats[] {
    return [...this.byKey.values(), this.unmatched];
  }

  /** Route patterns of the model endpoints: what the `*` series merge. */
  modelEndpoints(): string[] {
    return [...new Set([...this.byKey.values()].filter((s) => s.group === 'model').map((s) => s.endpoint))];
  }

  /** All model endpoints (chat, GUI, OCR, video) merged: what the cards show. */
  modelSummary(windowMs: number, nowMs: number): WindowSummary {
    const windows = [...this.byKey.values()].filter((s) => s.group === 'model').map((s) => s.window);
    return summarizeWindows(windows, windowMs, nowMs);
  }
}
