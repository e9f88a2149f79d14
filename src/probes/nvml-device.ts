// Reads one GPU through the bound NVML functions. A field the board does not support is
// absent (never 0); any other failure is kept as a readable message; a lost GPU throws.
import { CLOCK_MEM, CLOCK_SM, cString, GPU_UTILIZATION_SAMPLES, MEMORY_V2_VERSION, NVML, PCIE_RX, PCIE_TX, SAMPLE_BYTES, TEMPERATURE_V1_VERSION, type DeviceHandle, type NvmlFunctions } from './nvml-binding.js';
import { chooseStride, decodeSamples, summarizeSamples, type ProcessRecord, type ProcessStride, type SampleSummary } from './nvml-records.js';

const MIB = 1024 * 1024;

export class NvmlCallError extends Error {
  constructor(readonly call: string, readonly nvmlCode: number, message: string) {
    super(`${call}: ${message} (NVML ${nvmlCode})`);
  }
}

export class GpuLostError extends NvmlCallError {}

export interface GpuReading {
  index: number;
  name?: string;
  uuid?: string;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  memoryReservedMiB?: number;
  memoryUtilizationPercent?: number;
  /** Which call gave the memory numbers: v2 matches nvidia-smi, v1 counts reserved as used. */
  memoryApi?: 'v2' | 'v1';
  utilizationPercent?: number;
  memoryBandwidthUtilizationPercent?: number;
  temperatureCelsius?: number;
  powerWatts?: number;
  powerLimitWatts?: number;
  smClockMHz?: number;
  memoryClockMHz?: number;
  fanPercent?: number;
  eccUncorrectedVolatile?: number;
  pcieTxKiBps?: number;
  pcieRxKiBps?: number;
  samples?: SampleSummary;
  /** Calls that failed for a reason other than "not supported". */
  errors: Record<string, string>;
}

export class NvmlDevice {
  private lastSampleTs = 0;
  private stride: ProcessStride;
  private name: string | undefined;
  private uuid: string | undefined;
  private totalMemoryBytes = Number.MAX_SAFE_INTEGER;

  constructor(private readonly nvml: NvmlFunctions, readonly index: number, readonly handle: DeviceHandle) {
    this.stride = nvml.hasConfidentialComputing ? 32 : 24;
  }

  /** The result of one call: undefined for NOT_SUPPORTED, throws for a lost GPU. */
  private check(call: string, code: number, errors: Record<string, string>): boolean {
    if (code === NVML.SUCCESS) return true;
    if (code === NVML.ERROR_NOT_SUPPORTED) return false;
    const message = this.nvml.errorString(code);
    if (code === NVML.ERROR_GPU_IS_LOST) throw new GpuLostError(call, code, message);
    errors[call] = `${message} (NVML ${code})`;
    return false;
  }

  read(utilThresholdPercent: number): GpuReading {
    const n = this.nvml;
    const h = this.handle;
    const r: GpuReading = { index: this.index, errors: {} };
    const e = r.errors;
    const u32: [number] = [0];

    if (this.name === undefined) {
      const buf = Buffer.alloc(96);
      if (this.check('name', n.name(h, buf, buf.length), e)) this.name = cString(buf);
      const ubuf = Buffer.alloc(96);
      if (this.check('uuid', n.uuid(h, ubuf, ubuf.length), e)) this.uuid = cString(ubuf);
    }
    if (this.name !== undefined) r.name = this.name;
    if (this.uuid !== undefined) r.uuid = this.uuid;

    let memoryRead = false;
    if (n.memoryV2) {
      const m = { version: MEMORY_V2_VERSION, total: 0, reserved: 0, free: 0, used: 0 };
      const code = n.memoryV2(h, m);
      // An old driver may export the symbol yet reject the struct version: fall back.
      if (code !== NVML.ERROR_ARGUMENT_VERSION_MISMATCH && code !== NVML.ERROR_FUNCTION_NOT_FOUND && this.check('memory', code, e)) {
        this.setMemory(r, Number(m.used), Number(m.total), Number(m.reserved), 'v2');
        memoryRead = true;
      }
    }
    if (!memoryRead && !('memory' in e)) {
      const m = { total: 0, free: 0, used: 0 };
      if (this.check('memory', n.memoryV1(h, m), e)) this.setMemory(r, Number(m.used), Number(m.total), undefined, 'v1');
    }

    const util = { gpu: 0, memory: 0 };
    if (this.check('utilization', n.utilization(h, util), e)) {
      r.utilizationPercent = util.gpu;
      r.memoryBandwidthUtilizationPercent = util.memory;
    }

    let tempRead = false;
    if (n.temperatureV) {
      const t = { version: TEMPERATURE_V1_VERSION, sensorType: 0, temperature: 0 };
      const code = n.temperatureV(h, t);
      if (code !== NVML.ERROR_ARGUMENT_VERSION_MISMATCH && code !== NVML.ERROR_FUNCTION_NOT_FOUND && this.check('temperature', code, e)) {
        r.temperatureCelsius = t.temperature;
        tempRead = true;
      }
    }
    if (!tempRead && !('temperature' in e) && this.check('temperature', n.temperature(h, 0, u32), e)) r.temperatureCelsius = u32[0];

    if (this.check('power', n.power(h, u32), e)) r.powerWatts = u32[0] / 1000;
    if (this.check('powerLimit', n.powerLimit(h, u32), e)) r.powerLimitWatts = u32[0] / 1000;
    if (this.check('smClock', n.clock(h, CLOCK_SM, u32), e)) r.smClockMHz = u32[0];
    if (this.check('memoryClock', n.clock(h, CLOCK_MEM, u32), e)) r.memoryClockMHz = u32[0];
    if (this.check('fan', n.fan(h, u32), e)) r.fanPercent = u32[0];
    const u64: [number | bigint] = [0];
    if (this.check('ecc', n.eccTotal(h, 1 /* uncorrected */, 0 /* volatile */, u64), e)) r.eccUncorrectedVolatile = Number(u64[0]);
    if (this.check('pcieTx', n.pcie(h, PCIE_TX, u32), e)) r.pcieTxKiBps = u32[0];
    if (this.check('pcieRx', n.pcie(h, PCIE_RX, u32), e)) r.pcieRxKiBps = u32[0];

    const samples = this.readSamples(utilThresholdPercent, e);
    if (samples) r.samples = samples;
    return r;
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
  private readSamples(threshold: number, e: Record<string, string>): SampleSummary | undefined {
    const n = this.nvml;
    const valType: [number] = [0];
    const count: [number] = [0];
    if (!this.check('samples', n.samples(this.handle, GPU_UTILIZATION_SAMPLES, 0, valType, count, null), e)) return undefined;
    if (count[0] === 0) return undefined;
    const buf = Buffer.alloc(count[0] * SAMPLE_BYTES);
    const code = n.samples(this.handle, GPU_UTILIZATION_SAMPLES, this.lastSampleTs, valType, count, buf);
    if (code === NVML.ERROR_NOT_FOUND) return undefined; // nothing new since the cursor
    if (!this.check('samples', code, e)) return undefined;
    const summary = summarizeSamples(decodeSamples(buf, count[0]), this.lastSampleTs, threshold);
    if (summary) this.lastSampleTs = summary.lastTs;
    return summary ?? undefined;
  }

  /** Running compute processes and their GPU memory (a slower cadence than read()). */
  processes(): { records: ProcessRecord[]; stride: ProcessStride } | { error: string } | undefined {
    const n = this.nvml;
    const count: [number] = [0];
    const e: Record<string, string> = {};
    let code = n.processes(this.handle, count, null);
    if (code === NVML.SUCCESS && count[0] === 0) return { records: [], stride: this.stride };
    if (code !== NVML.ERROR_INSUFFICIENT_SIZE && !this.check('processes', code, e)) return e.processes ? { error: e.processes } : undefined;
    // Room for processes that start between the two calls, at the larger stride.
    const capacity = count[0] + 8;
    const buf = Buffer.alloc(capacity * 32);
    count[0] = capacity;
    code = n.processes(this.handle, count, buf);
    if (!this.check('processes', code, e)) return e.processes ? { error: e.processes } : undefined;
    const chosen = chooseStride(buf, count[0], this.stride, this.totalMemoryBytes);
    this.stride = chosen.stride;
    return chosen;
  }
}
