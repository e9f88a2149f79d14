// A diagnostic for issue 22: what garbage collection costs each relayed request, per server,
// under the relay's loads. Each server is started with a preload that counts its GCs by kind
// (servers/gc-count.cjs); the time is the collector's pause on the main thread.
//
//   npm run build && cd bench && BENCH_PIN=shared:1 taskset -c 0 node relay-gc.mjs
//   BENCH_GC_TOKENS=2 node relay-gc.mjs      # streamed answers of 2 events (0: non-streamed)
//   BENCH_GC_SERVERS=servers/ours.mjs,servers/fastify-floor.mjs node relay-gc.mjs
//   BENCH_GC_CLOSE=1 node relay-gc.mjs        # clients that close their connection after each answer
import { fireChat, here, layout, startServer } from './processes.mjs';

const TOKENS = Number(process.env.BENCH_GC_TOKENS ?? 0);
const REQUESTS = Number(process.env.BENCH_GC_REQUESTS ?? 20_000);
const SERVERS = (process.env.BENCH_GC_SERVERS ?? 'servers/ours.mjs,servers/fastify-floor.mjs,servers/relay.mjs').split(
  ',',
);
const stream = TOKENS > 0;
const close = process.env.BENCH_GC_CLOSE === '1';

const upstream = await startServer('servers/upstream.mjs');
if (stream) await upstream.ask({ tokens: TOKENS, tokenIntervalMs: 0 });
console.log(
  `\n## GC per relayed request, ${stream ? `streamed answers of ${TOKENS} events` : 'non-streamed'}, ${REQUESTS} requests, 16 connections${close ? ' closed after each answer' : ''} (${layout()})`,
);
console.log('| server | minor GCs | ms each | µs per request | major + incremental µs per request |');
console.log('|---|---:|---:|---:|---:|');
for (const script of SERVERS) {
  const env = { UPSTREAM_URL: upstream.msg.split(' ')[1], MONITOR_ENABLED: 'false' };
  const server = await startServer(script, env, ['-r', here('servers/gc-count.cjs')]);
  await fireChat(server.port, { amount: 3_000, connections: 16, stream, close }); // warm-up
  await server.ask('gc-start');
  const r = await fireChat(server.port, { amount: REQUESTS, connections: 16, stream, close });
  const sums = JSON.parse(await server.ask('gc-report'));
  await server.stop();
  const minor = sums.minor ?? { count: 0, ms: 0 };
  const major = (sums.major?.ms ?? 0) + (sums.incremental?.ms ?? 0);
  console.log(
    `| ${script} | ${minor.count} | ${(minor.ms / Math.max(1, minor.count)).toFixed(2)} | ${((minor.ms * 1000) / r.requests).toFixed(1)} | ${((major * 1000) / r.requests).toFixed(1)} |`,
  );
}
await upstream.stop();
