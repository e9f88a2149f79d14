// What loading the Monitor page costs Chromium, the bundle (dist/ui/app.js, as served) against
// the ES modules it is built from (public/js/main.js and its imports, one request each),
// and the bundle again (the A/A control: what two identical loads differ by here), side
// by side in one browser: interleaved and rotated, each in a fresh context (an empty cache, as a
// first visit), Chromium's CPU (every process of it, /proc) and the wall time from
// navigation to the first live snapshot drawn. A diagnostic of the VM's loopback: over a
// real network the modules' import waterfall costs round trips on top.
//
//   npm run build && node bench/ui-load.mjs        # BENCH_UI_LOADS (default 12 each)
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const LOADS = Number(process.env.BENCH_UI_LOADS ?? 12);
const { buildApp } = await import('../dist/app.js');
const { loadConfig } = await import('../dist/config.js');
const { startFakeUpstream } = await import('../dist/demo/fake-upstream.js');
const fake = await startFakeUpstream({ behavior: { errorRate: 0, ttftMs: 5, tokenIntervalMs: 1, spread: 0 } });
const config = loadConfig({
  DATA_DIR: mkdtempSync(join(tmpdir(), 'ui-load-')),
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  UPSTREAM_URL: fake.url,
});
const built = await buildApp(config, { logger: false });
// The same page with the modules instead of the bundle.
const modulesPage = readFileSync(new URL('../public/index.html', import.meta.url), 'utf8').replace(
  '/ui/app.js',
  '/js/main.js',
);
built.app.get('/modules', (_request, reply) => reply.type('text/html; charset=utf-8').send(modulesPage));
await built.app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${built.app.server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const version = browser.version();

/** CPU seconds of every Chromium process now alive, by pid. */
function chromiumCpu() {
  const byPid = {};
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('chrom')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid[pid] = (Number(f[11]) + Number(f[12])) / 100;
    } catch {} // gone between the listing and the read
  }
  return byPid;
}

const variants = { modules: `${base}/modules#monitor`, bundle: `${base}/#monitor`, 'bundle (A/A)': `${base}/#monitor` };
const names = Object.keys(variants);
const runs = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < LOADS + 2; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    const before = chromiumCpu();
    const t0 = performance.now();
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    let requests = 0;
    page.on('request', () => requests++);
    await page.goto(variants[name]);
    await page.waitForFunction(
      () =>
        /·/.test(document.querySelector('#stream-status')?.textContent ?? '') &&
        document.querySelector('[data-card="latency"] .number') !== null,
    );
    const wall = performance.now() - t0;
    const after = chromiumCpu();
    let cpu = 0;
    for (const [pid, s] of Object.entries(after)) cpu += s - (before[pid] ?? 0);
    // The first two rounds warm the server and the browser up.
    if (round >= 2) runs[name].push({ cpu, wall, requests });
    await context.close();
  }
}
await browser.close();
await built.close();
await fake.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`\n## Loading the Monitor page, ${LOADS} loads each, interleaved (Chromium ${version})`);
console.log('| page | requests | Chromium CPU s (median) | wall ms (median) |\n|---|---:|---:|---:|');
for (const name of names)
  console.log(
    `| ${name} | ${median(runs[name].map((r) => r.requests))} | ${median(runs[name].map((r) => r.cpu)).toFixed(2)} | ${median(runs[name].map((r) => r.wall)).toFixed(0)} |`,
  );
const ratio = (a, b, k) => median(runs[a].map((r, i) => r[k] / runs[b][i][k]));
for (const [a, b] of [
  ['bundle', 'modules'],
  ['bundle (A/A)', 'bundle'],
])
  console.log(
    `${a} / ${b}, paired by round: CPU ${ratio(a, b, 'cpu').toFixed(2)}×, wall ${ratio(a, b, 'wall').toFixed(2)}×`,
  );
