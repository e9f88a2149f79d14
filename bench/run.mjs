// Benchmarks, run side by side in one process tree with interleaved rounds; we report
// medians and ratios, never single runs (the machine is shared and noisy).
//   npm run bench                 # all
//   npm run bench -- alerts|hook|trivial|proxy
//   BENCH_ROUNDS=7 BENCH_SECONDS=5 npm run bench
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { chatBody, cpuMicros, fireChat, median, startServer } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

async function load(port, seconds) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/healthz`,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { requests: result.requests.total, rps: result.requests.average, errors: result.errors + result.non2xx };
}

async function trivialRoute() {
  const variants = [
    { name: 'monitoring off', script: 'servers/ours.mjs', env: { MONITOR_ENABLED: 'false' } },
    // A/A control: a second, identical process. Its distance from the first is the
    // noise floor of this machine; differences smaller than it mean nothing.
    { name: 'monitoring off (control)', script: 'servers/ours.mjs', env: { MONITOR_ENABLED: 'false' } },
    {
      name: 'monitoring on',
      script: 'servers/ours.mjs',
      env: { MONITOR_ENABLED: 'true', MONITOR_INTERVAL_MS: '1000' },
    },
    { name: 'bare fastify', script: 'servers/bare.mjs', env: {} },
    { name: 'fastify-metrics', script: 'servers/fastify-metrics.mjs', env: {} },
  ];
  const servers = [];
  for (const v of variants) servers.push({ ...v, ...(await startServer(v.script, v.env)), runs: [] });
  // Warm-up: JIT and keep-alive pools.
  for (const s of servers) await load(s.port, 1);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no variant always runs first or last.
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const s of order) {
      const cpu0 = cpuMicros(s.child.pid);
      const r = await load(s.port, SECONDS);
      const cpu = cpuMicros(s.child.pid) - cpu0;
      s.runs.push({ rps: r.rps, cpuPerReq: cpu / r.requests, errors: r.errors });
    }
  }
  for (const s of servers) await s.stop();
  const rows = servers.map((s) => ({
    name: s.name,
    rps: median(s.runs.map((r) => r.rps)),
    cpuUs: median(s.runs.map((r) => r.cpuPerReq)),
    errors: s.runs.reduce((a, r) => a + r.errors, 0),
  }));
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log(
    `\n## Trivial route (GET /healthz), ${ROUNDS} interleaved rounds × ${SECONDS} s, ${CONNECTIONS} connections`,
  );
  console.log('| server | median req/s | median CPU µs/request | errors |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.cpuUs.toFixed(2)} | ${r.errors} |`);
  const onOff = by['monitoring on'].rps / by['monitoring off'].rps;
  const peer = by['fastify-metrics'].rps / by['bare fastify'].rps;
  const aa = by['monitoring off (control)'];
  console.log(`\nthroughput, monitoring on / off: **${onOff.toFixed(3)}×** (target ≥ 0.95×)`);
  console.log(
    `noise floor (A/A, two identical monitoring-off processes): ${(aa.rps / by['monitoring off'].rps).toFixed(3)}×, ${(aa.cpuUs - by['monitoring off'].cpuUs).toFixed(2)} µs/request`,
  );
  console.log(`throughput, fastify-metrics / bare fastify: ${peer.toFixed(3)}×`);
  console.log(
    `extra CPU per request, ours: **${(by['monitoring on'].cpuUs - by['monitoring off'].cpuUs).toFixed(2)} µs** (target ≤ 5 µs); fastify-metrics: ${(by['fastify-metrics'].cpuUs - by['bare fastify'].cpuUs).toFixed(2)} µs`,
  );
}

async function proxyOverhead() {
  const upstream = await startServer('servers/upstream.mjs');
  const base = upstream.msg.split(' ')[1];
  const ours = await startServer('servers/ours.mjs', { UPSTREAM_URL: base, MONITOR_ENABLED: 'true' });
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const body = JSON.stringify({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
  });
  const timeOne = async (url) => {
    const t = process.hrtime.bigint();
    const res = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      dispatcher: agent,
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const direct = `${base}/chat/completions`;
  const proxied = `http://127.0.0.1:${ours.port}/v1/chat/completions`;
  for (let i = 0; i < 200; i++) {
    await timeOne(direct);
    await timeOne(proxied);
  }
  const d = [];
  const p = [];
  const N = Number(process.env.BENCH_PROXY_REQUESTS ?? 2000);
  // Alternate one by one: both see the same machine noise.
  for (let i = 0; i < N; i++) {
    d.push(await timeOne(direct));
    p.push(await timeOne(proxied));
  }
  await agent.close();
  await ours.stop();
  await upstream.stop();
  const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))];
  console.log(`\n## Chat proxy overhead (non-streamed, sequential, ${N} requests each, alternating)`);
  console.log('| path | P50 ms | P95 ms | P99 ms |');
  console.log('|---|---:|---:|---:|');
  console.log(`| direct to upstream | ${q(d, 0.5).toFixed(3)} | ${q(d, 0.95).toFixed(3)} | ${q(d, 0.99).toFixed(3)} |`);
  console.log(`| through the WebUI | ${q(p, 0.5).toFixed(3)} | ${q(p, 0.95).toFixed(3)} | ${q(p, 0.99).toFixed(3)} |`);
  console.log(`\nP50 overhead: **${(q(p, 0.5) - q(d, 0.5)).toFixed(3)} ms** (target ≤ 1 ms)`);
}

/** Two apps in this process, Monitor on and off, built like the server builds them. */
async function inProcessApps(env = {}) {
  const { buildApp } = await import('../dist/app.js');
  const { loadConfig } = await import('../dist/config.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const make = async (enabled) => {
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-')),
      LOG_LEVEL: 'silent',
      MONITOR_ENABLED: String(enabled),
      ...env,
    });
    const built = await buildApp(config, { logger: false, probes: false });
    await built.app.ready();
    return built;
  };
  return { off: await make(false), on: await make(true) };
}

/**
 * Alternating batches on the two apps (order swapped every round), CPU per request from
 * process.cpuUsage; each batch from a collected heap (node --expose-gc), so one app's
 * garbage is not collected on the other's time. Returns the runs and paired differences.
 */
async function pairedBatches(apps, batchSize, oneRequest, warmups = 1) {
  const batch = async (app) => {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    await oneRequest(app, batchSize);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / batchSize;
  };
  for (let i = 0; i < warmups; i++) for (const a of Object.values(apps)) await batch(a);
  const runs = { off: [], on: [] };
  const rounds = ROUNDS * 4;
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? ['on', 'off'] : ['off', 'on']) runs[k].push(await batch(apps[k]));
  }
  for (const a of Object.values(apps)) await a.close();
  return { runs, rounds, diffs: runs.on.map((v, i) => v - runs.off[i]) };
}

/**
 * The chat relay at saturation: a fixed number of non-streamed chat requests through each
 * server in turn (rounds interleaved and rotated), against one instant upstream. CPU per
 * request is the server process's own CPU time over those requests. The minimal relay is
 * the floor of one extra hop; an A/A pair shows the noise.
 */
async function chatRelay() {
  // BENCH_CHAT_STREAM=N: streamed answers of N tokens (one server-sent event each).
  const streamTokens = Number(process.env.BENCH_CHAT_STREAM ?? 0);
  const upstream = await startServer(
    'servers/upstream.mjs',
    streamTokens ? { BENCH_TOKENS: String(streamTokens) } : {},
  );
  const base = upstream.msg.split(' ')[1];
  const variants = [
    { name: 'minimal relay (node:http + undici)', script: 'servers/relay.mjs', env: { UPSTREAM_URL: base } },
    { name: 'ours, monitoring off', script: 'servers/ours.mjs', env: { UPSTREAM_URL: base, MONITOR_ENABLED: 'false' } },
    {
      name: 'ours, monitoring off (A/A control)',
      script: 'servers/ours.mjs',
      env: { UPSTREAM_URL: base, MONITOR_ENABLED: 'false' },
    },
    {
      name: 'ours, monitoring on',
      script: 'servers/ours.mjs',
      env: { UPSTREAM_URL: base, MONITOR_ENABLED: 'true', MONITOR_INTERVAL_MS: '1000', LOG_SAMPLE_RATE: '0.1' },
    },
    {
      name: 'ours, monitoring on (A/A control)',
      script: 'servers/ours.mjs',
      env: { UPSTREAM_URL: base, MONITOR_ENABLED: 'true', MONITOR_INTERVAL_MS: '1000', LOG_SAMPLE_RATE: '0.1' },
    },
  ];
  const AMOUNT = Number(process.env.BENCH_CHAT_REQUESTS ?? 20_000);
  // BENCH_CHAT_RATE caps the request rate: every server then does the same work per second,
  // so CPU per request compares like with like (at saturation it also depends on batching).
  const rate = process.env.BENCH_CHAT_RATE ? { overallRate: Number(process.env.BENCH_CHAT_RATE) } : {};
  // Streamed when BENCH_CHAT_STREAM is set (this once asked for whole answers of N tokens).
  const fire = (port, amount) =>
    fireChat(port, { amount, connections: CONNECTIONS, stream: streamTokens > 0, rate: rate.overallRate });
  const servers = [];
  for (const v of variants) servers.push({ ...v, ...(await startServer(v.script, v.env)), runs: [] });
  for (const s of servers) await fire(s.port, 2_000); // warm-up: JIT, pools
  for (let round = 0; round < ROUNDS; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const s of order) {
      const cpu0 = cpuMicros(s.child.pid);
      const r = await fire(s.port, AMOUNT);
      s.runs.push({ rps: r.rps, cpuPerReq: (cpuMicros(s.child.pid) - cpu0) / r.requests, errors: r.errors });
    }
  }
  for (const s of servers) await s.stop();
  await upstream.stop();
  const rows = servers.map((s) => ({
    name: s.name,
    rps: median(s.runs.map((r) => r.rps)),
    cpuUs: median(s.runs.map((r) => r.cpuPerReq)),
    errors: s.runs.reduce((a, r) => a + r.errors, 0),
  }));
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log(
    `\n## Chat relay (${streamTokens ? `streamed, ${streamTokens} events an answer` : 'non-streamed'}), ${ROUNDS} interleaved rounds × ${AMOUNT} requests, ${CONNECTIONS} connections, ${rate.overallRate ? `${rate.overallRate} requests/s` : 'at saturation'}${process.env.BENCH_PIN === '1' ? ', one pinned core per server' : ''}`,
  );
  console.log(`| server | median req/s | median CPU µs/request |${streamTokens ? ' CPU µs/event |' : ''} errors |`);
  console.log(`|---|---:|---:|${streamTokens ? '---:|' : ''}---:|`);
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.rps.toFixed(0)} | ${r.cpuUs.toFixed(1)} |${streamTokens ? ` ${(r.cpuUs / streamTokens).toFixed(2)} |` : ''} ${r.errors} |`,
    );
  const off = by['ours, monitoring off'];
  const on = by['ours, monitoring on'];
  const relay = by['minimal relay (node:http + undici)'];
  console.log(
    `\nwhat the Monitor adds to a relayed chat request: **${(on.cpuUs - off.cpuUs).toFixed(1)} µs CPU** (target ≤ 5 µs); throughput on / off **${(on.rps / off.rps).toFixed(3)}×**`,
  );
  console.log(
    `noise (A/A): off ${(by['ours, monitoring off (A/A control)'].cpuUs - off.cpuUs).toFixed(1)} µs, ${(by['ours, monitoring off (A/A control)'].rps / off.rps).toFixed(3)}×; on ${(by['ours, monitoring on (A/A control)'].cpuUs - on.cpuUs).toFixed(1)} µs, ${(by['ours, monitoring on (A/A control)'].rps / on.rps).toFixed(3)}×`,
  );
  console.log(
    `our relay (monitoring off) against the minimal relay: +${(off.cpuUs - relay.cpuUs).toFixed(1)} µs CPU per request, ${(off.rps / relay.rps).toFixed(3)}× throughput`,
  );
}

/**
 * What the Monitor adds to one relayed chat request, in one process: two apps (Monitor on
 * and off) relaying to the same upstream process, driven by inject in alternating batches,
 * CPU time per batch from process.cpuUsage (the upstream's CPU is not ours). Paired
 * differences cancel the machine's drift; their median is the cost.
 */
async function chatHookCost() {
  const upstream = await startServer('servers/upstream.mjs');
  const base = upstream.msg.split(' ')[1];
  const apps = await inProcessApps({ UPSTREAM_URL: base, LOG_SAMPLE_RATE: '0.1' });
  const payload = chatBody();
  const BATCH = Number(process.env.BENCH_CHAT_BATCH ?? 1_000);
  const CONCURRENCY = 8;
  const { runs, rounds, diffs } = await pairedBatches(
    apps,
    BATCH,
    async (app, n) => {
      let left = n;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (left-- > 0) {
            const r = await app.app.inject({
              method: 'POST',
              url: '/v1/chat/completions',
              headers: { 'content-type': 'application/json' },
              payload,
            });
            if (r.statusCode !== 200) throw new Error(`chat answered ${r.statusCode}: ${r.body}`);
          }
        }),
      );
    },
    3,
  );
  await upstream.stop();
  const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))];
  console.log(
    `\n## What the Monitor adds to a chat request (in-process inject, ${rounds} alternating batches of ${BATCH}, ${CONCURRENCY} at a time)`,
  );
  console.log('| app | median CPU µs/request |');
  console.log('|---|---:|');
  console.log(`| monitoring off | ${median(runs.off).toFixed(1)} |`);
  console.log(`| monitoring on | ${median(runs.on).toFixed(1)} |`);
  console.log(
    `\nextra CPU per chat request (median of paired differences): **${median(diffs).toFixed(2)} µs** (target ≤ 5 µs); quartiles ${q(diffs, 0.25).toFixed(2)} … ${q(diffs, 0.75).toFixed(2)} µs`,
  );
}

/**
 * The hook path alone: two apps in this one process (Monitor on and off), driven by
 * fastify's inject in alternating batches, CPU time per batch from process.cpuUsage.
 * Same process, same JIT, same core: the difference is what the Monitor adds.
 */
async function hookCost() {
  const BATCH = 5_000;
  const apps = await inProcessApps();
  const { runs, rounds, diffs } = await pairedBatches(apps, BATCH, async (app, n) => {
    for (let i = 0; i < n; i++) await app.app.inject({ method: 'GET', url: '/healthz' });
  });
  console.log(`\n## Hook path (in-process inject, GET /healthz, ${rounds} alternating batches of ${BATCH})`);
  console.log('| app | median CPU µs/request |');
  console.log('|---|---:|');
  console.log(`| monitoring off | ${median(runs.off).toFixed(2)} |`);
  console.log(`| monitoring on | ${median(runs.on).toFixed(2)} |`);
  console.log(
    `\nextra CPU per request (median of paired differences): **${median(diffs).toFixed(2)} µs** (target ≤ 5 µs)`,
  );
}

const which = process.argv[2] ?? 'all';
console.log(`node ${process.version}, ${new Date().toISOString()}`);
if (which === 'all' || which === 'alerts') {
  const { evaluationCost, consoleLatency } = await import('./alerts.mjs');
  await evaluationCost();
  await consoleLatency();
}
if (which === 'all' || which === 'hook') await hookCost();
if (which === 'all' || which === 'trivial') await trivialRoute();
if (which === 'all' || which === 'proxy') await proxyOverhead();
if (which === 'all' || which === 'chat') await chatRelay();
if (which === 'all' || which === 'chat-hook') await chatHookCost();
if (which === 'all' || which === 'bookkeeping') {
  const { bookkeepingCost } = await import('./bookkeeping.mjs');
  await bookkeepingCost(ROUNDS * 2);
}
// Not in 'all': several minutes of its own (bench/relay.mjs says what it measures).
if (which === 'relay') {
  const { relayBench } = await import('./relay.mjs');
  await relayBench();
}
if (which === 'monitor-share') {
  const { monitorShare } = await import('./monitor-share.mjs');
  await monitorShare();
}
