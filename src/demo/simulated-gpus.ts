// Simulated GPUs for the demo, behind the same calls as NVML's poller (GpuSource): boards
// named "(simulated)", utilisation and memory following a target the demo sets (quiet,
// busy, the incident), with noise, temperature and power that follow the load, and
// NVML-like utilisation samples between checks so sample-based rules work. Everything it
// reports says it is simulated (the cards, GET /api/monitor/gpus).
import type { GpuPollResult, GpuSource } from '../probes/gpu-poller.js';
import type { GpuReading } from '../probes/nvml-device.js';
import { summarizeSamples, type UtilSample } from '../probes/nvml-records.js';
import { seededRandom } from './fake-upstream.js';

export interface GpuLoad {
  utilizationPercent: number;
  memoryPercent: number;
}

export interface SimulatedGpusOptions {
  count?: number;
  totalMiB?: number;
  seed?: number;
  /** How often NVML would sample utilisation (an H100: every ~1/6 s). */
  sampleEveryMs?: number;
}

export const SIMULATED_GPU_NAME = 'NVIDIA H100 80GB HBM3 (simulated)';

export class SimulatedGpus implements GpuSource {
  readonly simulated = true;
  private readonly random: () => number;
  private readonly count: number;
  private readonly totalMiB: number;
  private readonly sampleEveryMs: number;
  private target: GpuLoad = { utilizationPercent: 35, memoryPercent: 45 };
  private lastPollAt = 0;
  private last: GpuPollResult = {
    available: false,
    reason: 'simulated GPUs not read yet',
    readings: [],
    lost: [],
    processes: [],
    readMs: [],
  };

  constructor(opts: SimulatedGpusOptions = {}) {
    this.count = opts.count ?? 2;
    this.totalMiB = opts.totalMiB ?? 81_559;
    this.random = seededRandom(opts.seed ?? 11);
    this.sampleEveryMs = opts.sampleEveryMs ?? 167;
  }

  /** Where utilisation and memory head; each GPU wanders a little around it. */
  setLoad(load: GpuLoad): void {
    this.target = load;
  }

  get result(): GpuPollResult {
    return this.last;
  }

  async poll(now: number): Promise<GpuPollResult> {
    const since = this.lastPollAt || now - 10_000;
    this.lastPollAt = now;
    const readings: GpuReading[] = [];
    const samples: Record<string, UtilSample[]> = {};
    for (let i = 0; i < this.count; i++) {
      // The second GPU carries a little less of the model than the first.
      const share = 1 - i * 0.06;
      const noise = (span: number) => (this.random() - 0.5) * span;
      const util = clamp(this.target.utilizationPercent * share + noise(4), 0, 100);
      const mem = clamp(this.target.memoryPercent * share + noise(1), 1, 99.5);
      const s: UtilSample[] = [];
      for (let t = since + this.sampleEveryMs; t <= now; t += this.sampleEveryMs)
        s.push({ ts: t * 1_000, value: Math.round(clamp(util + noise(6), 0, 100)) });
      samples[String(i)] = s;
      const summary = summarizeSamples(s, since * 1_000, 95);
      const usedMiB = Math.round((this.totalMiB * mem) / 100);
      readings.push({
        index: i,
        name: SIMULATED_GPU_NAME,
        uuid: `GPU-simulated-${i}`,
        memoryUsedMiB: usedMiB,
        memoryTotalMiB: this.totalMiB,
        memoryUtilizationPercent: (usedMiB / this.totalMiB) * 100,
        memoryApi: 'v2',
        utilizationPercent: Math.round(util),
        memoryBandwidthUtilizationPercent: Math.round(util * 0.6),
        temperatureCelsius: Math.round(36 + util * 0.42 + noise(2)),
        powerWatts: Math.round(80 + util * 6.1 + noise(10)),
        powerLimitWatts: 700,
        smClockMHz: 1_980,
        memoryClockMHz: 2_619,
        eccUncorrectedVolatile: 0,
        ...(summary ? { samples: summary } : {}),
        errors: {},
      });
    }
    this.last = {
      available: true,
      library: 'simulated',
      driverVersion: 'simulated',
      readings,
      lost: [],
      processes: [],
      readMs: readings.map(() => 0),
      samples,
    };
    return this.last;
  }

  async freeMemoryNow(): Promise<Array<{ gpu: number; freeMiB: number }> | null> {
    return this.last.readings.map((r) => ({ gpu: r.index, freeMiB: (r.memoryTotalMiB ?? 0) - (r.memoryUsedMiB ?? 0) }));
  }

  close(): void {}
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
