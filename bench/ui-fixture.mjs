// A Monitor as the UI benchmarks see it: the built app with eight simulated GPUs, the host
// probe, twenty model endpoints with traffic, and an open tab in Debian's Chromium. Each
// `step()` is one check ten seconds after the previous, preceded by the requests and log
// lines of those ten seconds. Needs `npm run build` first.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { SimulatedGpus } from '../dist/demo/simulated-gpus.js';

export const GPUS = 8;
export const ENDPOINTS = 20;

export async function startUiBench() {
  let now = Date.now() - 3_600_000;
  const clock = () => now;
  const gpus = new SimulatedGpus({ count: GPUS });
  gpus.setLoad({ utilizationPercent: 70, memoryPercent: 60 });
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ui-bench-')),
    LOG_LEVEL: 'silent',
    LOG_SAMPLE_RATE: '1',
  });
  const built = await buildApp(config, { logger: false, clock, gpu: gpus, simulated: true });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const m = built.monitor;
  const slots = Array.from({ length: ENDPOINTS }, (_, i) => m.stats.register('POST', `/api/bench/${i}`, 'model'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  let check = 0;
  async function step({ logLinesPerCheck = 100 } = {}) {
    for (const [i, slot] of slots.entries()) {
      for (let k = 0; k < 5; k++)
        slot.record(200 + ((i * 37 + k * 101 + check * 13) % 2_000), k === 4 && i % 7 === 0 ? 500 : 200, now - 5_000);
    }
    for (let i = 0; i < logLinesPerCheck; i++)
      built.log.info('vlm', 'Chat completion', {
        requestId: `req-${check}-${i}`,
        client: `ip:10.0.0.${i % 50}`,
        durationMs: 800 + i,
        completionTokens: 64,
      });
    now += 10_000;
    check++;
    await m.tick(now);
  }
  // Ten minutes of history before the tab opens: trends and sparklines have data.
  for (let i = 0; i < 60; i++) await step();
  await page.goto(`http://127.0.0.1:${built.app.server.address().port}/#monitor`);
  await page.waitForSelector('[data-card="gpu_memory"] .number');
  const cdp = await page.context().newCDPSession(page);
  // Main-thread CPU time (thread ticks), not wall time: the shared VM's other work must not count.
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const wall = await page.context().newCDPSession(page);
  await wall.send('Performance.enable', { timeDomain: 'timeTicks' });
  const metric = async (session, name) =>
    (await session.send('Performance.getMetrics')).metrics.find((x) => x.name === name).value * 1_000;
  return {
    page,
    cdp,
    step,
    /** CPU time the tab's main thread has spent in tasks so far, in ms (TaskDuration in thread ticks). */
    busyMs: () => metric(cdp, 'TaskDuration'),
    /** The same in wall-clock time, which the machine's load inflates. */
    wallMs: () => metric(wall, 'TaskDuration'),
    async heapMiB() {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize / 1048576;
    },
    /** Lets the page finish what the last messages started. */
    settle: () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)))),
    async close() {
      await browser.close();
      await built.close();
    },
  };
}
