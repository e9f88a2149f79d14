// `npm run demo`: the WebUI server in front of a simulated Qwen3-VL backend, with light
// traffic, so the Monitor moves on a laptop. Everything simulated says so.
import { loadConfig, ConfigError } from '../config.js';
import { startServer } from '../server.js';
import { SIMULATED_MODEL, startFakeUpstream } from './fake-upstream.js';
import { startTraffic } from './traffic.js';

async function main(): Promise<void> {
  const fake = await startFakeUpstream({ seed: Date.now() % 100_000 });
  let config;
  try {
    config = loadConfig({ ...process.env, UPSTREAM_URL: fake.url, UPSTREAM_MODEL: SIMULATED_MODEL });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let stopTraffic = () => {};
  const built = await startServer(config, {
    simulated: true,
    onClose: async () => {
      stopTraffic();
      await fake.close();
    },
  });
  built.app.log.warn({ upstream: fake.url, model: SIMULATED_MODEL }, 'SIMULATED backend: every answer, latency and error in this demo is made up');
  const port = (built.app.server.address() as { port: number }).port;
  stopTraffic = startTraffic({ baseUrl: `http://127.0.0.1:${port}`, rps: Number(process.env.DEMO_RPS ?? 3) });
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
