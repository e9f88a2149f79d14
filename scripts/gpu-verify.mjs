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
import { loadNvml, MEMORY_V2_VERSION, TEMPERATURE_V1_VERSION } from '../dist/probes/nvml-binding.js';
import { NvmlDevice } from '../dist/probes/nvml-device.js';
import { sampleRuns } from '../dist/probes/nvml-records.js';

// Async child processes: the event-loop delay measured below is then the poller's own.
const execFile = promisify(execFileCb);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function nvidiaSmi() {
  const { stdout: out } = await execFile(
    'nvidia-smi',
    [
      '--query-gpu=index,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw',
      '--format=csv,noheader,nounits',
    ],
    { encoding: 'utf8' },
  );
  return out
    .trim()
    .split('\n')
    .map((l) => {
      const [index, used, total, util, temp, power] = l.split(',').map((s) => Number(s.trim()));
      return {
        index,
        memoryUsedMiB: used,
        memoryTotalMiB: total,
        utilizationPercent: util,
        temperatureCelsius: temp,
        powerWatts: power,
      };
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
  console.log(
    `driver ${first.driverVersion}, ${first.readings.length} GPU(s): ${first.readings.map((g) => g.name).join(', ')}`,
  );

  // Cost of each NVML call, called synchronously here (20 each, median): which are cheap,
  // which are not. The poller itself makes every call on koffi's worker threads.
  const nvml = loadNvml();
  nvml.init();
  const handle = [null];
  nvml.handleByIndex(0, handle);
  const h = handle[0];
  const u32 = [0];
  const u64 = [0];
  const calls = {
    'memory v2': () => nvml.memoryV2(h, { version: MEMORY_V2_VERSION, total: 0, reserved: 0, free: 0, used: 0 }),
    'memory v1': () => nvml.memoryV1(h, { total: 0, free: 0, used: 0 }),
    utilization: () => nvml.utilization(h, { gpu: 0, memory: 0 }),
    'temperature V': () =>
      nvml.temperatureV ? nvml.temperatureV(h, { version: TEMPERATURE_V1_VERSION, sensorType: 0, temperature: 0 }) : -1,
    temperature: () => nvml.temperature(h, 0, u32),
    power: () => nvml.power(h, u32),
    'power limit': () => nvml.powerLimit(h, u32),
    'SM clock': () => nvml.clock(h, 1, u32),
    fan: () => nvml.fan(h, u32),
    'ECC uncorrected': () => nvml.eccTotal(h, 1, 0, u64),
    'PCIe TX': () => nvml.pcie(h, 0, u32),
    'samples (size)': () => nvml.samples(h, 1, 0, [0], [0], null),
    'processes (count)': () => nvml.processes(h, [0], null),
  };
  console.log('\n| NVML call (sync, GPU 0, idle) | median ms | max ms | return |');
  console.log('|---|---:|---:|---:|');
  const perCall = {};
  for (const [name, fn] of Object.entries(calls)) {
    const times = [];
    let code = 0;
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      code = fn();
      times.push(performance.now() - t);
    }
    perCall[name] = { median: median(times), max: Math.max(...times), code };
    console.log(`| ${name} | ${median(times).toFixed(4)} | ${Math.max(...times).toFixed(4)} | ${code} |`);
  }

  // A whole sample of every field as the poller takes it (async calls, one after another).
  const dev = new NvmlDevice(nvml, 0, h);
  await dev.read(95, true);
  const costs = [];
  const blockLag = monitorEventLoopDelay({ resolution: 1 });
  blockLag.enable();
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await dev.read(95, false);
    costs.push(performance.now() - t);
  }
  blockLag.disable();
  const sorted = [...costs].sort((a, b) => a - b);
  console.log(
    `\none sample of all fields (async, GPU 0, idle): median ${median(costs).toFixed(3)} ms wall, p99 ${sorted[Math.floor(0.99 * 199)].toFixed(3)} ms; event-loop delay meanwhile: max ${(blockLag.max / 1e6).toFixed(2)} ms`,
  );
  const syncSum = Object.entries(perCall)
    .filter(([k]) => !['memory v1', 'temperature', 'PCIe TX', 'processes (count)'].includes(k))
    .reduce((a, [, v]) => a + v.median, 0);
  console.log(`sum of the per-check calls' sync medians: ${syncSum.toFixed(3)} ms (CPU cost of one sample)`);

  // The whole server too: its own GPU poller, ticked at the same checks, with a
  // sample-based rule that should see the spike between checks 1 and 2.
  const { buildApp } = await import('../dist/app.js');
  const { loadConfig } = await import('../dist/config.js');
  const built = await buildApp(loadConfig({ DATA_DIR: '/tmp/gpu-verify-data', LOG_LEVEL: 'silent' }), {
    logger: false,
  });
  await built.app.ready();
  for (const r of built.alerts.rules) built.alerts.deleteRule(r.id);
  built.alerts.addRule({
    name: 'GPU busy ≥ 95 % for 1 s between checks',
    metric: 'gpu_utilization_percent',
    op: '>=',
    threshold: 95,
    sampleSeconds: 1,
    severity: 'critical',
    channels: ['console'],
  });
  await built.monitor.tick(Date.now());
  // Started before the event-loop delay is measured: importing the app is not the poller's cost.
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
  const alertStates = [];
  const checkAt = [10_500, 20_500, 30_500];
  for (const [k, at] of checkAt.entries()) {
    await sleep(Math.max(0, allocatedAt + at - Date.now()));
    const t0 = performance.now();
    const r = await poller.poll(Date.now());
    const pollMs = performance.now() - t0;
    const [smi, py] = await Promise.all([nvidiaSmi(), pynvml()]);
    const g = r.readings[0];
    const run = r.samples?.['0'] ? sampleRuns(r.samples['0'], (v) => v >= 95, null).longestSeconds : 0;
    rows.push({
      check: k + 1,
      atMs: at,
      pollMs,
      readMs: r.readMs,
      ours: g,
      smi: smi[0],
      pynvml: py[0],
      processes: r.processes,
      longestRunAbove95: run,
    });
    await built.monitor.tick(Date.now());
    alertStates.push(
      built.alerts
        .active()
        .map((a) => `${a.state}`)
        .join(',') || 'inactive',
    );
  }
  await new Promise((r) => load.on('exit', r));
  lag.disable();

  console.log(
    '\n| check | t (s) | memory used MiB: ours / nvidia-smi / pynvml | util %: ours / smi | NVML samples since last check: peak / mean / s ≥95 % | temp °C: ours / smi | power W: ours / smi |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const o = r.ours;
    console.log(
      `| ${r.check} | ${(r.atMs / 1000).toFixed(1)} | ${o.memoryUsedMiB.toFixed(1)} / ${r.smi.memoryUsedMiB} / ${r.pynvml.memoryUsedMiB?.toFixed(1)} (${r.pynvml.api}) | ${o.utilizationPercent} / ${r.smi.utilizationPercent} | ${o.samples ? `${o.samples.peakPercent} / ${o.samples.meanPercent.toFixed(1)} / ${o.samples.secondsAbove.toFixed(2)} (${o.samples.count} samples)` : '—'} | ${o.temperatureCelsius} / ${r.smi.temperatureCelsius} | ${o.powerWatts?.toFixed(1)} / ${r.smi.powerWatts} |`,
    );
  }
  const procs = rows.at(-1).processes;
  console.log(
    `\nprocesses on GPU 0 at the last check: ${procs.map((p) => `pid ${p.pid} ${(p.usedMemoryBytes / 2 ** 20).toFixed(0)} MiB ${p.user ?? ''} "${p.command ?? ''}"`).join('; ') || 'none'}`,
  );
  console.log(
    `poll() per check: ${rows.map((r) => r.pollMs.toFixed(2)).join(', ')} ms (includes the process list); longest single GPU read: ${Math.max(...rows.flatMap((r) => r.readMs)).toFixed(3)} ms`,
  );
  console.log(
    `event-loop delay during the load run (poller + async nvidia-smi/pynvml children): max ${(lag.max / 1e6).toFixed(2)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(2)} ms`,
  );
  console.log(
    `longest unbroken run ≥ 95 % in NVML's samples since the previous check: ${rows.map((r) => `${r.longestRunAbove95.toFixed(2)} s`).join(', ')}`,
  );
  console.log(`sample-based rule (≥ 95 % for 1 s in NVML's samples) after checks 1, 2, 3: ${alertStates.join(' | ')}`);
  // The whole server on this GPU: one more Monitor tick, then the cards and /metrics.
  await built.monitor.tick(Date.now());
  const snap = (await built.app.inject({ url: '/api/monitor/snapshot' })).json();
  for (const c of snap.cards.slice(0, 2))
    console.log(
      `card ${c.id}: ${c.value === null ? c.reason : `${c.value.toFixed(1)} ${c.unit} (${c.status}) gpu ${c.labels.gpu}`}`,
    );
  const metrics = (await built.app.inject({ url: '/metrics' })).body;
  console.log(
    metrics
      .split('\n')
      .filter((l) =>
        /^qwen3vl_gpu_(memory_used_bytes|memory_total_bytes|utilization_ratio|temperature_celsius|power_watts|available)\{/.test(
          l,
        ),
      )
      .join('\n'),
  );
  await built.close();
  if (process.env.OUT)
    writeFileSync(`${process.env.OUT}/gpu-verify.json`, JSON.stringify({ first, perCall, costs, rows, log }, null, 1));
  poller.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
