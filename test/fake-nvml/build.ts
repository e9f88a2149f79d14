// Compiles the fake libnvidia-ml.so variants with the machine's cc (once per source
// version) and gives tests a koffi handle on its control functions.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

const SOURCE = fileURLToPath(new URL('./fake_nvml.c', import.meta.url));
export type Variant = 'current' | 'legacy' | 'stride32';
const FLAGS: Record<Variant, string[]> = { current: [], legacy: ['-DFAKE_LEGACY'], stride32: ['-DFAKE_STRIDE32'] };

export function buildFakeNvml(variant: Variant): string {
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `fake-nvml-${hash}`);
  const out = join(dir, `libnvidia-ml-${variant}.so`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-Wall', '-Werror', ...FLAGS[variant], '-o', tmp, SOURCE]);
  renameSync(tmp, out); // atomic: parallel test workers never load a half-written file
  return out;
}

export interface FakeNvml {
  path: string;
  reset(count: number): void;
  setInitResult(code: number): void;
  setMemory(i: number, total: number, used: number, reserved: number): void;
  setUtil(i: number, gpu: number, mem: number): void;
  setTemp(i: number, c: number): void;
  setPower(i: number, mw: number, limitMw: number): void;
  setFan(i: number, pct: number): void;
  setEcc(i: number, n: number): void;
  setPcie(i: number, tx: number, rx: number): void;
  setUnsupported(i: number, mask: number): void;
  setLost(i: number, lost: number): void;
  addSample(i: number, tsUs: number, value: number): void;
  addProcess(i: number, pid: number, mem: number): void;
  calls(): number;
  inits(): number;
}

export const FIELD = {
  MEMORY: 1,
  UTIL: 2,
  TEMP: 4,
  POWER: 8,
  POWER_LIMIT: 16,
  CLOCKS: 32,
  FAN: 64,
  ECC: 128,
  PCIE: 256,
  SAMPLES: 512,
  PROCS: 1024,
};

export function fakeNvml(variant: Variant = 'current'): FakeNvml {
  const path = buildFakeNvml(variant);
  const lib = koffi.load(path);
  return {
    path,
    reset: lib.func('void fake_reset(int count)'),
    setInitResult: lib.func('void fake_set_init_result(int code)'),
    setMemory: lib.func(
      'void fake_set_memory(int i, unsigned long long total, unsigned long long used, unsigned long long reserved)',
    ),
    setUtil: lib.func('void fake_set_util(int i, unsigned int gpu, unsigned int mem)'),
    setTemp: lib.func('void fake_set_temp(int i, unsigned int c)'),
    setPower: lib.func('void fake_set_power(int i, unsigned int mw, unsigned int limit_mw)'),
    setFan: lib.func('void fake_set_fan(int i, unsigned int pct)'),
    setEcc: lib.func('void fake_set_ecc(int i, unsigned long long n)'),
    setPcie: lib.func('void fake_set_pcie(int i, unsigned int tx, unsigned int rx)'),
    setUnsupported: lib.func('void fake_set_unsupported(int i, int mask)'),
    setLost: lib.func('void fake_set_lost(int i, int lost)'),
    addSample: lib.func('void fake_add_sample(int i, unsigned long long ts_us, unsigned int value)'),
    addProcess: lib.func('void fake_add_process(int i, unsigned int pid, unsigned long long mem)'),
    calls: lib.func('long fake_calls()'),
    inits: lib.func('int fake_inits()'),
  };
}
