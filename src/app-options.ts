// What a caller of buildApp may replace besides the configuration: the clock, the GPU
// source, the disk, the log's randomness. Tests and the demo use these; the server none.
import type { RouteOptions } from 'fastify';
import type { FileIo } from './json-file.js';
import type { StdoutLog } from './log/stdout.js';
import type { GpuSource } from './probes/gpu-poller.js';

export interface AppOptions {
  clock?: () => number;
  /** Sees every route as it is registered (the OpenAPI test checks none is undocumented). */
  onRoute?: (route: RouteOptions) => void;
  /** Labels everything as simulated (the demo). */
  simulated?: boolean;
  /** false in tests that want a quiet console. */
  logger?: boolean;
  /** Where the JSON log goes when `logger` is on (tests give a pipe nobody reads); stdout by default. */
  stdout?: StdoutLog;
  /** Backoff wait between alert delivery attempts (tests make it instant). */
  alertSleep?: (ms: number) => Promise<void>;
  /** Random source of log sampling (seeded in tests). */
  random?: () => number;
  /** false: no GPU, host or event-loop probes (tests of the service layer). */
  probes?: boolean;
  /** How state files are written (tests inject a full or read-only disk). */
  stateIo?: FileIo;
  /** Reads GPUs through this instead of NVML (the demo's simulated GPUs). */
  gpu?: GpuSource;
  /** Runs after the server has closed (the demo stops its simulator here). */
  onClose?: () => Promise<void>;
}
