// `npm run demo`: the WebUI server in front of a simulated Qwen3-VL backend, with two
// simulated GPUs and light traffic, so the whole Monitor moves on a laptop.
// `npm run demo -- --incident` plays the tutorial's incident over and over (two calm
// minutes, three of incident) with the alert presets it needs imported (notifying the
// console only, unless channels were set up in DATA_DIR); `--incident=now` starts with
// the incident. Everything simulated says so (the log, the GPU cards, the API's
// `simulated: true`).
import { loadConfig, ConfigError, type Config } from '../config.js';
import { startServer } from '../server.js';
import { SIMULATED_MODEL, startFakeUpstream } from './fake-upstream.js';
import { importIncidentPresets } from './incident-presets.js';
import { INCIDENT_LOOP, PHASES, phaseAt, type Phase } from './scenario.js';
import { SimulatedGpus } from './simulated-gpus.js';
import { startTraffic, type Traffic } from './traffic.js';

async function main(): Promise<void> {
  const flag = process.argv.find((a) => a === '--incident' || a.startsWith('--incident='));
  const incident = flag !== undefined;
  // --incident=now: the incident first, then calm, then again.
  const offsetMs = flag === '--incident=now' ? INCIDENT_LOOP.normalMs : 0;
  const fake = await startFakeUpstream({ seed: Date.now() % 100_000, behavior: PHASES.normal.upstream });
  let config: Config;
  try {
    config = loadConfig({ ...process.env, UPSTREAM_URL: fake.url, UPSTREAM_MODEL: SIMULATED_MODEL });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const gpus = new SimulatedGpus({ count: Number(process.env.DEMO_GPUS ?? 2) });
  gpus.setLoad(PHASES.normal.gpus);
  let traffic: Traffic | undefined;
  let timer: NodeJS.Timeout | undefined;
  const built = await startServer(config, {
    simulated: true,
    gpu: gpus,
    onClose: async () => {
      clearInterval(timer);
      traffic?.stop();
      await fake.close();
    },
  });
  built.app.log.warn(
    { upstream: fake.url, model: SIMULATED_MODEL },
    'SIMULATED backend and GPUs: every answer, latency, error and GPU reading in this demo is made up',
  );
  const port = (built.app.server.address() as { port: number }).port;
  traffic = startTraffic({ baseUrl: `http://127.0.0.1:${port}`, rps: Number(process.env.DEMO_RPS ?? 3) });
  traffic.setProfile(PHASES.normal.traffic);
  if (!incident) return;

  const notSetUp = built.alerts ? importIncidentPresets(built.alerts.config) : [];
  if (notSetUp.length)
    process.stderr.write(
      `  Alert presets imported without ${notSetUp.join(', ')} (not set up): notices go to the console; set up a channel in Settings → Channels to send them further.\n`,
    );
  const started = Date.now();
  let phase: Phase = 'normal';
  process.stderr.write(
    `  SIMULATED incident drill: ${offsetMs ? 'the OCR incident now' : `calm for ${INCIDENT_LOOP.normalMs / 60_000} min, then the OCR incident`} for ${INCIDENT_LOOP.incidentMs / 60_000} min, then calm for ${INCIDENT_LOOP.normalMs / 60_000}, repeating.\n`,
  );
  const step = () => {
    const next = phaseAt(Date.now() - started + offsetMs, INCIDENT_LOOP);
    if (next === phase) return;
    phase = next;
    const s = PHASES[phase];
    fake.behavior = { ...fake.behavior, ...s.upstream };
    gpus.setLoad(s.gpus);
    traffic?.setProfile(s.traffic);
    built.app.log.warn(
      { phase },
      phase === 'incident'
        ? 'SIMULATED incident started: full-size photo uploads, slow OCR, low confidence, some uploads cut off'
        : 'SIMULATED incident over: back to normal traffic',
    );
  };
  step();
  timer = setInterval(step, 1_000);
  timer.unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
