// A diagnostic for issue 22: two identical Monitor-on servers under interleaved bursts, to
// see whether an A/A pair differs and why. Prints each one's CPU per request round by round,
// its CPU while idle afterwards (the Monitor's checks alone), and its active alerts.
// On the GPU host the relay bench found the second Monitor-on process 9.5 µs a request
// dearer than the first with tight quartiles (2026-12-07), where the Monitor-off pair
// agreed to 0.0 µs; this separates per-request cost from background work.
//
//   npm run build && cd bench && BENCH_PIN=shared:1 taskset -c 0 node monitor-aa.mjs
//   NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 node monitor-aa.mjs   # without the GPU poller
//   BENCH_AA_INTERVAL_MS=1000 node monitor-aa.mjs                        # a check a second
//   BENCH_AA_START=b node monitor-aa.mjs                                 # b started first
import { cpuTimes, fireChat, layout, startServer } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const REQUESTS = Number(process.env.BENCH_AA_REQUESTS ?? 15_000);
const IDLE_MS = 10_000;

const upstream = await startServer('servers/upstream.mjs');
const env = {
  UPSTREAM_URL: upstream.msg.split(' ')[1],
  MONITOR_ENABLED: 'true',
  MONITOR_INTERVAL_MS: process.env.BENCH_AA_INTERVAL_MS ?? '10000',
};
// BENCH_AA_START=b: b starts first (and gets the lower port), to see whether the dearer one
// is the second started or the second measured.
const servers = {};
for (const name of process.env.BENCH_AA_START === 'b' ? ['b', 'a'] : ['a', 'b'])
  servers[name] = await startServer('servers/ours.mjs', env);
const cpu = (s) => {
  const t = cpuTimes(s.child.pid);
  return t.user + t.system;
};
console.log(
  `\n## Two Monitor-on servers, ${ROUNDS} rounds of ${REQUESTS} requests each, ${process.env.BENCH_AA_START === 'b' ? 'b' : 'a'} started first (${layout()})`,
);
for (const s of Object.values(servers)) await fireChat(s.port, { amount: 2_000, connections: 16 }); // warm-up
const perRequest = { a: [], b: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 ? ['b', 'a'] : ['a', 'b']) {
    const s = servers[name];
    const c0 = cpu(s);
    const r = await fireChat(s.port, { amount: REQUESTS, connections: 16 });
    perRequest[name].push((cpu(s) - c0) / r.requests);
  }
}
const idle0 = { a: cpu(servers.a), b: cpu(servers.b) };
await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
for (const name of ['a', 'b']) {
  const s = servers[name];
  const alerts = await (await fetch(`http://127.0.0.1:${s.port}/api/monitor/alerts/active`)).json();
  const sorted = [...perRequest[name]].sort((x, y) => x - y);
  console.log(
    `${name}: CPU µs per request by round ${perRequest[name].map((x) => x.toFixed(1)).join(' ')} (median ${sorted[sorted.length >> 1].toFixed(1)}); idle ${((cpu(s) - idle0[name]) / IDLE_MS).toFixed(2)} ms of CPU a second; active alerts: ${alerts.alerts.map((x) => `${x.ruleId} (${x.state})`).join(', ') || 'none'}`,
  );
}
for (const s of Object.values(servers)) await s.stop();
await upstream.stop();
