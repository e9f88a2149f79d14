// This project's app as built by `npm run build`, Monitor on or off by MONITOR_ENABLED.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../dist/app.js';
import { loadConfig } from '../../dist/config.js';
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
