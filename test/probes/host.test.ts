import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuShares, HostProbe, parseCpuMax, parseMeminfo, parseProcStat } from '../../src/probes/host.js';

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'host-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

const stat = (user: number, idle: number, iowait: number) =>
  `cpu  ${user} 0 0 ${idle} ${iowait} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n`;
const meminfo = 'MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   24000000 kB\n';

describe('host probe parsers', () => {
  it('computes CPU busy and IO wait shares from /proc/stat deltas', () => {
    const a = parseProcStat(stat(1000, 8000, 1000))!;
    const b = parseProcStat(stat(1600, 8200, 1200))!;
    // Δ total 1000: 600 busy, 200 idle, 200 iowait.
    expect(cpuShares(a, b)).toEqual({ busyPercent: 60, ioWaitPercent: 20 });
    expect(cpuShares(b, b)).toBeUndefined();
  });

  it('takes memory used as total minus MemAvailable', () => {
    expect(parseMeminfo(meminfo)).toEqual({ totalKiB: 32_000_000, availableKiB: 24_000_000 });
  });

  it('reads cgroup v2 cpu.max', () => {
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCpuMax('150000 100000\n')).toBe(1.5);
  });
});

describe('HostProbe', () => {
  it('reports host CPU, IO wait, memory, PSI and load from /proc', () => {
    const proc = fakeRoot({
      stat: stat(1000, 8000, 1000),
      meminfo,
      'pressure/io': 'some avg10=2.50 avg60=1.00 avg300=0.50 total=123\nfull avg10=1.00 avg60=0 avg300=0 total=1\n',
      loadavg: '1.50 0.75 0.25 2/345 6789\n',
    });
    const probe = new HostProbe({ procRoot: proc, cgroupRoot: join(proc, 'no-cgroup'), platform: 'linux' });
    const first = probe.sample(0);
    expect(first.cpuLoadPercent).toBeUndefined(); // needs two readings
    expect(first).toMatchObject({
      memoryUtilizationPercent: 25,
      memoryScope: 'host',
      ioPressureSomeAvg10: 2.5,
      loadAverage1m: 1.5,
      loadAverage15m: 0.25,
    });
    writeFileSync(join(proc, 'stat'), stat(1600, 8200, 1200));
    expect(probe.sample(10_000)).toMatchObject({ cpuLoadPercent: 60, ioWaitPercent: 20 });
  });

  it('measures against the container limits when cgroup v2 sets them', () => {
    const proc = fakeRoot({ stat: stat(1000, 8000, 0), meminfo });
    const cg = fakeRoot({
      'cpu.max': '200000 100000\n',
      'cpu.stat': 'usage_usec 5000000\nuser_usec 1\n',
      'memory.max': String(4 * 1024 ** 3),
      'memory.current': String(3 * 1024 ** 3),
      'memory.stat': `anon 1\ninactive_file ${1024 ** 3}\n`,
    });
    const probe = new HostProbe({ procRoot: proc, cgroupRoot: cg, platform: 'linux' });
    const first = probe.sample(1_000_000);
    expect(first).toMatchObject({
      cpuLimit: 2,
      memoryScope: 'cgroup',
      memoryTotalMiB: 4096,
      memoryUsedMiB: 2048,
      memoryUtilizationPercent: 50,
    });
    // 10 s later the cgroup used 15 CPU-seconds of its 2 CPUs × 10 s = 75 %.
    writeFileSync(join(cg, 'cpu.stat'), 'usage_usec 20000000\n');
    expect(probe.sample(1_010_000).cpuLoadPercent).toBeCloseTo(75, 10);
  });

  it('says the fields are unavailable off Linux', () => {
    expect(new HostProbe({ platform: 'darwin' }).sample(0)).toMatchObject({
      available: false,
      reason: expect.stringContaining('darwin'),
    });
  });

  it('reads this machine: shares between 0 and 100', () => {
    const probe = new HostProbe();
    probe.sample(Date.now());
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += i; // burn a little CPU so the counters move
    const r = probe.sample(Date.now() + 1);
    expect(x).toBeGreaterThan(0);
    expect(r.memoryUtilizationPercent).toBeGreaterThan(0);
    expect(r.memoryUtilizationPercent).toBeLessThan(100);
    if (r.cpuLoadPercent !== undefined) expect(r.cpuLoadPercent).toBeGreaterThanOrEqual(0);
  });
});
