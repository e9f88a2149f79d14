// The cap on large uploads in flight at once (VIDEO_MAX_CONCURRENT). Each one holds a
// temporary file of up to VIDEO_MAX_BYTES, a socket's buffers and the CPU to base64 it on
// its way out; past the cap a request is refused (429) before its body is read, so that a
// burst of uploads costs a bounded amount of disk, memory and event loop.

export interface UploadLease {
  /** Gives the slot back; a second call does nothing. */
  release(): void;
}

export class UploadSlots {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** A slot, or null when all `limit` are taken. */
  tryAcquire(): UploadLease | null {
    if (this.used >= this.limit) return null;
    this.used++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.used--;
      },
    };
  }
}
