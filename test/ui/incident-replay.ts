// The demo's incident loop (src/demo/scenario.ts) replayed on a stepped clock: each check,
// ten seconds of the demo's traffic recorded where the request hooks and the pipeline
// record it (the endpoint windows, the model layer, the clients), the GPUs of the fake
// NVML set to the phase's load, then the real check and the real alert engine. Seconds of
// wall time for minutes of incident, and the same numbers every run (a seeded generator).
import { INCIDENT_LOOP, PHASES, phaseAt, type Phase } from '../../src/demo/scenario.js';
import type { ModuleName, Stage } from '../../src/metrics/model-stats.js';
import type { Monitor } from '../../src/monitor.js';
import type { fakeNvml } from '../fake-nvml/build.js';

const CHECK_MS = 10_000;
/** The demo's traffic: DEMO_RPS=3. */
const REQUESTS_PER_CHECK = 30;

/** mulberry32: a small seeded generator. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class IncidentReplay {
  private readonly random = seeded(19);
  checks = 0;

  constructor(
    private readonly monitor: Monitor,
    private readonly nvml: ReturnType<typeof fakeNvml>,
    private readonly clock: { (): number; set(t: number): void },
    /** When the demo started: minute 0 of its loop. */
    readonly startedAt: number,
  ) {}

  phaseAt(t: number): Phase {
    return phaseAt(t - this.startedAt, INCIDENT_LOOP);
  }

  /** Minutes since the demo started. */
  minutes(t = this.clock()): number {
    return (t - this.startedAt) / 60_000;
  }

  private gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }

  /** One request of the phase's traffic, ending at `t`, recorded as the app records one. */
  private request(t: number, phase: Phase): void {
    const p = PHASES[phase];
    const up = { ttftMs: 450, spread: 0.3, tokens: 24, tokenIntervalMs: 25, errorRate: 0, ...p.upstream };
    const ocr = this.random() < (p.traffic.ocrShare ?? 0.3);
    const module: ModuleName = ocr ? 'ocr' : 'vlm';
    const cut = ocr && (p.traffic.photos ?? false) && this.random() < (p.traffic.cutOffShare ?? 0);
    const failed = !cut && this.random() < up.errorRate;
    // Full-size photos take long to fetch and scale; a chat's messages are checked in a blink.
    const preprocess = ocr ? (p.traffic.photos ? 700 : 40) * (0.7 + 0.6 * this.random()) : 3;
    const inference = cut ? 0 : (up.ttftMs + up.tokens * up.tokenIntervalMs) * Math.exp(up.spread * this.gauss());
    const postprocess = cut || failed ? 0 : 0.5 + this.random();
    const total = preprocess + inference + postprocess + 4 * this.random();
    const status = cut ? 400 : failed ? 502 : 200;
    const endpoint = ocr ? '/api/ocr' : '/v1/chat/completions';
    this.monitor.stats.get('POST', endpoint)!.record(total, status, t);
    const times: Partial<Record<Stage, number>> = { preprocess, total };
    if (!cut) times.inference = inference;
    if (postprocess) times.postprocess = postprocess;
    const windows = this.monitor.model.stageWindows(module);
    for (const [stage, ms] of Object.entries(times)) windows[stage as Stage].record(ms, t);
    this.monitor.model.requestStages.get(module)!.record(times, t);
    if (ocr) {
      this.monitor.model.preprocessResult('ocr', !cut, t);
      const confidence = Math.exp(up.tokenLogprob ?? Math.log(0.95)) * (0.96 + 0.08 * this.random());
      this.monitor.model.ocrResult(status === 200, status === 200 ? Math.min(1, confidence) : null, t);
    }
    if (cut) this.monitor.model.failure('ocr', 'IMAGE_UNREADABLE', t);
    if (failed) this.monitor.model.failure(module, 'UPSTREAM_ERROR', t);
    this.monitor.model.inputTokenCount(module, ocr && p.traffic.photos ? 1_280 : 420, t);
    this.monitor.clients.record(`classroom-${1 + Math.floor(this.random() * 6)}`, module, status === 200, inference, t);
  }

  /** Ten seconds of the demo, then the check at their end. */
  async check(): Promise<void> {
    this.checks++;
    const now = this.startedAt + this.checks * CHECK_MS;
    const phase = this.phaseAt(now - CHECK_MS / 2);
    const gpu = PHASES[phase].gpus;
    for (let i = 0; i < 2; i++) {
      this.nvml.setMemory(
        i,
        81_559 * 1024 * 1024,
        Math.round(81_559 * ((gpu.memoryPercent - i * 3) / 100)) * 1024 * 1024,
        0,
      );
      this.nvml.setUtil(i, gpu.utilizationPercent - i, 40);
    }
    for (let i = 0; i < REQUESTS_PER_CHECK; i++)
      this.request(now - CHECK_MS + ((i + 0.5) * CHECK_MS) / REQUESTS_PER_CHECK, phase);
    this.clock.set(now);
    await this.monitor.tick(now);
  }

  /** Checks until `minutes` since the start of the demo. */
  async until(minutes: number): Promise<void> {
    while (this.minutes(this.startedAt + (this.checks + 1) * CHECK_MS) <= minutes) await this.check();
  }
}
