// What the Monitor adds to one relayed chat request, measured exactly: the same
// bookkeeping a chat request goes through (ModelRequest with its stage timer, the timing
// hook's record, usage, client attribution, the input-token event and per-request rules,
// the sampled log line), with the Monitor's stores and without (MONITOR_ENABLED=false gives
// ModelRequest no stats), in a tight loop, alternating, CPU time per request. No sockets,
// so no I/O noise: this is the number the HTTP benchmarks cannot resolve.
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { ModelRequest } from '../dist/pipeline/model-request.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function bookkeepingCost(rounds = 10, perRound = 50_000) {
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-')),
    LOG_LEVEL: 'silent',
    LOG_SAMPLE_RATE: '0.1',
  });
  const built = await buildApp(config, { logger: false, probes: false });
  const monitor = built.monitor;
  // A long-context rule, as the presets have: every request event is compared against it.
  built.alerts.importPreset('long-context');
  const slot = monitor.stats.register('POST', '/v1/chat/completions', 'model');
  const on = { log: built.log, stats: monitor.model, clients: monitor.clients, clock: Date.now };
  const off = { log: built.log, stats: null, clients: null, clock: Date.now };
  const usage = { promptTokens: 262, completionTokens: 8 };
  const oneRequest = async (deps, i) => {
    const response = new EventEmitter();
    response.writableFinished = true;
    const mr = new ModelRequest(deps, 'vlm', {
      requestId: `r${i}`,
      client: `ip:10.0.0.${i & 255}`,
      endpoint: '/v1/chat/completions',
      response,
    });
    if (deps.stats) {
      // The Monitor's own request hooks: abort accounting and requests in flight each watch 'close'.
      monitor.stats.load.modelRequestsInFlight++;
      response.once('close', () => monitor.stats.load.modelRequestsInFlight--);
      response.once('close', () => {});
    }
    await mr.timer.run('preprocess', () => 0);
    const endInference = mr.timer.start('inference');
    endInference();
    await mr.timer.run('postprocess', () => usage);
    if (deps.stats) monitor.stats.chat.recordUsage(usage.promptTokens, usage.completionTokens);
    mr.succeed({
      inputTokens: usage.promptTokens,
      inputTokensSource: 'upstream',
      event: 'Chat completion',
      params: () => ({ stream: false, prompt_tokens: 262, completion_tokens: 8 }),
    });
    // The timing hook's share, only with the Monitor on.
    if (deps.stats) slot.record(1.3, 200, Date.now(), 512);
    response.emit('close');
  };
  const time = async (deps) => {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    for (let i = 0; i < perRound; i++) await oneRequest(deps, i);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / perRound;
  };
  for (let i = 0; i < 3; i++) {
    await time(on);
    await time(off);
  }
  const runs = { on: [], off: [] };
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? ['on', 'off'] : ['off', 'on']) runs[k].push(await time(k === 'on' ? on : off));
  }
  await built.close();
  const diffs = runs.on.map((v, i) => v - runs.off[i]);
  console.log(
    `\n## The Monitor's bookkeeping for one chat request (in-process, ${rounds} alternating rounds of ${perRound})`,
  );
  console.log('| | median CPU µs/request |');
  console.log('|---|---:|');
  console.log(`| model request without the Monitor's stores | ${median(runs.off).toFixed(2)} |`);
  console.log(
    `| with them (stage windows, timing record, usage, clients, token event and rules, log) | ${median(runs.on).toFixed(2)} |`,
  );
  console.log(
    `\nwhat the Monitor adds: **${median(diffs).toFixed(2)} µs** per chat request (target ≤ 5 µs); range ${Math.min(...diffs).toFixed(2)} … ${Math.max(...diffs).toFixed(2)} µs`,
  );
}
