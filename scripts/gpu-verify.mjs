// Verification on a real NVIDIA GPU: runs the Monitor's GPU poller at a 10 s check
// interval next to nvidia-smi and pynvml while scripts/gpu-load.py fills 92 % of memory,
// makes a 3 s spike between two checks, then a sustained load. Prints a table; writes
// the raw readings to $OUT/gpu-verify.json when OUT is set.
//   npm run build && node scripts/gpu-verify.mjs
import { execFile as execFileCb, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GpuPoller } from '../dist/probes/gpu-poller.js';
import { loadNvml } from '../dist/probes/nvml-binding.js';
import { NvmlDevice } from '../dist/probes/nvml-device.js';

// Async child processes: the event-loop delay measured below is then the poller's own.
const execFile = promisify(execFileCb);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function nvidiaSmi() {
  const { stdout: out } = await execFile('nvidia-smi', ['--query-gpu=index,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => {
    const [index, used, total, util, temp, power] = l.split(',').map((s) => Number(s.trim()));
    return { index, memoryUsedMiB: used, memoryTotalMiB: total, utilizationPercent: util, temperatureCelsius: temp, powerWatts: power };
  });
}

const PYNVML = `
import json, pynvml
pynvml.nvmlInit()
out = []
for i in range(pynvml.nvmlDeviceGetCount()):
    h = pynvml.nvmlDeviceGetHandleByIndex(i)
    try:
        m = pynvml.nvmlDeviceGetMemoryInfo(h, version=pynvml.nvmlMemory_v2)
        api = "v2"
    except Exception:
        m = pynvml.nvmlDeviceGetMemoryInfo(h)
        api = "v1"
    u = pynvml.nvmlDeviceGetUtilizationRates(h)
    out.append({"index": i, "memoryUsedMiB": m.used / 2**20, "api": api, "utilizationPercent": u.gpu,
                "temperatureCelsius": pynvml.nvmlDeviceGetTemperature(h, 0)})
print(json.dumps(out))
`;
async function pynvml() {
  try {
    return JSON.parse((await execFile('python3', ['-c', PYNVML], { encoding: 'utf8' })).stdout);
  } catch (err) {
    return [{ error: String(err.message).split('\n')[0] }];
  }
}

async function main() {
  const poller = new GpuPoller({ processEveryChecks: 1 });
  const rows = [];
  const first = await poller.poll(Date.now());
  if (!first.available) throw new Error(`no GPU: ${first.reason}`);
  console.log(`driver ${first.driverVersion}, ${first.readings.length} GPU(s): ${first.readings.map((g) => g.name).join(', ')}`);

  // Per-sample cost: every field of one GPU, read back to back.
  const nvml = loadNvml();
  nvml.init();
  const handle = [null];
  nvml.handleByIndex(0, handle);
  const dev = new NvmlDevice(nvml, 0, handle[0]);
  dev.read(95);
  const costs = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    dev.read(95);
    costs.push(performance.now() - t);
  }
  const sorted = [...costs].sort((a, b) => a - b);
  console.log(`one sample of all fields, GPU 0: median ${median(costs).toFixed(3)} ms, p99 ${sorted[Math.floor(0.99 * 499)].toFixed(3)} ms, max ${sorted.at(-1).toFixed(3)} ms (500 samples, idle GPU)`);

  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const load = spawn('python3', ['scripts/gpu-load.py'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const log = [];
  let allocatedAt = 0;
  load.stdout.setEncoding('utf8');
  load.stdout.on('data', (d) => {
    for (const line of d.trim().split('\n')) {
      log.push({ t: Date.now(), line });
      console.log(`  [load] ${line}`);
      if (line.startsWith('allocated')) allocatedAt = Date.now();
    }
  });
  while (!allocatedAt) await sleep(50);
  // Checks at 10 s intervals: the spike (11–14 s) falls between check 1 and check 2.
  const checkAt = [10_500, 20_500, 30_500];
  for (const [k, at] of checkAt.entries()) {
    await sleep(Math.max(0, allocatedAt + at - Date.now()));
    const t0 = performance.now();
    const r = await poller.poll(Date.now());
    const pollMs = performance.now() - t0;
    const [smi, py] = await Promise.all([nvidiaSmi(), pynvml()]);
    const g = r.readings[0];
    rows.push({ check: k + 1, atMs: at, pollMs, readMs: r.readMs, ours: g, smi: smi[0], pynvml: py[0], processes: r.processes });
  }
  await new Promise((r) => load.on('exit', r));
  lag.disable();

  console.log('\n| check | t (s) | memory used MiB: ours / nvidia-smi / pynvml | util %: ours / smi | NVML samples since last check: peak / mean / s ≥95 % | temp °C: ours / smi | power W: ours / smi |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const o = r.ours;
    console.log(`| ${r.check} | ${(r.atMs / 1000).toFixed(1)} | ${o.memoryUsedMiB.toFixed(1)} / ${r.smi.memoryUsedMiB} / ${r.pynvml.memoryUsedMiB?.toFixed(1)} (${r.pynvml.api}) | ${o.utilizationPercent} / ${r.smi.utilizationPercent} | ${o.samples ? `${o.samples.peakPercent} / ${o.samples.meanPercent.toFixed(1)} / ${o.samples.secondsAbove.toFixed(2)} (${o.samples.count} samples)` : '—'} | ${o.temperatureCelsius} / ${r.smi.temperatureCelsius} | ${o.powerWatts?.toFixed(1)} / ${r.smi.powerWatts} |`);
  }
  const procs = rows.at(-1).processes;
  console.log(`\nprocesses on GPU 0 at the last check: ${procs.map((p) => `pid ${p.pid} ${(p.usedMemoryBytes / 2 ** 20).toFixed(0)} MiB ${p.user ?? ''} "${p.command ?? ''}"`).join('; ') || 'none'}`);
  console.log(`poll() per check: ${rows.map((r) => r.pollMs.toFixed(2)).join(', ')} ms (includes the process list); longest single GPU read: ${Math.max(...rows.flatMap((r) => r.readMs)).toFixed(3)} ms`);
  console.log(`event-loop delay during the load run (poller + async nvidia-smi/pynvml children): max ${(lag.max / 1e6).toFixed(2)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(2)} ms`);
  if (process.env.OUT) writeFileSync(`${process.env.OUT}/gpu-verify.json`, JSON.stringify({ first, costs, rows, log }, null, 1));
  poller.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
