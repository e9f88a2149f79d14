// An open Monitor tab over an hour, compressed: 360 checks (one every 10 s) and 36 000
// log lines (10 a second) pushed over the WebSocket, then the tab's JS heap after GC.
// Needs Debian's chromium (/usr/bin/chromium). Run: npm run build && node bench/ui-heap.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';

const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'ui-heap-')), LOG_LEVEL: 'silent', LOG_SAMPLE_RATE: '1' });
const built = await buildApp(config, { logger: false, probes: false });
await built.app.listen({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${built.app.server.address().port}/#monitor`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
const page = await browser.newPage();
await page.goto(url);
await page.waitForSelector('[data-card="rps"]');
const cdp = await page.context().newCDPSession(page);
const heap = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize / 1048576;
};
const before = await heap();
let t = Date.now();
for (let check = 0; check < 360; check++) {
  for (let i = 0; i < 100; i++) built.log.info('vlm', 'chat completion', { requestId: `req-${check}-${i}`, client: `ip:10.0.0.${i % 50}`, durationMs: 800 + i, completionTokens: 64 });
  t += 10_000;
  built.monitor.check(t);
  await new Promise((r) => setTimeout(r, 5));
}
await page.waitForTimeout(500);
const after = await heap();
const lines = await page.$$eval('.log-line', (els) => els.length);
console.log(`\n## An open Monitor tab over a simulated hour (360 checks, 36 000 log lines over the WebSocket)`);
console.log(`JS heap after GC: ${before.toFixed(1)} MiB at start, **${after.toFixed(1)} MiB** after the hour (target < 100 MB); log lines kept in the page: ${lines}`);
await browser.close();
await built.close();
