// Main-thread time of an open Monitor tab per live update, with eight GPUs and twenty model
// endpoints. A live update is one check's snapshot over the WebSocket (cards, sparklines,
// host strip, firing list; on Model Metrics also its one request); the log's lines arrive
// as their own messages and are measured apart (100 lines = 10 s at 10 lines a second).
// Measured as the main thread's CPU time (Chromium's TaskDuration in thread ticks), with
// wall time beside it. Target: < 16 ms. Needs Debian's chromium.
// Run: npm run build && node bench/ui-update.mjs
import { ENDPOINTS, GPUS, startUiBench } from './ui-fixture.mjs';

const UPDATES = Number(process.env.BENCH_UPDATES ?? 60);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const bench = await startUiBench();
const { page } = bench;

async function measure(label, stepOpts) {
  const cpu = [];
  const wall = [];
  for (let i = 0; i < UPDATES; i++) {
    await bench.settle();
    const [c0, w0] = [await bench.busyMs(), await bench.wallMs()];
    await bench.step(stepOpts);
    await bench.settle();
    cpu.push((await bench.busyMs()) - c0);
    wall.push((await bench.wallMs()) - w0);
  }
  console.log(
    `| ${label} | ${pct(cpu, 0.5).toFixed(2)} | ${pct(cpu, 0.95).toFixed(2)} | ${pct(cpu, 1).toFixed(2)} | ${pct(wall, 0.5).toFixed(2)} |`,
  );
}

console.log(`\n## Main-thread time per live update (${GPUS} GPUs, ${ENDPOINTS} endpoints, ${UPDATES} updates each)\n`);
console.log('| what | CPU median ms | CPU p95 ms | CPU max ms | wall median ms |');
console.log('|---|---:|---:|---:|---:|');
await measure('Overview: one check', { logLinesPerCheck: 0 });
await page.hover('[data-card="latency"]');
await page.waitForSelector('[data-card="latency"] .hover-chart canvas');
await measure('Overview, latency chart hovered: one check', { logLinesPerCheck: 0 });
await page.mouse.move(5, 5);
await measure('Overview: one check and 100 log lines', { logLinesPerCheck: 100 });
await page.click('[data-sub="model"]');
await page.waitForSelector('.model-card .number');
await measure('Model Metrics: one check (and its request)', { logLinesPerCheck: 0 });
await bench.close();
