// The chat relay at the limit of one extra hop, over HTTP: what relaying costs and what
// watching adds, measured side by side.
//
//   npm run bench -- relay
//   BENCH_PIN=shared:1 taskset -c 0 npm run bench -- relay    # 2 cores: every server on core 1 in turn, the load on 0
//   BENCH_PIN=shared:2:1 taskset -c 10-15 npm run bench -- relay   # the 16-core host (processes.mjs says why)
//   BENCH_RELAY=burst,streamed BENCH_ROUNDS=9 npm run bench -- relay
//   BENCH_BEFORE=../old/dist npm run bench -- relay             # an earlier build beside them
//   BENCH_RAW=relay.jsonl npm run bench -- relay                # every round's figures kept as JSON lines
//   BENCH_PMU=./pmu-count npm run bench -- relay                # instructions and cycles too (processes.mjs)
//
// Seven servers run at once, each its own process in front of one instant stand-in model
// server: the minimal relay (node:http in, undici out, bytes piped, nothing parsed: the
// reference of issue 22's goals), the same written naively on Fastify (the JSON parsed and
// written again, the answer piped), Fastify's floor (bytes in, a whole answer in one
// write), ours with the Monitor off, the same again (A/A control), ours with the Monitor on
// (defaults), the same again (A/A); with BENCH_ONLY=…,whole also the minimal relay sending
// a whole answer in one write (node:http's floor). Loads, each in interleaved rounds
// rotated so that no server always goes first:
// - burst: non-streamed answers at saturation (autocannon, BENCH_CONNECTIONS connections);
// - streamed: streamed answers of BENCH_RELAY_TOKENS events sent at once, at saturation;
// - paced: BENCH_RELAY_STREAMS streams open at once, each BENCH_RELAY_TOKEN_RATE tokens a
//   second, answers of BENCH_RELAY_TOKENS tokens (400 × 50/s: 20 000 chunks/s offered), as a
//   model server streams under a busy GPU;
// - image (only when named in BENCH_RELAY): non-streamed requests each with a photo inline
//   (BENCH_RELAY_IMAGE_KIB of base64, 2 MiB), 4 connections: what a large body costs.
// CPU per request and per chunk is the server process's own CPU time (utime + stime of all
// its threads, /proc) over the requests it relayed. A difference smaller than the A/A pair's
// is not a difference; the paired on − off of each round is printed with its spread.
import { appendFileSync } from 'node:fs';
import { cpuTimes, fireChat, imageChatBody, layout, median, pmuCounters, quantile, startServer } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 0);
const BURST_REQUESTS = Number(process.env.BENCH_RELAY_REQUESTS ?? 20_000);
const STREAM_REQUESTS = Number(process.env.BENCH_RELAY_STREAM_REQUESTS ?? 2_000);
const TOKENS = Number(process.env.BENCH_RELAY_TOKENS ?? 100);
/** The short streamed answers measured beside the long ones: the slope between them is a chunk's cost. */
const SHORT_TOKENS = Number(process.env.BENCH_RELAY_SHORT_TOKENS ?? 2);
const STREAMS = Number(process.env.BENCH_RELAY_STREAMS ?? 400);
const TOKEN_RATE = Number(process.env.BENCH_RELAY_TOKEN_RATE ?? 50);
/** Answers each paced stream's connection asks for in a round (400 × 3 × 2 s: 6 s a round). */
const PACED_ANSWERS = Number(process.env.BENCH_RELAY_PACED_ANSWERS ?? 3);
const LOADS = (process.env.BENCH_RELAY ?? 'burst,streamed,paced').split(',');
/** The `image` load (not run unless named): requests with a photo inline, this many KiB of base64. */
const IMAGE_KIB = Number(process.env.BENCH_RELAY_IMAGE_KIB ?? 2048);
const IMAGE_REQUESTS = Number(process.env.BENCH_RELAY_IMAGE_REQUESTS ?? 300);
/** Rounds of the paced load (each server's round lasts PACED_ANSWERS answers of TOKENS / TOKEN_RATE s). */
const PACED_ROUNDS = Number(process.env.BENCH_PACED_ROUNDS ?? ROUNDS);
/** Another build's dist/ (an earlier commit's), run beside the others with the Monitor on. */
const BEFORE = process.env.BENCH_BEFORE;
/** BENCH_RAW=file: every round's figures appended as JSON lines, one per table, to look at again. */
const RAW = process.env.BENCH_RAW;

const MINIMAL = 'minimal relay';
const FASTIFY = 'minimal relay on Fastify';
const FLOOR = 'Fastify floor (bytes in, a whole answer in one write)';
const WHOLE = 'minimal relay, a whole answer in one write';
const OFF = 'ours, monitoring off';
const OFF_AA = 'ours, monitoring off (A/A control)';
const ON = 'ours, monitoring on';
const ON_AA = 'ours, monitoring on (A/A control)';

const fire = (port, load) => fireChat(port, { ...load, workers: WORKERS });

/** One load through every server, `rounds` interleaved rounds; a row per server. */
/** The servers' instruction counters (BENCH_PMU), or null. */
let pmu = null;

async function measure(servers, load, rounds = ROUNDS) {
  for (const s of servers) await fire(s.port, { ...load, amount: Math.min(load.amount, 2_000) }); // warm-up
  const runs = new Map(servers.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const s of order) {
      const pid = s.child.pid;
      const count0 = (await pmu?.read())?.get(pid);
      const cpu0 = cpuTimes(pid);
      const r = await fire(s.port, load);
      const cpu1 = cpuTimes(pid);
      const count1 = (await pmu?.read())?.get(pid);
      const user = cpu1.user - cpu0.user;
      const cpu = user + cpu1.system - cpu0.system;
      runs.get(s.name).push({
        rps: r.requests / r.seconds,
        cpuPerRequest: cpu / r.requests,
        userPerRequest: user / r.requests,
        cpuShare: cpu / 1e6 / r.seconds,
        errors: r.errors,
        ...(count0 && count1
          ? {
              instructionsPerRequest: (count1.instructions - count0.instructions) / r.requests,
              cyclesPerRequest: (count1.cycles - count0.cycles) / r.requests,
            }
          : {}),
      });
    }
  }
  return runs;
}

function report(title, runs, { chunks }) {
  const row = (name) => {
    const rs = runs.get(name);
    return {
      name,
      rps: median(rs.map((r) => r.rps)),
      cpu: median(rs.map((r) => r.cpuPerRequest)),
      user: median(rs.map((r) => r.userPerRequest)),
      share: median(rs.map((r) => r.cpuShare)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  };
  const rows = [...runs.keys()].map(row);
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  console.log(`\n## ${title}`);
  if (chunks) {
    console.log(
      '| server | chunks/s relayed | CPU, share of one core | CPU µs per chunk | CPU µs per answer (user) | errors |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows)
      console.log(
        `| ${r.name} | ${(r.rps * chunks).toFixed(0)} | ${(r.share * 100).toFixed(1)} % | ${(r.cpu / chunks).toFixed(2)} | ${r.cpu.toFixed(0)} (${r.user.toFixed(0)}) | ${r.errors} |`,
      );
  } else {
    console.log('| server | answers/s | CPU, share of one core | CPU µs per request (user) | errors |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows)
      console.log(
        `| ${r.name} | ${r.rps.toFixed(0)} | ${(r.share * 100).toFixed(1)} % | ${r.cpu.toFixed(1)} (${r.user.toFixed(1)}) | ${r.errors} |`,
      );
  }
  // Paired by round: each round's on − off, the two measured minutes apart at most; user
  // time too, which leaves out the kernel's loopback work charged to whichever process sent.
  const paired = (a, b, key) => runs.get(a).map((r, i) => r[key] - runs.get(b)[i][key]);
  let unit = 'µs';
  const digits = () => (unit === 'µs' ? 2 : 0);
  const spread = (xs) =>
    `${median(xs).toFixed(digits())} ${unit} (quartiles ${quantile(xs, 0.25).toFixed(digits())} … ${quantile(xs, 0.75).toFixed(digits())})`;
  const per = chunks ? ` per answer (${chunks} chunks)` : ' per request';
  const all = (...names) => names.every((n) => by[n]);
  const counted = [...runs.values()].every((rs) => rs.every((r) => r.instructionsPerRequest !== undefined));
  if (counted) {
    console.log(
      `\n| server | instructions${per} | cycles${per} | µs per 1 000 instructions (CPU time / instructions) |`,
    );
    console.log('|---|---:|---:|---:|');
    for (const [name, rs] of runs) {
      const ins = median(rs.map((r) => r.instructionsPerRequest));
      console.log(
        `| ${name} | ${ins.toFixed(0)} | ${median(rs.map((r) => r.cyclesPerRequest)).toFixed(0)} | ${((by[name].cpu / ins) * 1000).toFixed(3)} |`,
      );
    }
  }
  for (const [key, what, u] of [
    ['cpuPerRequest', 'CPU', 'µs'],
    ['userPerRequest', 'user CPU', 'µs'],
    ...(counted
      ? [
          ['instructionsPerRequest', 'instructions', 'instructions'],
          ['cyclesPerRequest', 'cycles', 'cycles'],
        ]
      : []),
  ]) {
    unit = u;
    if (all(ON, OFF))
      console.log(
        `\nwhat the Monitor adds${per}, ${what}, on − off paired by round: **${spread(paired(ON, OFF, key))}**`,
      );
    if (all(OFF, OFF_AA, ON, ON_AA))
      console.log(
        `A/A controls: off′ − off ${spread(paired(OFF_AA, OFF, key))}; on′ − on ${spread(paired(ON_AA, ON, key))}`,
      );
    const before = rows.find((r) => r.name.startsWith('before'))?.name;
    if (before && all(ON))
      console.log(`${what}${per}, before − on paired by round: **${spread(paired(before, ON, key))}**`);
  }
  if (all(ON, OFF, OFF_AA, ON_AA))
    console.log(
      `throughput on / off **${(by[ON].rps / by[OFF].rps).toFixed(3)}×** (A/A ${(by[OFF_AA].rps / by[OFF].rps).toFixed(3)}×, ${(by[ON_AA].rps / by[ON].rps).toFixed(3)}×)`,
    );
  // The same ratios paired by round: a host whose rounds fall into a fast and a slow mode
  // puts two servers' medians in different modes, which a round's own ratio does not.
  const ratio = (a, b) => {
    const xs = runs.get(a).map((r, i) => r.rps / runs.get(b)[i].rps);
    return `${median(xs).toFixed(3)}× (quartiles ${quantile(xs, 0.25).toFixed(3)} … ${quantile(xs, 0.75).toFixed(3)})`;
  };
  const pairs = [
    [ON, OFF, 'on / off'],
    [OFF_AA, OFF, 'A/A off′ / off'],
    [ON_AA, ON, 'A/A on′ / on'],
    [OFF, MINIMAL, 'off / minimal relay'],
    [ON, MINIMAL, 'on / minimal relay'],
  ].filter(([a, b]) => all(a, b));
  if (pairs.length)
    console.log(`throughput paired by round: ${pairs.map(([a, b, what]) => `${what} ${ratio(a, b)}`).join('; ')}`);
  if (all(FASTIFY, MINIMAL))
    console.log(
      `the minimal relay on Fastify: ${(by[FASTIFY].rps / by[MINIMAL].rps).toFixed(3)}× the minimal relay's throughput, +${(by[FASTIFY].cpu - by[MINIMAL].cpu).toFixed(1)} µs CPU${per}`,
    );
  if (all(FLOOR, MINIMAL))
    console.log(
      `Fastify's floor: ${(by[FLOOR].rps / by[MINIMAL].rps).toFixed(3)}× the minimal relay's throughput${all(OFF) ? `; ours, Monitor off, ${(by[OFF].rps / by[FLOOR].rps).toFixed(3)}× the floor's` : ''}`,
    );
  if (all(OFF, ON, MINIMAL))
    console.log(
      `ours against the minimal relay: off ${(by[OFF].rps / by[MINIMAL].rps).toFixed(3)}×, on ${(by[ON].rps / by[MINIMAL].rps).toFixed(3)}× the throughput; CPU${chunks ? ' per chunk' : ' per request'} on ${(by[ON].cpu / by[MINIMAL].cpu).toFixed(2)}× the minimal relay's`,
    );
  if (RAW) appendFileSync(RAW, `${JSON.stringify({ title, chunks, runs: Object.fromEntries(runs) })}\n`);
  return by;
}

/**
 * What relaying a chunk costs: the slope between short and long streamed answers (a
 * stream's fixed cost left out), and the long answer less a non-streamed request over its
 * chunks (the figure issue 22 was written with, which charges that fixed cost to the chunks).
 */
function reportPerChunk(burst, short, streamed, shortTokens, chunks) {
  console.log(
    `\n### CPU per streamed chunk: the slope between answers of ${shortTokens} and ${chunks} chunks, and the answer less a non-streamed request`,
  );
  console.log(
    `| server | µs per chunk: (answer of ${chunks} − answer of ${shortTokens}) / ${chunks - shortTokens} | µs per answer of ${shortTokens} chunks (what a stream costs whatever its length) | µs per chunk: (answer − non-streamed request) / ${chunks} |`,
  );
  console.log('|---|---:|---:|---:|');
  for (const name of Object.keys(streamed)) {
    const slope = ((streamed[name].cpu - short[name].cpu) / (chunks - shortTokens)).toFixed(2);
    const beyond = burst?.[name] ? ((streamed[name].cpu - burst[name].cpu) / chunks).toFixed(2) : '–';
    console.log(`| ${name} | ${slope} | ${short[name].cpu.toFixed(0)} | ${beyond} |`);
  }
}

/** How long each server's CPU is read while it serves nothing (BENCH_IDLE_S, 0 for none): a check interval. */
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 10);

/**
 * What each server costs doing nothing, in CPU ms a second: the Monitor's checks (the GPU
 * probe, the host's readings, the alert rules) run whether requests come or not, and a
 * round's CPU includes them. Read for all servers over the same seconds.
 */
async function idleCost(servers) {
  if (!IDLE_S) return;
  await new Promise((r) => setTimeout(r, 5_000)); // past the servers' start-up
  const before = servers.map((s) => cpuTimes(s.child.pid));
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const ms = servers.map((s, i) => {
    const now = cpuTimes(s.child.pid);
    return (now.user + now.system - before[i].user - before[i].system) / 1000 / IDLE_S;
  });
  console.log(
    `idle, CPU ms a second over ${IDLE_S} s: ${servers.map((s, i) => `${s.name} ${ms[i].toFixed(1)}`).join('; ')}`,
  );
}

export async function relayBench() {
  const upstream = await startServer('servers/upstream.mjs');
  const base = upstream.msg.split(' ')[1];
  const ours = (on) => ({ UPSTREAM_URL: base, MONITOR_ENABLED: String(on) });
  const variants = [
    { key: 'minimal', name: MINIMAL, script: 'servers/relay.mjs', env: { UPSTREAM_URL: base } },
    { key: 'fastify', name: FASTIFY, script: 'servers/fastify-relay.mjs', env: { UPSTREAM_URL: base } },
    { key: 'floor', name: FLOOR, script: 'servers/fastify-floor.mjs', env: { UPSTREAM_URL: base } },
    // Only when named in BENCH_ONLY: node:http's own floor for whole answers.
    { key: 'whole', name: WHOLE, script: 'servers/relay-whole.mjs', env: { UPSTREAM_URL: base }, extra: true },
    { key: 'off', name: OFF, script: 'servers/ours.mjs', env: ours(false) },
    { key: 'off-aa', name: OFF_AA, script: 'servers/ours.mjs', env: ours(false) },
    { key: 'on', name: ON, script: 'servers/ours.mjs', env: ours(true) },
    { key: 'on-aa', name: ON_AA, script: 'servers/ours.mjs', env: ours(true) },
    // Only when named: the Monitor on without a GPU to read (NVML not found), to tell the GPU
    // probe's share of a request from the rest of the Monitor's.
    {
      key: 'on-nogpu',
      name: 'ours, monitoring on, no NVML',
      script: 'servers/ours.mjs',
      env: { ...ours(true), NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
      extra: true,
    },
    ...(BEFORE
      ? [
          {
            key: 'before',
            name: `before (${BEFORE}), monitoring on`,
            script: 'servers/ours.mjs',
            env: { ...ours(true), BENCH_DIST: BEFORE },
          },
        ]
      : []),
  ];
  // BENCH_ONLY=on,on-aa,before: a subset, by the variants' keys.
  const only = process.env.BENCH_ONLY?.split(',');
  const servers = [];
  for (const v of variants.filter((x) => (only ? only.includes(x.key) : !x.extra)))
    servers.push({ ...v, ...(await startServer(v.script, v.env)) });
  pmu = await pmuCounters(servers.map((s) => s.child.pid));
  await idleCost(servers);
  console.log(
    `\n# The chat relay over HTTP (${ROUNDS} interleaved rounds; ${layout()}${pmu ? '; instructions counted' : ''})`,
  );

  let burst;
  if (LOADS.includes('burst')) {
    await upstream.ask({ tokens: 8, tokenIntervalMs: 0 });
    const runs = await measure(servers, { amount: BURST_REQUESTS, connections: CONNECTIONS, stream: false });
    burst = report(`Non-streamed at saturation: ${BURST_REQUESTS} requests a round, ${CONNECTIONS} connections`, runs, {
      chunks: 0,
    });
  }
  if (LOADS.includes('image')) {
    await upstream.ask({ tokens: 8, tokenIntervalMs: 0 });
    const body = imageChatBody(IMAGE_KIB);
    const runs = await measure(servers, { amount: IMAGE_REQUESTS, connections: 4, stream: false, body });
    report(
      `Non-streamed with a photo inline (${IMAGE_KIB} KiB of base64): ${IMAGE_REQUESTS} requests a round, 4 connections`,
      runs,
      {
        chunks: 0,
      },
    );
  }
  if (LOADS.includes('streamed')) {
    // Short answers first: what a stream costs whatever its length, so that the slope is the chunk's own cost.
    await upstream.ask({ tokens: SHORT_TOKENS, tokenIntervalMs: 0 });
    const shortRuns = await measure(servers, { amount: STREAM_REQUESTS, connections: CONNECTIONS, stream: true });
    const short = report(
      `Streamed at saturation: answers of ${SHORT_TOKENS} chunks, ${STREAM_REQUESTS} a round, ${CONNECTIONS} connections`,
      shortRuns,
      { chunks: SHORT_TOKENS },
    );
    await upstream.ask({ tokens: TOKENS, tokenIntervalMs: 0 });
    const runs = await measure(servers, { amount: STREAM_REQUESTS, connections: CONNECTIONS, stream: true });
    const streamed = report(
      `Streamed at saturation: answers of ${TOKENS} chunks sent at once, ${STREAM_REQUESTS} a round, ${CONNECTIONS} connections`,
      runs,
      { chunks: TOKENS },
    );
    reportPerChunk(burst, short, streamed, SHORT_TOKENS, TOKENS);
  }
  if (LOADS.includes('paced')) {
    await upstream.ask({ tokens: TOKENS, tokenIntervalMs: 1_000 / TOKEN_RATE });
    const runs = await measure(
      servers,
      { amount: STREAMS * PACED_ANSWERS, connections: STREAMS, stream: true },
      PACED_ROUNDS,
    );
    report(
      `Paced: ${STREAMS} streams at once, ${TOKEN_RATE} tokens/s each (${STREAMS * TOKEN_RATE} chunks/s offered), answers of ${TOKENS} tokens`,
      runs,
      { chunks: TOKENS },
    );
  }
  pmu?.close();
  for (const s of servers) await s.stop();
  await upstream.stop();
}
