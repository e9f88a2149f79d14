// Reads one GPU through the bound NVML functions. A field the board does not support is
// absent (never 0); any other failure is kept as a readable message; a lost GPU throws.
import { z } from 'zod';
import {
  callAsync,
  CLOCK_MEM,
  CLOCK_SM,
  cString,
  GPU_UTILIZATION_SAMPLES,
  MEMORY_V2_VERSION,
  NVML,
  PCIE_RX,
  PCIE_TX,
  SAMPLE_BYTES,
  TEMPERATURE_V1_VERSION,
  type DeviceHandle,
  type NvmlFunctions,
} from './nvml-binding.js';
import {
  chooseStride,
  decodeSamples,
  sampleSummarySchema,
  summarizeSamples,
  type ProcessRecord,
  type ProcessStride,
  type SampleSummary,
  type UtilSample,
} from './nvml-records.js';

const MIB = 1024 * 1024;

export class NvmlCallError extends Error {
  constructor(
    readonly call: string,
    readonly nvmlCode: number,
    message: string,
  ) {
    super(`${call}: ${message} (NVML ${nvmlCode})`);
  }
}

export class GpuLostError extends NvmlCallError {}

/** One GPU at one check; a field the board does not support is absent (never 0). */
export const gpuReadingSchema = z.object({
  index: z.number().describe("NVML's index of the GPU (a DCGM exporter's `gpu` label)"),
  host: z
    .string()
    .optional()
    .describe(
      "The GPU host whose DCGM exporter gave the reading (GPU_METRICS_URL); absent for NVML, which reads this machine. The GPU's `gpu` label is then `<host>/<index>`",
    ),
  name: z.string().optional(),
  uuid: z.string().optional(),
  memoryUsedMiB: z.number().optional(),
  memoryTotalMiB: z.number().optional(),
  memoryReservedMiB: z.number().optional(),
  memoryUtilizationPercent: z.number().optional(),
  memoryApi: z
    .enum(['v2', 'v1'])
    .optional()
    .describe('Which call gave the memory numbers: v2 matches nvidia-smi, v1 counts reserved as used'),
  utilizationPercent: z.number().optional(),
  memoryBandwidthUtilizationPercent: z.number().optional(),
  temperatureCelsius: z.number().optional(),
  powerWatts: z.number().optional(),
  powerLimitWatts: z.number().optional(),
  smClockMHz: z.number().optional(),
  memoryClockMHz: z.number().optional(),
  fanPercent: z.number().optional(),
  eccUncorrectedVolatile: z.number().optional(),
  pcieTxKiBps: z.number().optional(),
  pcieRxKiBps: z.number().optional(),
  samples: sampleSummarySchema.optional(),
  lastXid: z.number().optional().describe("The last XID error the driver reported (DCGM's XID_ERRORS; 0: none)"),
  pciBusId: z.string().optional(),
  exporterHostname: z
    .string()
    .optional()
    .describe("The DCGM exporter's own `Hostname` label (on Kubernetes the node's name, or the exporter's pod)"),
  pods: z
    .array(z.object({ namespace: z.string(), pod: z.string(), container: z.string() }))
    .optional()
    .describe('Kubernetes pods the DCGM exporter maps to this GPU'),
  errors: z
    .record(z.string(), z.string())
    .describe('Calls that failed for a reason other than "not supported", by call'),
});
export type GpuReading = z.infer<typeof gpuReadingSchema>;

export class NvmlDevice {
  private lastSampleTs = 0;
  /** NVML's utilisation samples read at the last check (what happened since the one before). */
  lastSamples: UtilSample[] = [];
  private stride: ProcessStride;
  private name: string | undefined;
  private uuid: string | undefined;
  private totalMemoryBytes = Number.MAX_SAFE_INTEGER;
  private readonly pcie: { tx?: number; rx?: number } = {};
  /**
   * Calls this board answered NOT_SUPPORTED: not asked again (an H100 takes 0.17 ms to
   * say it has no fan, 80 times longer than a supported call). A new NvmlDevice is made
   * on every re-initialisation, so the set never outlives the driver handle.
   */
  private readonly unsupported = new Set<string>();
  private supports(call: string): boolean {
    return !this.unsupported.has(call);
  }

  constructor(
    private readonly nvml: NvmlFunctions,
    readonly index: number,
    readonly handle: DeviceHandle,
  ) {
    this.stride = nvml.hasConfidentialComputing ? 32 : 24;
  }

  /** The result of one call: false for NOT_SUPPORTED (remembered), throws for a lost GPU. */
  private check(call: string, code: number, errors: Record<string, string>): boolean {
    if (code === NVML.SUCCESS) return true;
    if (code === NVML.ERROR_NOT_SUPPORTED) {
      this.unsupported.add(call);
      return false;
    }
    const message = this.nvml.errorString(code);
    if (code === NVML.ERROR_GPU_IS_LOST) throw new GpuLostError(call, code, message);
    errors[call] = `${message} (NVML ${code})`;
    return false;
  }

  /** Every call runs on a worker thread (callAsync): the event loop only marshals. */
  async read(utilThresholdPercent: number, withPcie = false): Promise<GpuReading> {
    this.lastSamples = [];
    const n = this.nvml;
    const h = this.handle;
    const r: GpuReading = { index: this.index, errors: {} };
    const e = r.errors;
    const u32: [number] = [0];

    if (this.name === undefined) {
      const buf = Buffer.alloc(96);
      if (this.check('name', await callAsync(n.name, h, buf, buf.length), e)) this.name = cString(buf);
      const ubuf = Buffer.alloc(96);
      if (this.check('uuid', await callAsync(n.uuid, h, ubuf, ubuf.length), e)) this.uuid = cString(ubuf);
    }
    if (this.name !== undefined) r.name = this.name;
    if (this.uuid !== undefined) r.uuid = this.uuid;

    let memoryRead = false;
    if (n.memoryV2) {
      const m = { version: MEMORY_V2_VERSION, total: 0, reserved: 0, free: 0, used: 0 };
      const code = await callAsync(n.memoryV2, h, m);
      // An old driver may export the symbol yet reject the struct version: fall back.
      if (
        code !== NVML.ERROR_ARGUMENT_VERSION_MISMATCH &&
        code !== NVML.ERROR_FUNCTION_NOT_FOUND &&
        this.check('memory', code, e)
      ) {
        this.setMemory(r, Number(m.used), Number(m.total), Number(m.reserved), 'v2');
        memoryRead = true;
      }
    }
    if (!memoryRead && !('memory' in e)) {
      const m = { total: 0, free: 0, used: 0 };
      if (this.check('memory', await callAsync(n.memoryV1, h, m), e))
        this.setMemory(r, Number(m.used), Number(m.total), undefined, 'v1');
    }

    const util = { gpu: 0, memory: 0 };
    if (this.supports('utilization') && this.check('utilization', await callAsync(n.utilization, h, util), e)) {
      r.utilizationPercent = util.gpu;
      r.memoryBandwidthUtilizationPercent = util.memory;
    }

    let tempRead = false;
    if (n.temperatureV) {
      const t = { version: TEMPERATURE_V1_VERSION, sensorType: 0, temperature: 0 };
      const code = await callAsync(n.temperatureV, h, t);
      if (
        code !== NVML.ERROR_ARGUMENT_VERSION_MISMATCH &&
        code !== NVML.ERROR_FUNCTION_NOT_FOUND &&
        this.check('temperature', code, e)
      ) {
        r.temperatureCelsius = t.temperature;
        tempRead = true;
      }
    }
    if (!tempRead && !('temperature' in e) && this.check('temperature', await callAsync(n.temperature, h, 0, u32), e))
      r.temperatureCelsius = u32[0];

    if (this.supports('power') && this.check('power', await callAsync(n.power, h, u32), e))
      r.powerWatts = u32[0] / 1000;
    if (this.supports('powerLimit') && this.check('powerLimit', await callAsync(n.powerLimit, h, u32), e))
      r.powerLimitWatts = u32[0] / 1000;
    if (this.supports('smClock') && this.check('smClock', await callAsync(n.clock, h, CLOCK_SM, u32), e))
      r.smClockMHz = u32[0];
    if (this.supports('memoryClock') && this.check('memoryClock', await callAsync(n.clock, h, CLOCK_MEM, u32), e))
      r.memoryClockMHz = u32[0];
    if (this.supports('fan') && this.check('fan', await callAsync(n.fan, h, u32), e)) r.fanPercent = u32[0];
    const u64: [number | bigint] = [0];
    if (
      this.supports('ecc') &&
      this.check('ecc', await callAsync(n.eccTotal, h, 1 /* uncorrected */, 0 /* volatile */, u64), e)
    )
      r.eccUncorrectedVolatile = Number(u64[0]);
    // PCIe throughput is sampled by the driver over 20 ms per counter: only on the slow cadence.
    if (withPcie) {
      if (this.supports('pcieTx') && this.check('pcieTx', await callAsync(n.pcie, h, PCIE_TX, u32), e))
        this.pcie.tx = u32[0];
      if (this.supports('pcieRx') && this.check('pcieRx', await callAsync(n.pcie, h, PCIE_RX, u32), e))
        this.pcie.rx = u32[0];
    }
    if (this.pcie.tx !== undefined) r.pcieTxKiBps = this.pcie.tx;
    if (this.pcie.rx !== undefined) r.pcieRxKiBps = this.pcie.rx;

    const samples = await this.readSamples(utilThresholdPercent, e);
    if (samples) r.samples = samples;
    return r;
  }

  /**
   * Free memory now, in MiB: one NVML call on a worker thread (v2, as nvidia-smi counts; v1
   * on old drivers). Null when the call fails; throws GpuLostError for a lost GPU.
   */
  async freeMemoryMiB(): Promise<number | null> {
    const n = this.nvml;
    const e: Record<string, string> = {};
    if (n.memoryV2) {
      const m = { version: MEMORY_V2_VERSION, total: 0, reserved: 0, free: 0, used: 0 };
      const code = await callAsync(n.memoryV2, this.handle, m);
      if (code === NVML.SUCCESS) return Number(m.free) / MIB;
      if (code === NVML.ERROR_GPU_IS_LOST) this.check('memory', code, e);
    }
    const m = { total: 0, free: 0, used: 0 };
    return this.check('memory', await callAsync(n.memoryV1, this.handle, m), e) ? Number(m.free) / MIB : null;
  }

  private setMemory(r: GpuReading, used: number, total: number, reserved: number | undefined, api: 'v2' | 'v1'): void {
    this.totalMemoryBytes = total;
    r.memoryUsedMiB = used / MIB;
    r.memoryTotalMiB = total / MIB;
    if (reserved !== undefined) r.memoryReservedMiB = reserved / MIB;
    r.memoryUtilizationPercent = total > 0 ? (used / total) * 100 : 0;
    r.memoryApi = api;
  }

  /** NVML's own utilisation samples since the last call: what happened between checks. */
  private async readSamples(threshold: number, e: Record<string, string>): Promise<SampleSummary | undefined> {
    const n = this.nvml;
    const valType: [number] = [0];
    const count: [number] = [0];
    if (
      !this.supports('samples') ||
      !this.check(
        'samples',
        await callAsync(n.samples, this.handle, GPU_UTILIZATION_SAMPLES, 0, valType, count, null),
        e,
      )
    )
      return undefined;
    if (count[0] === 0) return undefined;
    const buf = Buffer.alloc(count[0] * SAMPLE_BYTES);
    const code = await callAsync(
      n.samples,
      this.handle,
      GPU_UTILIZATION_SAMPLES,
      this.lastSampleTs,
      valType,
      count,
      buf,
    );
    if (code === NVML.ERROR_NOT_FOUND) return undefined; // nothing new since the cursor
    if (!this.check('samples', code, e)) return undefined;
    const decoded = decodeSamples(buf, count[0]);
    const summary = summarizeSamples(decoded, this.lastSampleTs, threshold);
    if (summary) this.lastSampleTs = summary.lastTs;
    this.lastSamples = decoded;
    return summary ?? undefined;
  }

  /** Running compute processes and their GPU memory (a slower cadence than read()). */
  async processes(): Promise<{ records: ProcessRecord[]; stride: ProcessStride } | { error: string } | undefined> {
    const n = this.nvml;
    const count: [number] = [0];
    const e: Record<string, string> = {};
    let code = await callAsync(n.processes, this.handle, count, null);
    if (code === NVML.SUCCESS && count[0] === 0) return { records: [], stride: this.stride };
    if (code !== NVML.ERROR_INSUFFICIENT_SIZE && !this.check('processes', code, e))
      return e.processes ? { error: e.processes } : undefined;
    // Room for processes that start between the two calls, at the larger stride.
    const capacity = count[0] + 8;
    const buf = Buffer.alloc(capacity * 32);
    count[0] = capacity;
    code = await callAsync(n.processes, this.handle, count, buf);
    if (!this.check('processes', code, e)) return e.processes ? { error: e.processes } : undefined;
    const chosen = chooseStride(buf, count[0], this.stride, this.totalMemoryBytes);
    this.stride = chosen.stride;
    return chosen;
  }
}
