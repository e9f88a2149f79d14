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
// Logging as `npm start` runs it (LOG_LEVEL's default, pino to stdout: /dev/null here, the
// bench starts servers with stdout ignored): Fastify's child logger per request and the
// sampled INFO lines written out are part of what a request costs a deployed server.
const config = loadConfig({
  DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-')),
  ...process.env,
});
const built = await buildApp(config);
await built.app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
built.startMonitor();
process.on('SIGINT', () => process.exit(0));
process.send?.('ready');
