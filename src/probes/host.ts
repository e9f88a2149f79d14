// The host through /proc (Linux): CPU load and IO wait from /proc/stat deltas, memory
// from MemAvailable, IO pressure from PSI, load averages; inside a container with
// cgroup v2 limits, CPU and memory are measured against the limits, since those are
// what throttle and kill the server. Parsers are pure; HostProbe only reads files.
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  total: number;
  idle: number;
  iowait: number;
}

/** The aggregate "cpu" line of /proc/stat (guest time is already inside user/nice). */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [, , , idle, iowait] = f;
  if (idle === undefined || iowait === undefined || f.some((x) => !Number.isFinite(x))) return undefined;
  return { total: f.reduce((a, b) => a + b, 0), idle, iowait };
}

export function cpuShares(prev: CpuTimes, cur: CpuTimes): { busyPercent: number; ioWaitPercent: number } | undefined {
  const dt = cur.total - prev.total;
  if (dt <= 0) return undefined;
  const dIdle = cur.idle - prev.idle;
  const dWait = cur.iowait - prev.iowait;
  // iowait can step backwards on some kernels (it is a per-CPU estimate): clamp to 0.
  const wait = Math.max(0, dWait);
  return {
    busyPercent: clampPercent(((dt - dIdle - wait) / dt) * 100),
    ioWaitPercent: clampPercent((wait / dt) * 100),
  };
}

export function parseMeminfo(text: string): { totalKiB: number; availableKiB: number } | undefined {
  const get = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const totalKiB = get('MemTotal');
  const availableKiB = get('MemAvailable');
  return totalKiB && availableKiB !== undefined ? { totalKiB, availableKiB } : undefined;
}

/** `some avg10=1.23 avg60=… total=…` → 1.23 */
export function parsePressureSomeAvg10(text: string): number | undefined {
  const m = /^some avg10=([\d.]+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

export function parseLoadavg(text: string): [number, number, number] | undefined {
  const f = text.trim().split(/\s+/).slice(0, 3).map(Number);
  const [one, five, fifteen] = f;
  if (one === undefined || five === undefined || fifteen === undefined || !f.every(Number.isFinite)) return undefined;
  return [one, five, fifteen];
}

/** cgroup v2 cpu.max: "max 100000" (no limit) or "150000 100000" (1.5 CPUs). */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (!quota || quota === 'max' || !period) return undefined;
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined;
}

export function parseCgroupCpuUsageUsec(text: string): number | undefined {
  const m = /^usage_usec (\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** memory.max is "max" or bytes. */
export function parseMemoryMax(text: string): number | undefined {
  const t = text.trim();
  return t === 'max' || !/^\d+$/.test(t) ? undefined : Number(t);
}

export function parseInactiveFile(text: string): number {
  const m = /^inactive_file (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, v));
}

export interface HostReading {
  available: boolean;
  reason?: string;
  cpuLoadPercent?: number;
  ioWaitPercent?: number;
  memoryUtilizationPercent?: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  ioPressureSomeAvg10?: number;
  loadAverage1m?: number;
  loadAverage5m?: number;
  loadAverage15m?: number;
  /** CPUs the cgroup may use, when limited. */
  cpuLimit?: number;
  /** Where memory was measured against. */
  memoryScope?: 'host' | 'cgroup';
}

export interface HostProbeOptions {
  procRoot?: string;
  cgroupRoot?: string;
  platform?: NodeJS.Platform;
}

export class HostProbe {
  private prevCpu: CpuTimes | undefined;
  private prevCgroup: { usageUsec: number; at: number } | undefined;
  private readonly proc: string;
  private readonly cgroup: string;
  private readonly platform: NodeJS.Platform;

  constructor(opts: HostProbeOptions = {}) {
    this.proc = opts.procRoot ?? '/proc';
    this.cgroup = opts.cgroupRoot ?? '/sys/fs/cgroup';
    this.platform = opts.platform ?? process.platform;
  }

  private read(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** One reading; CPU shares need a previous reading, so the first has none. */
  sample(nowMs: number): HostReading {
    if (this.platform !== 'linux')
      return { available: false, reason: `host probes read /proc, which ${this.platform} does not have` };
    const r: HostReading = { available: true };

    const stat = parseProcStat(this.read(`${this.proc}/stat`) ?? '');
    if (stat && this.prevCpu) {
      const s = cpuShares(this.prevCpu, stat);
      if (s) {
        r.cpuLoadPercent = s.busyPercent;
        r.ioWaitPercent = s.ioWaitPercent;
      }
    }
    if (stat) this.prevCpu = stat;

    // Inside a CPU-limited container, load is usage against the limit, not the host.
    const cpuLimit = parseCpuMax(this.read(`${this.cgroup}/cpu.max`) ?? '');
    if (cpuLimit !== undefined) {
      r.cpuLimit = cpuLimit;
      const usage = parseCgroupCpuUsageUsec(this.read(`${this.cgroup}/cpu.stat`) ?? '');
      if (usage !== undefined) {
        if (this.prevCgroup && nowMs > this.prevCgroup.at) {
          const wallUs = (nowMs - this.prevCgroup.at) * 1000;
          r.cpuLoadPercent = clampPercent(((usage - this.prevCgroup.usageUsec) / (wallUs * cpuLimit)) * 100);
        } else {
          delete r.cpuLoadPercent;
        }
        this.prevCgroup = { usageUsec: usage, at: nowMs };
      }
    }

    const mem = parseMeminfo(this.read(`${this.proc}/meminfo`) ?? '');
    if (mem) {
      const totalB = mem.totalKiB * 1024;
      const usedB = (mem.totalKiB - mem.availableKiB) * 1024;
      this.setMemory(r, usedB, totalB, 'host');
      const limit = parseMemoryMax(this.read(`${this.cgroup}/memory.max`) ?? '');
      const current = Number((this.read(`${this.cgroup}/memory.current`) ?? '').trim());
      if (limit !== undefined && limit < totalB && Number.isFinite(current) && current > 0) {
        // What the OOM killer counts: current usage less reclaimable page cache.
        const used = Math.max(0, current - parseInactiveFile(this.read(`${this.cgroup}/memory.stat`) ?? ''));
        this.setMemory(r, used, limit, 'cgroup');
      }
    }

    const psi = parsePressureSomeAvg10(this.read(`${this.proc}/pressure/io`) ?? '');
    if (psi !== undefined) r.ioPressureSomeAvg10 = psi;
    const load = parseLoadavg(this.read(`${this.proc}/loadavg`) ?? '');
    if (load) [r.loadAverage1m, r.loadAverage5m, r.loadAverage15m] = load;
    return r;
  }

  private setMemory(r: HostReading, usedBytes: number, totalBytes: number, scope: 'host' | 'cgroup'): void {
    r.memoryUsedMiB = usedBytes / 1048576;
    r.memoryTotalMiB = totalBytes / 1048576;
    r.memoryUtilizationPercent = clampPercent((usedBytes / totalBytes) * 100);
    r.memoryScope = scope;
  }
}
