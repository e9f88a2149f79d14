import { beforeEach, describe, expect, it } from 'vitest';
import { GpuPoller } from '../../src/probes/gpu-poller.js';
import { FIELD, fakeNvml } from '../fake-nvml/build.js';

const MiB = 1024 * 1024;
const fake = fakeNvml('current');
const t0 = 1_800_000_000_000;

beforeEach(() => fake.reset(1));

function poller(extra: ConstructorParameters<typeof GpuPoller>[0] = {}) {
  return new GpuPoller({ library: fake.path, processEveryChecks: 1, ...extra });
}

describe('GPU poller through the koffi binding (fake libnvidia-ml.so)', () => {
  it('reads memory like nvidia-smi (v2: reserved is not used), and every other field', async () => {
    fake.setMemory(0, 81559 * MiB, 74000 * MiB, 479 * MiB);
    fake.setUtil(0, 97, 41);
    fake.setTemp(0, 61);
    fake.setPower(0, 512_345, 700_000);
    fake.setFan(0, 35);
    fake.setEcc(0, 2);
    fake.setPcie(0, 1200, 3400);
    const r = await poller().poll(t0);
    expect(r.available).toBe(true);
    expect(r.driverVersion).toBe('550.54.15-fake');
    const g = r.readings[0]!;
    expect(g).toMatchObject({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3 (fake 0)',
      uuid: 'GPU-fake-0000-0000-0000-000000000000',
      memoryApi: 'v2',
      memoryUsedMiB: 74000,
      memoryTotalMiB: 81559,
      memoryReservedMiB: 479,
      utilizationPercent: 97,
      memoryBandwidthUtilizationPercent: 41,
      temperatureCelsius: 61,
      powerWatts: 512.345,
      powerLimitWatts: 700,
      smClockMHz: 1980,
      memoryClockMHz: 2619,
      fanPercent: 35,
      eccUncorrectedVolatile: 2,
      pcieTxKiBps: 1200,
      pcieRxKiBps: 3400,
      errors: {},
    });
    expect(g.memoryUtilizationPercent).toBeCloseTo((74000 / 81559) * 100, 10);
  });

  it('reads free memory at the moment of a failure: one NVML call per GPU, shared by concurrent callers', async () => {
    fake.reset(2);
    fake.setMemory(0, 24576 * MiB, 10000 * MiB, 0);
    fake.setMemory(1, 24576 * MiB, 20000 * MiB, 452 * MiB);
    const p = poller();
    expect(await p.freeMemoryNow()).toBeNull(); // NVML not started yet: nothing to read
    await p.poll(t0);
    fake.setMemory(0, 24576 * MiB, 24452 * MiB, 0); // memory moved since the check
    const before = fake.calls();
    const burst = await Promise.all(Array.from({ length: 10 }, () => p.freeMemoryNow()));
    expect(fake.calls() - before).toBe(2); // one memory call per GPU for all ten
    expect(burst[9]).toEqual([
      { gpu: 0, freeMiB: 124 },
      { gpu: 1, freeMiB: 4124 },
    ]);
    await p.freeMemoryNow();
    expect(fake.calls() - before).toBe(4); // a later failure reads again
  });

  it('falls back to the v1 calls on an older driver (v1 counts reserved memory as used)', async () => {
    const legacy = fakeNvml('legacy');
    legacy.reset(1);
    legacy.setMemory(0, 81559 * MiB, 845 * MiB, 479 * MiB);
    legacy.setTemp(0, 44);
    const r = await new GpuPoller({ library: legacy.path }).poll(t0);
    expect(r.readings[0]).toMatchObject({ memoryApi: 'v1', memoryUsedMiB: 845 + 479, temperatureCelsius: 44 });
    expect(r.readings[0]!.memoryReservedMiB).toBeUndefined();
  });

  it('leaves a field the board does not support absent, not 0, and not an error', async () => {
    fake.setUnsupported(0, FIELD.FAN | FIELD.ECC | FIELD.PCIE | FIELD.POWER_LIMIT);
    const g = (await poller().poll(t0)).readings[0]!;
    expect('fanPercent' in g).toBe(false);
    expect('eccUncorrectedVolatile' in g).toBe(false);
    expect('pcieTxKiBps' in g).toBe(false);
    expect('powerLimitWatts' in g).toBe(false);
    expect(g.powerWatts).toBe(71);
    expect(g.errors).toEqual({});
  });

  it("sees a 3 s spike between two checks in NVML's sample buffer, and reads each sample once", async () => {
    const p = poller();
    const base = 1_000_000_000; // µs
    // 10 s of samples every 1/6 s: idle, then 3 s at 99 %, then idle.
    for (let k = 0; k <= 60; k++) fake.addSample(0, base + k * 166_667, k > 20 && k <= 38 ? 99 : 3);
    fake.setUtil(0, 3, 1); // the instantaneous reading at check time misses the spike
    const first = (await p.poll(t0)).readings[0]!;
    expect(first.utilizationPercent).toBe(3);
    expect(first.samples).toMatchObject({ count: 61, peakPercent: 99 });
    expect(first.samples!.secondsAbove).toBeCloseTo(3, 1);
    // Next check: only the new samples count.
    for (let k = 61; k <= 66; k++) fake.addSample(0, base + k * 166_667, 50);
    const second = (await p.poll(t0 + 10_000)).readings[0]!;
    expect(second.samples).toMatchObject({ count: 6, peakPercent: 50, meanPercent: 50, secondsAbove: 0 });
    // Nothing new: no summary rather than a stale one.
    expect((await p.poll(t0 + 20_000)).readings[0]!.samples).toBeUndefined();
  });

  it('reports a GPU lost mid-run, re-initialises after backoff, and never throws', async () => {
    fake.reset(2);
    const p = poller();
    expect((await p.poll(t0)).readings).toHaveLength(2);
    fake.setLost(1, 1);
    const lost = await p.poll(t0 + 10_000);
    expect(lost.lost).toEqual([1]);
    expect(lost.readings.map((g) => g.index)).toEqual([0]);
    expect(lost.reason).toContain('GPU 1 lost (GPU_IS_LOST)');
    // Backing off: no new init before the retry time.
    const initsAfterLoss = fake.inits();
    expect((await p.poll(t0 + 15_000)).available).toBe(false);
    expect(fake.inits()).toBe(initsAfterLoss);
    fake.setLost(1, 0);
    const back = await p.poll(t0 + 21_000);
    expect(fake.inits()).toBe(initsAfterLoss + 1);
    expect(back.readings.map((g) => g.index)).toEqual([0, 1]);
    expect(back.reason).toBeUndefined();
  });

  it('says why there is no GPU: driver not loaded, no permission, library missing', async () => {
    fake.setInitResult(9);
    expect((await poller().poll(t0)).reason).toMatch(/^NVIDIA driver not loaded \(Driver Not Loaded\)/);
    fake.setInitResult(4);
    expect((await poller().poll(t0)).reason).toMatch(/^no permission to access the GPU/);
    const missing = await new GpuPoller({ library: '/nonexistent/libnvidia-ml.so.1' }).poll(t0);
    expect(missing).toMatchObject({ available: false, readings: [] });
    expect(missing.reason).toBe('no NVIDIA GPU: /nonexistent/libnvidia-ml.so.1 not found');
  });

  for (const variant of ['current', 'stride32'] as const) {
    it(`decodes running processes with the driver's record layout (${variant === 'current' ? '24' : '32'}-byte records)`, async () => {
      const f = fakeNvml(variant);
      f.reset(1);
      f.addProcess(0, process.pid, 40_000 * MiB);
      f.addProcess(0, 4242, 1_500 * MiB);
      f.addProcess(0, 777, 512 * MiB);
      const r = await new GpuPoller({ library: f.path }).poll(t0);
      expect(r.processes.map((p) => [p.gpu, p.pid, p.usedMemoryBytes! / MiB])).toEqual([
        [0, process.pid, 40_000],
        [0, 4242, 1_500],
        [0, 777, 512],
      ]);
      const me = r.processes[0]!;
      expect(me.command).toContain('node');
      expect(me.user).toBeTruthy();
    });
  }

  it('reads eight GPUs, one at a time, timing each read', async () => {
    fake.reset(8);
    const r = await poller().poll(t0);
    expect(r.readings).toHaveLength(8);
    expect(r.readMs).toHaveLength(8);
  });
});

describe('NOT_SUPPORTED fields', () => {
  it('are asked once, not at every check', async () => {
    fake.reset(1);
    fake.setUnsupported(0, FIELD.FAN | FIELD.ECC);
    const p = new GpuPoller({ library: fake.path, processEveryChecks: 1000 });
    await p.poll(t0);
    const first = fake.calls();
    await p.poll(t0 + 10_000);
    const perCheck = fake.calls() - first;
    await p.poll(t0 + 20_000);
    expect(fake.calls() - first - perCheck).toBe(perCheck);
    // Two fewer calls per check than the first check made for the same fields.
    fake.reset(1);
    const q = new GpuPoller({ library: fake.path, processEveryChecks: 1000 });
    await q.poll(t0);
    const base = fake.calls();
    await q.poll(t0 + 10_000);
    expect(fake.calls() - base).toBe(perCheck + 2);
  });
});

describe('where NVML is looked for', () => {
  it('Linux: the soname; Windows: System32, then the NVSMI folder; NVML_LIBRARY wins', async () => {
    const { libraryCandidates } = await import('../../src/probes/nvml-binding.js');
    expect(libraryCandidates(undefined, 'linux', {})).toEqual(['libnvidia-ml.so.1', 'libnvidia-ml.so']);
    const win = libraryCandidates(undefined, 'win32', { SystemRoot: 'C:\\Windows', ProgramFiles: 'C:\\Program Files' });
    expect(win).toHaveLength(2);
    expect(win[0]).toMatch(/System32.nvml\.dll$/);
    expect(win[1]).toMatch(/NVSMI.nvml\.dll$/);
    expect(libraryCandidates('/opt/nvidia/libnvidia-ml.so.1', 'linux', {})).toEqual(['/opt/nvidia/libnvidia-ml.so.1']);
    expect(libraryCandidates(undefined, 'darwin', {})).toEqual([]);
  });
});
