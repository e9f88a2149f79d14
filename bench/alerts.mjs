// Alert engine benchmarks: evaluation cost of 1 000 rules per check, and the time from
// the check that completes a condition to the console message on a WebSocket.
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { evaluate } from '../dist/alerts/evaluate.js';
import { ruleInputSchema } from '../dist/alerts/rule-schema.js';
import { SeriesStore } from '../dist/metrics/series-store.js';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

export async function evaluationCost() {
  const I = 10_000;
  const store = new SeriesStore({ intervalMs: I });
  const gpus = 8;
  const endpoints = ['*', '/v1/chat/completions', '/api/ocr', '/api/gui/execute', '/api/video'];
  const rules = [];
  for (let i = 0; i < 1000; i++) {
    const kind = i % 4;
    const base = { name: `r${i}`, severity: 'warning', channels: ['console'] };
    const r =
      kind === 0
        ? {
            ...base,
            metric: 'gpu_memory_utilization_percent',
            labels: { gpu: String(i % gpus) },
            op: '>',
            threshold: 90,
            consecutiveChecks: 3,
          }
        : kind === 1
          ? {
              ...base,
              metric: 'latency_ms_p95',
              labels: { endpoint: endpoints[i % endpoints.length] },
              op: '>',
              threshold: 5000,
              for: '1m',
            }
          : kind === 2
            ? {
                ...base,
                metric: 'gui_step_success_rate',
                op: '<',
                threshold: 85,
                for: '2m',
                and: { metric: 'gui_step_avg_duration', op: '>', threshold: 3000 },
              }
            : {
                ...base,
                metric: 'requests_per_second',
                labels: { endpoint: '*' },
                op: '>',
                threshold: 300,
                surgeBaseline: '10m',
              };
    rules.push({ id: `r${i}`, ...ruleInputSchema.parse(r) });
  }
  let states = new Map();
  let andStates = new Map();
  const times = [];
  const t0 = Date.now();
  for (let k = 0; k < 120; k++) {
    const t = t0 + k * I;
    for (let g = 0; g < gpus; g++)
      store.record('gpu_memory_utilization_percent', { gpu: String(g) }, t, 80 + ((k + g) % 20));
    for (const e of endpoints) {
      store.record('latency_ms_p95', { endpoint: e }, t, 3000 + (k % 7) * 500);
      store.record('requests_per_second', { endpoint: e }, t, 10 + (k % 13));
    }
    store.record('gui_step_success_rate', {}, t, 80 + (k % 10));
    store.record('gui_step_avg_duration', {}, t, 2500 + (k % 5) * 300);
    const s = performance.now();
    ({ states, andStates } = evaluate({ rules, store, states, andStates, now: t, intervalMs: I }));
    times.push(performance.now() - s);
  }
  const steady = times.slice(60); // after the surge baselines have filled
  console.log(
    `\n## Alert evaluation: 1 000 rules (threshold, for, AND, surge) over ${gpus} GPUs and ${endpoints.length} endpoints`,
  );
  console.log(
    `per check: median **${median(steady).toFixed(2)} ms**, p99 ${pct(steady, 0.99).toFixed(2)} ms, max ${Math.max(...steady).toFixed(2)} ms (60 checks after warm-up; target ≤ 10 ms)`,
  );
}

export async function consoleLatency() {
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-alerts-')),
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
  });
  let now = Date.now();
  const built = await buildApp(config, { logger: false, probes: false, clock: () => now });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  built.alerts.addRule({
    name: 'hot',
    metric: 'gpu_temperature_celsius',
    op: '>',
    threshold: 85,
    channels: ['console'],
  });
  const port = built.app.server.address().port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/monitor/stream`);
  await new Promise((r) => ws.on('open', r));
  const latencies = [];
  let waiting = null;
  ws.on('message', (m) => {
    const msg = JSON.parse(m.toString());
    if (msg.type === 'alert' && waiting) waiting(performance.now());
  });
  for (let i = 0; i < 100; i++) {
    // Alternate: fire (value 95), then resolve (value 50); each change is one console message.
    now += 10_000;
    built.monitor.store.record('gpu_temperature_celsius', { gpu: '0' }, now, i % 2 === 0 ? 95 : 50);
    const got = new Promise((r) => (waiting = r));
    const s = performance.now();
    built.monitor.check(now);
    latencies.push((await got) - s);
  }
  ws.close();
  await built.close();
  console.log('\n## From the check that completes a condition to the console message on a WebSocket (100 changes)');
  console.log(
    `median **${median(latencies).toFixed(2)} ms**, p99 ${pct(latencies, 0.99).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (target ≤ 100 ms)`,
  );
}
