// An open Monitor tab over an hour, compressed: 360 checks (one every 10 s) with eight
// GPUs and twenty model endpoints, and 36 000 log lines (10 a second) pushed over the
// WebSocket; the first half hour on the Overview, the second on Model Metrics. Then the
// tab's JS heap after GC. Needs Debian's chromium. Run: npm run build && node bench/ui-heap.mjs
import { ENDPOINTS, GPUS, startUiBench } from './ui-fixture.mjs';

const bench = await startUiBench();
const { page } = bench;
const before = await bench.heapMiB();
for (let check = 0; check < 360; check++) {
  if (check === 180) {
    await page.click('[data-sub="model"]');
    await page.waitForSelector('.model-card .number');
  }
  await bench.step({ logLinesPerCheck: 100 });
  await new Promise((r) => setTimeout(r, 5));
}
await page.click('[data-sub="overview"]');
await bench.settle();
const after = await bench.heapMiB();
const lines = await page.$$eval('.log-line', (els) => els.length);
console.log(
  `\n## An open Monitor tab over a simulated hour (${GPUS} GPUs, ${ENDPOINTS} endpoints, 360 checks, 36 000 log lines over the WebSocket)`,
);
console.log(
  `JS heap after GC: ${before.toFixed(1)} MiB at start, **${after.toFixed(1)} MiB** after the hour (target < 100 MB); log lines kept in the page: ${lines}`,
);
await bench.close();
