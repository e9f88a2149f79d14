// The one file that speaks to libnvidia-ml through koffi: C prototypes, struct layouts
// and the library search. Everything above it sees plain numbers and NVML return codes.
// (ffi-napi does not build on Node >= 20.12 and no maintained NVML package exists.)
import koffi, { type KoffiFunc } from 'koffi';
import { join } from 'node:path';
import { wordReason, type ReasonPart } from '../reasons.js';

/** NVML return codes we act on (nvml.h, nvmlReturn_t). */
export const NVML = {
  SUCCESS: 0,
  ERROR_UNINITIALIZED: 1,
  ERROR_INVALID_ARGUMENT: 2,
  ERROR_NOT_SUPPORTED: 3,
  ERROR_NO_PERMISSION: 4,
  ERROR_NOT_FOUND: 6,
  ERROR_INSUFFICIENT_SIZE: 7,
  ERROR_DRIVER_NOT_LOADED: 9,
  ERROR_LIBRARY_NOT_FOUND: 12,
  ERROR_FUNCTION_NOT_FOUND: 13,
  ERROR_GPU_IS_LOST: 15,
  ERROR_ARGUMENT_VERSION_MISMATCH: 25,
  ERROR_UNKNOWN: 999,
} as const;

export const CLOCK_SM = 1;
export const CLOCK_MEM = 2;
export const GPU_UTILIZATION_SAMPLES = 1;
export const PCIE_TX = 0;
export const PCIE_RX = 1;
/** Size of one nvmlSample_t: unsigned long long timeStamp + an 8-byte nvmlValue_t union. */
export const SAMPLE_BYTES = 16;

type Out<T> = [T];
export type DeviceHandle = unknown;

/**
 * A bound C function with its TypeScript signature, and koffi's `.async` form of it (the
 * same call on a worker thread). koffi's own `func()` returns an untyped function, which
 * fits any of these: the signatures below are checked against the prototypes by the tests
 * that call them against the fake library.
 */
type Bound<A extends unknown[], R> = KoffiFunc<(...args: A) => R>;

/** The raw functions, typed. Optional ones are undefined when the driver lacks them. */
export interface NvmlFunctions {
  path: string;
  init: Bound<[], number>;
  shutdown: Bound<[], number>;
  errorString: Bound<[code: number], string>;
  driverVersion: Bound<[buf: Buffer, len: number], number>;
  deviceCount: Bound<[out: Out<number>], number>;
  handleByIndex: Bound<[index: number, out: Out<DeviceHandle>], number>;
  name: Bound<[dev: DeviceHandle, buf: Buffer, len: number], number>;
  uuid: Bound<[dev: DeviceHandle, buf: Buffer, len: number], number>;
  memoryV1: Bound<[dev: DeviceHandle, out: { total: number; free: number; used: number }], number>;
  memoryV2?:
    | Bound<
        [dev: DeviceHandle, inout: { version: number; total: number; reserved: number; free: number; used: number }],
        number
      >
    | undefined;
  utilization: Bound<[dev: DeviceHandle, out: { gpu: number; memory: number }], number>;
  temperature: Bound<[dev: DeviceHandle, sensor: number, out: Out<number>], number>;
  temperatureV?:
    | Bound<[dev: DeviceHandle, inout: { version: number; sensorType: number; temperature: number }], number>
    | undefined;
  power: Bound<[dev: DeviceHandle, out: Out<number>], number>;
  powerLimit: Bound<[dev: DeviceHandle, out: Out<number>], number>;
  clock: Bound<[dev: DeviceHandle, type: number, out: Out<number>], number>;
  fan: Bound<[dev: DeviceHandle, out: Out<number>], number>;
  eccTotal: Bound<[dev: DeviceHandle, errorType: number, counterType: number, out: Out<number | bigint>], number>;
  pcie: Bound<[dev: DeviceHandle, counter: number, out: Out<number>], number>;
  samples: Bound<
    [dev: DeviceHandle, type: number, lastSeen: number, valType: Out<number>, count: Out<number>, buf: Buffer | null],
    number
  >;
  processes: Bound<[dev: DeviceHandle, count: Out<number>, buf: Buffer | null], number>;
  /** Present in drivers that report confidential-computing memory (and 32-byte process records). */
  hasConfidentialComputing: boolean;
}

/** nvmlMemory_v2_t.version: sizeof(struct) | (2 << 24). */
export const MEMORY_V2_VERSION = 40 | (2 << 24);
/** nvmlTemperature_v1_t.version: sizeof(struct) | (1 << 24). */
export const TEMPERATURE_V1_VERSION = 12 | (1 << 24);

/** Where the library is looked for, in order. */
export function libraryCandidates(
  override: string | undefined,
  platform = process.platform,
  env = process.env,
): string[] {
  if (override) return [override];
  if (platform === 'win32') {
    const systemRoot = env.SystemRoot ?? 'C:\\Windows';
    const programFiles = env.ProgramFiles ?? 'C:\\Program Files';
    return [join(systemRoot, 'System32', 'nvml.dll'), join(programFiles, 'NVIDIA Corporation', 'NVSMI', 'nvml.dll')];
  }
  if (platform === 'linux') return ['libnvidia-ml.so.1', 'libnvidia-ml.so'];
  return [];
}

let typesDeclared = false;
function declareTypes(): void {
  if (typesDeclared) return;
  koffi.pointer('nvmlDevice_t', koffi.opaque('nvmlDevice_st'));
  koffi.struct('nvmlMemory_t', { total: 'unsigned long long', free: 'unsigned long long', used: 'unsigned long long' });
  koffi.struct('nvmlMemory_v2_t', {
    version: 'unsigned int',
    total: 'unsigned long long',
    reserved: 'unsigned long long',
    free: 'unsigned long long',
    used: 'unsigned long long',
  });
  koffi.struct('nvmlUtilization_t', { gpu: 'unsigned int', memory: 'unsigned int' });
  koffi.struct('nvmlTemperature_t', { version: 'unsigned int', sensorType: 'int', temperature: 'int' });
  typesDeclared = true;
}

export class NvmlLoadError extends Error {
  readonly code = 'NVML_LIBRARY_NOT_FOUND';
  /** What it means to the operator, as the Monitor's cards say it (src/reasons.ts). */
  readonly reason: ReasonPart;

  constructor(reason: ReasonPart) {
    super(wordReason([reason]));
    this.reason = reason;
  }
}

/** Loads the library and binds every function; throws NvmlLoadError naming what was tried. */
export function loadNvml(override?: string): NvmlFunctions {
  const candidates = libraryCandidates(override);
  if (candidates.length === 0)
    throw new NvmlLoadError({ code: 'NVML_NOT_ON_PLATFORM', params: { platform: process.platform } });
  let lib: ReturnType<typeof koffi.load> | undefined;
  let path = '';
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      lib = koffi.load(candidate);
      path = candidate;
      break;
    } catch (err) {
      failures.push(`${candidate}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!lib) {
    // The usual case, no driver at all, reads short; anything stranger keeps its details.
    const missing = failures.every((f) => /No such file|cannot find|not found|could not be found/i.test(f));
    throw new NvmlLoadError(
      missing
        ? { code: 'NVML_NOT_FOUND', params: { library: candidates[0] ?? 'libnvidia-ml.so.1' } }
        : { code: 'NVML_NOT_LOADABLE', params: { detail: failures.join('; ') } },
    );
  }
  declareTypes();
  const l = lib;
  const optional = (proto: string) => {
    try {
      return l.func(proto);
    } catch {
      return undefined; // an older driver without this symbol
    }
  };
  const f = (proto: string) => l.func(proto);
  const memoryV2 = optional('int nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, _Inout_ nvmlMemory_v2_t *memory)');
  const temperatureV = optional(
    'int nvmlDeviceGetTemperatureV(nvmlDevice_t device, _Inout_ nvmlTemperature_t *temperature)',
  );
  return {
    path,
    init: f('int nvmlInit_v2()'),
    shutdown: f('int nvmlShutdown()'),
    errorString: f('const char *nvmlErrorString(int result)'),
    driverVersion: f('int nvmlSystemGetDriverVersion(_Out_ char *version, unsigned int length)'),
    deviceCount: f('int nvmlDeviceGetCount_v2(_Out_ unsigned int *count)'),
    handleByIndex: f('int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ nvmlDevice_t *device)'),
    name: f('int nvmlDeviceGetName(nvmlDevice_t device, _Out_ char *name, unsigned int length)'),
    uuid: f('int nvmlDeviceGetUUID(nvmlDevice_t device, _Out_ char *uuid, unsigned int length)'),
    memoryV1: f('int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, _Out_ nvmlMemory_t *memory)'),
    ...(memoryV2 ? { memoryV2 } : {}),
    utilization: f('int nvmlDeviceGetUtilizationRates(nvmlDevice_t device, _Out_ nvmlUtilization_t *utilization)'),
    temperature: f('int nvmlDeviceGetTemperature(nvmlDevice_t device, int sensorType, _Out_ unsigned int *temp)'),
    ...(temperatureV ? { temperatureV } : {}),
    power: f('int nvmlDeviceGetPowerUsage(nvmlDevice_t device, _Out_ unsigned int *power)'),
    powerLimit: f('int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, _Out_ unsigned int *limit)'),
    clock: f('int nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, _Out_ unsigned int *clock)'),
    fan: f('int nvmlDeviceGetFanSpeed(nvmlDevice_t device, _Out_ unsigned int *speed)'),
    eccTotal: f(
      'int nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int errorType, int counterType, _Out_ unsigned long long *eccCounts)',
    ),
    pcie: f('int nvmlDeviceGetPcieThroughput(nvmlDevice_t device, int counter, _Out_ unsigned int *value)'),
    samples: f(
      'int nvmlDeviceGetSamples(nvmlDevice_t device, int type, unsigned long long lastSeenTimeStamp, _Out_ int *sampleValType, _Inout_ unsigned int *sampleCount, void *samples)',
    ),
    processes: f(
      'int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, _Inout_ unsigned int *infoCount, void *infos)',
    ),
    hasConfidentialComputing:
      optional('int nvmlDeviceGetConfComputeMemSizeInfo(nvmlDevice_t device, void *info)') !== undefined,
  };
}

/**
 * Runs a bound function on koffi's worker threads: NVML calls can take tens of
 * milliseconds (PCIe throughput samples for 20 ms; drivers stall while another process
 * allocates), and none of that may block the event loop. Output arrays and objects are
 * filled in before the promise resolves.
 */
export function callAsync<A extends unknown[]>(fn: Bound<A, number>, ...args: A): Promise<number> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: number) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(result);
    });
  });
}

/** A NUL-terminated C string out of a buffer. */
export function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}
