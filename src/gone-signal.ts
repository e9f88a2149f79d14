// The signal that a client has gone, as undici takes it. An AbortSignal is an EventTarget:
// creating one and undici adding its two abort listeners were about 3 % of a relayed
// request's profiled CPU (CPU profiles on the 2-core VM, docs/BENCHMARKS.md); undici accepts
// any EventEmitter with `aborted` instead, and that costs next to nothing.
import { EventEmitter } from 'node:events';

export class GoneSignal extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** What the model server client takes as a request's cancellation: either kind. */
export type UpstreamSignal = AbortSignal | GoneSignal;
