// The GPU poller: loads NVML once, reads every GPU each check off the request path, and
// turns every failure into a state a user can see (no driver, library not found, no
// permission, GPU lost) with re-initialisation and backoff. It never throws.
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { cString, loadNvml, NVML, NvmlLoadError, type NvmlFunctions } from './nvml-binding.js';
import { GpuLostError, NvmlDevice, type GpuReading } from './nvml-device.js';
import { processRecordSchema, type UtilSample } from './nvml-records.js';
import { processDetailsSchema, readProcessInfo } from './proc-info.js';
import { because, type ReasonPart } from '../reasons.js';

/** A process holding GPU memory, and who it is (where /proc shows it). */
export const gpuProcessSchema = z.object({
  gpu: z.number(),
  ...processRecordSchema.shape,
  ...processDetailsSchema.shape,
});
export type GpuProcess = z.infer<typeof gpuProcessSchema>;

/** One GPU host read through its DCGM exporter (GPU_METRICS_URL), at the last check. */
export const gpuHostSchema = z.object({
  host: z.string().describe('The name its GPUs carry: `gpu="<host>/<index>"`'),
  url: z.string().describe("The exporter's page"),
  available: z.boolean(),
  reason: z.string().optional().describe('Why the page gave no readings'),
  gpus: z.number().describe('GPUs read from the page'),
  driverVersion: z.string().optional(),
  readMs: z.number().describe('Milliseconds the page took, body included'),
});
export type GpuHost = z.infer<typeof gpuHostSchema>;

export interface GpuPollResult {
  available: boolean;
  /** Why there are no readings (or why some GPUs are missing), in English. */
  reason?: string;
  /** The same as codes with parameters (src/reasons.ts): what the browser words in its language. */
  reasonParts?: ReasonPart[];
  library?: string;
  driverVersion?: string;
  readings: GpuReading[];
  /** GPUs that answered GPU_IS_LOST this check. */
  lost: number[];
  /** Latest process list (refreshed every processEveryChecks checks). */
  processes: GpuProcess[];
  /** Milliseconds one GPU's read took (wall time, calls on worker threads), per GPU, this check. */
  readMs: number[];
  /** NVML's utilisation samples since the previous check, per GPU index (for sample-based rules). */
  samples?: Record<string, UtilSample[]>;
  /**
   * GPUs (their `gpu` label) read at the previous check whose host did not give them this
   * time (its page failed, or left them out): `gpu_available` 0, like a lost GPU.
   */
  missing?: string[];
  /** Each GPU host and its page (GPU_METRICS_URL). */
  hosts?: GpuHost[];
}

/**
 * What the Monitor reads GPUs through: NVML's poller here, or a stand-in behind the same
 * calls (the demo's simulated GPUs, src/demo/simulated-gpus.ts).
 */
export interface GpuSource {
  poll(now: number): Promise<GpuPollResult>;
  readonly result: GpuPollResult;
  freeMemoryNow(): Promise<Array<{ gpu: number; freeMiB: number }> | null>;
  close(): void;
  /** The readings are made up: the cards and the API say so. */
  readonly simulated?: boolean;
  /** Where the readings come from: NVML on this machine (the default), or DCGM exporters' pages. */
  readonly source?: 'nvml' | 'dcgm';
}

export interface GpuPollerOptions {
  library?: string | undefined;
  utilThresholdPercent?: number;
  /** The process list is slower (and reads /proc): every N checks. */
  processEveryChecks?: number;
  /** Loader, replaceable so tests can count loads; defaults to the koffi binding. */
  load?: (library?: string) => NvmlFunctions;
}

const FIRST_RETRY_MS = 10_000;
const MAX_RETRY_MS = 300_000;

/** What an init failure means to the operator. */
export function initFailureReason(code: number, text: string): ReasonPart {
  switch (code) {
    case NVML.ERROR_DRIVER_NOT_LOADED:
      return { code: 'DRIVER_NOT_LOADED', params: { detail: text } };
    case NVML.ERROR_NO_PERMISSION:
      return { code: 'NO_GPU_PERMISSION', params: { detail: text } };
    case NVML.ERROR_LIBRARY_NOT_FOUND:
      return { code: 'DRIVER_LIBRARY_NOT_FOUND', params: { detail: text } };
    default:
      return { code: 'NVML_INIT_FAILED', params: { detail: text, code } };
  }
}

/** A GPU source's answer before its first read. */
export const notReadYet = (): GpuPollResult => ({
  available: false,
  ...because({ code: 'GPU_PROBE_NOT_RUN_YET' }),
  readings: [],
  lost: [],
  processes: [],
  readMs: [],
});

export class GpuPoller implements GpuSource {
  private nvml: NvmlFunctions | undefined;
  private devices: NvmlDevice[] = [];
  private initialized = false;
  private retryAt = 0;
  private retryMs = FIRST_RETRY_MS;
  private checks = 0;
  private processes: GpuProcess[] = [];
  private last: GpuPollResult = notReadYet();
  private driverVersion: string | undefined;
  private readonly threshold: number;
  private readonly processEvery: number;

  constructor(private readonly opts: GpuPollerOptions = {}) {
    this.threshold = opts.utilThresholdPercent ?? 95;
    this.processEvery = opts.processEveryChecks ?? 6;
  }

  get result(): GpuPollResult {
    return this.last;
  }

  async poll(now: number): Promise<GpuPollResult> {
    try {
      this.last = await this.pollUnsafe(now);
    } catch (err) {
      // Nothing NVML does may reach the process: report it and try again later.
      const reason = this.fail(now, [{ code: 'GPU_PROBE_FAILED', params: { detail: (err as Error).message } }]);
      this.last = { ...this.emptyResult(), ...because(...reason) };
    }
    return this.last;
  }

  private emptyResult(): GpuPollResult {
    const r: GpuPollResult = { available: false, readings: [], lost: [], processes: [], readMs: [] };
    if (this.nvml) r.library = this.nvml.path;
    return r;
  }

  private async pollUnsafe(now: number): Promise<GpuPollResult> {
    if (!this.initialized) {
      if (now < this.retryAt)
        return { ...this.emptyResult(), ...because(...(this.last.reasonParts ?? [{ code: 'WAITING_TO_RETRY' }])) };
      const reason = this.start(now);
      if (reason) return { ...this.emptyResult(), ...because(...reason) };
    }
    const readings: GpuReading[] = [];
    const lost: number[] = [];
    const readMs: number[] = [];
    const errors: ReasonPart[] = [];
    const slowCadence = this.checks % this.processEvery === 0;
    for (const dev of this.devices) {
      const t0 = performance.now();
      try {
        readings.push(await dev.read(this.threshold, slowCadence));
      } catch (err) {
        if (err instanceof GpuLostError) lost.push(dev.index);
        else errors.push({ code: 'GPU_READ_FAILED', params: { gpu: dev.index, detail: (err as Error).message } });
      }
      readMs.push(performance.now() - t0);
    }
    this.checks++;
    if (slowCadence) this.processes = await this.readProcesses(lost);
    const samples: Record<string, UtilSample[]> = {};
    for (const dev of this.devices) if (dev.lastSamples.length) samples[String(dev.index)] = dev.lastSamples;
    const result: GpuPollResult = {
      ...this.emptyResult(),
      available: readings.length > 0,
      readings,
      lost,
      processes: this.processes,
      readMs,
      samples,
    };
    if (this.driverVersion) result.driverVersion = this.driverVersion;
    if (lost.length > 0) {
      // A lost GPU usually needs the driver handle rebuilt: shut down, re-init after backoff.
      this.nvml?.shutdown();
      this.initialized = false;
      Object.assign(result, because(...this.fail(now, [{ code: 'GPU_LOST', params: { gpus: lost.join(', ') } }])));
    } else if (errors.length > 0) {
      Object.assign(result, because(...errors));
    }
    return result;
  }

  /** Loads and initialises NVML and enumerates GPUs; returns a reason on failure. */
  private start(now: number): ReasonPart[] | undefined {
    if (!this.nvml) {
      try {
        this.nvml = (this.opts.load ?? loadNvml)(this.opts.library);
      } catch (err) {
        const reason: ReasonPart =
          err instanceof NvmlLoadError
            ? err.reason
            : { code: 'NVML_LOAD_FAILED', params: { detail: (err as Error).message } };
        // The library will not appear by itself soon: retry rarely.
        this.retryMs = MAX_RETRY_MS;
        return this.fail(now, [reason]);
      }
    }
    const n = this.nvml;
    const code = n.init();
    if (code !== NVML.SUCCESS) return this.fail(now, [initFailureReason(code, n.errorString(code))]);
    const count: [number] = [0];
    const c = n.deviceCount(count);
    if (c !== NVML.SUCCESS)
      return this.fail(now, [{ code: 'NVML_COUNT_FAILED', params: { detail: n.errorString(c), code: c } }]);
    if (count[0] === 0) return this.fail(now, [{ code: 'NVML_NO_GPU' }]);
    this.devices = [];
    for (let i = 0; i < count[0]; i++) {
      const handle: [unknown] = [null];
      const r = n.handleByIndex(i, handle);
      if (r === NVML.SUCCESS) this.devices.push(new NvmlDevice(n, i, handle[0]));
    }
    if (this.devices.length === 0) return this.fail(now, [{ code: 'NO_GPU_HANDLE' }]);
    const ver = Buffer.alloc(96);
    if (n.driverVersion(ver, ver.length) === NVML.SUCCESS) this.driverVersion = cString(ver);
    this.initialized = true;
    this.retryMs = FIRST_RETRY_MS;
    return undefined;
  }

  private fail(now: number, reason: ReasonPart[]): ReasonPart[] {
    this.retryAt = now + this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    return reason;
  }

  private async readProcesses(lost: number[]): Promise<GpuProcess[]> {
    const out: GpuProcess[] = [];
    for (const dev of this.devices) {
      if (lost.includes(dev.index)) continue;
      const p = await dev.processes();
      if (p && 'records' in p)
        for (const rec of p.records) out.push({ gpu: dev.index, ...rec, ...readProcessInfo(rec.pid) });
    }
    return out;
  }

  /**
   * Free memory of every GPU at this moment, for the context of a failed request: one NVML
   * call per GPU on worker threads. Concurrent callers share one reading (a burst of
   * failures is one read, not one each). Null when NVML is not running.
   */
  freeMemoryNow(): Promise<Array<{ gpu: number; freeMiB: number }> | null> {
    if (!this.initialized || this.devices.length === 0) return Promise.resolve(null);
    this.freeReading ??= (async () => {
      try {
        const out: Array<{ gpu: number; freeMiB: number }> = [];
        for (const dev of this.devices) {
          const free = await dev.freeMemoryMiB().catch(() => null);
          if (free !== null) out.push({ gpu: dev.index, freeMiB: free });
        }
        return out.length ? out : null;
      } finally {
        this.freeReading = undefined;
      }
    })();
    return this.freeReading;
  }
  private freeReading: Promise<Array<{ gpu: number; freeMiB: number }> | null> | undefined;

  close(): void {
    if (this.initialized) this.nvml?.shutdown();
    this.initialized = false;
  }
}
