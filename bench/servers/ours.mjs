// This project's app as built by `npm run build`, Monitor on or off by MONITOR_ENABLED.
// BENCH_DIST: another build's dist/ folder (an earlier commit's), to compare builds side by side.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const dist = process.env.BENCH_DIST
  ? pathToFileURL(`${resolve(process.env.BENCH_DIST)}/`)
  : new URL('../../dist/', import.meta.url);
const { buildApp } = await import(new URL('app.js', dist).href);
const { loadConfig } = await import(new URL('config.js', dist).href);
const config = loadConfig({
  ...process.env,
  DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-')),
  LOG_LEVEL: 'silent',
});
const built = await buildApp(config, { logger: false });
await built.app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
built.startMonitor();
process.on('SIGINT', () => process.exit(0));
process.send?.('ready');
