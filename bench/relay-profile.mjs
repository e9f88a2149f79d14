// Where a relayed non-streamed chat request's CPU goes, by package and by our module: one
// server (ours with the Monitor off, or BENCH_SERVER=servers/relay.mjs for the minimal relay)
// relays a load under `node --cpu-prof`; each busy sample is charged to the nearest frame of
// a package or of dist/ on its stack, and shares of busy time times the CPU per request
// (from /proc) are microseconds per request; then undici's own functions, by self time.
// A diagnostic for issue 22's non-streamed gap, not a claim: profiles shift work between
// frames, and only a side-by-side run over HTTP (bench/relay.mjs) measures.
//
//   npm run build && cd bench && node relay-profile.mjs
//   BENCH_SERVER=servers/relay.mjs node relay-profile.mjs
//   BENCH_PROFILE_MONITOR=true node relay-profile.mjs      # ours with the Monitor on (diff it with off)
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros, fireChat, imageChatBody, startServer } from './processes.mjs';

const SCRIPT = process.env.BENCH_SERVER ?? 'servers/ours.mjs';
const REQUESTS = Number(process.env.BENCH_PROFILE_REQUESTS ?? 20_000);
/** BENCH_PROFILE_IMAGE_KIB: requests with a photo inline of this many KiB of base64 instead. */
const IMAGE_KIB = Number(process.env.BENCH_PROFILE_IMAGE_KIB ?? 0);
const body = IMAGE_KIB ? imageChatBody(IMAGE_KIB) : undefined;
/** BENCH_PROFILE_STREAM_TOKENS: streamed answers of this many events sent at once instead. */
const STREAM_TOKENS = Number(process.env.BENCH_PROFILE_STREAM_TOKENS ?? 0);
const stream = STREAM_TOKENS > 0;

const upstream = await startServer('servers/upstream.mjs');
if (stream) await upstream.ask({ tokens: STREAM_TOKENS, tokenIntervalMs: 0 });
const dir = mkdtempSync(join(tmpdir(), 'relay-profile-'));
const MONITOR = process.env.BENCH_PROFILE_MONITOR ?? 'false';
const server = await startServer(SCRIPT, { UPSTREAM_URL: upstream.msg.split(' ')[1], MONITOR_ENABLED: MONITOR }, [
  '--cpu-prof',
  `--cpu-prof-dir=${dir}`,
]);
await fireChat(server.port, { amount: Math.min(3_000, REQUESTS), connections: 16, body, stream }); // warm-up: JIT, pools
const cpu0 = cpuMicros(server.child.pid);
// The load's window on the monotonic clock V8's profiler stamps its samples with: start-up
// (compiling, loading modules) and the warm-up are left out of the shares.
const from = Number(process.hrtime.bigint() / 1000n);
const r = await fireChat(server.port, { amount: REQUESTS, connections: 16, body, stream });
const to = Number(process.hrtime.bigint() / 1000n);
const perRequest = (cpuMicros(server.child.pid) - cpu0) / r.requests;
await server.stop('SIGINT');
await upstream.stop();

const profile = JSON.parse(
  readFileSync(
    join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.cpuprofile')),
    ),
    'utf8',
  ),
);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** The package or our module of the nearest such frame on a sample's stack. */
function groupOf(id) {
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const url = byId.get(x).callFrame.url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1];
    const ours = /\/dist\/(.+)\.js/.exec(url);
    if (ours) return `ours: ${ours[1]}`;
  }
  return 'Node (no package frame: the HTTP server, sockets)';
}
/** The nearest frame of a package or of dist/ matching `re`. */
function nearest(id, re) {
  for (let x = id; x !== undefined; x = parent.get(x)) if (re.test(byId.get(x).callFrame.url)) return x;
  return undefined;
}
const frameKey = (id, strip) => {
  const f = byId.get(id).callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.replace(strip, '')}:${f.lineNumber + 1}`;
};

const groups = new Map();
const undici = new Map();
const ours = new Map();
const fastify = new Map();
/** Samples with no package frame: by the function running and by the callback the loop entered. */
const nodeSelf = new Map();
const nodeEntry = new Map();
/** The frame the event loop called into: the one below the profile's root. */
function entryOf(id) {
  let x = id;
  while (parent.get(x) !== undefined && parent.get(parent.get(x)) !== undefined) x = parent.get(x);
  return x;
}
/** BENCH_PROFILE_PACKAGE: the package whose functions get a table of their own (fastify). */
const PACKAGE = process.env.BENCH_PROFILE_PACKAGE ?? 'fastify';
const packageUrl = new RegExp(`.*node_modules/${PACKAGE}/`);
let busy = 0;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  const dt = profile.timeDeltas[i];
  at += dt;
  if (at < from || at > to) continue;
  const fn = byId.get(id).callFrame.functionName;
  if (fn === '(idle)' || fn === '(program)') continue;
  busy += dt;
  const group = fn === '(garbage collector)' ? 'GC' : groupOf(id);
  groups.set(group, (groups.get(group) ?? 0) + dt);
  const u = group === 'undici' ? nearest(id, /node_modules\/undici\//) : undefined;
  if (u !== undefined) undici.set(frameKey(u, /.*undici\//), (undici.get(frameKey(u, /.*undici\//)) ?? 0) + dt);
  const f = group === PACKAGE ? nearest(id, packageUrl) : undefined;
  if (f !== undefined) fastify.set(frameKey(f, packageUrl), (fastify.get(frameKey(f, packageUrl)) ?? 0) + dt);
  if (group.startsWith('Node ')) {
    const self = frameKey(id, /.*\//);
    nodeSelf.set(self, (nodeSelf.get(self) ?? 0) + dt);
    const entry = frameKey(entryOf(id), /.*\//);
    nodeEntry.set(entry, (nodeEntry.get(entry) ?? 0) + dt);
  }
  const o = group.startsWith('ours: ') ? nearest(id, /\/dist\//) : undefined;
  if (o !== undefined) ours.set(frameKey(o, /.*\/dist\//), (ours.get(frameKey(o, /.*\/dist\//)) ?? 0) + dt);
}
// Both clocks are CLOCK_MONOTONIC on Linux; elsewhere the window may miss every sample.
if (busy === 0)
  throw new Error("No profile sample fell in the load's window: the profiler's clock is not process.hrtime's here");
const us = (t) => ((t / busy) * perRequest).toFixed(1).padStart(6);
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(
  `\n## ${SCRIPT}, Monitor ${MONITOR === 'true' ? 'on' : 'off'}: ${perRequest.toFixed(1)} µs of CPU per request over ${r.requests}`,
);
console.log('\n| µs per request | share | charged to |\n|---:|---:|---|');
for (const [g, t] of top(groups, 30)) console.log(`| ${us(t)} | ${((100 * t) / busy).toFixed(1)} % | ${g} |`);
console.log('\n| µs per request | undici function |\n|---:|---|');
for (const [k, t] of top(undici, 12)) console.log(`| ${us(t)} | ${k} |`);
console.log(`\n| µs per request | ${PACKAGE} function (nearest on the stack) |\n|---:|---|`);
for (const [k, t] of top(fastify, 12)) console.log(`| ${us(t)} | ${k} |`);
console.log('\n| µs per request | our function (nearest on the stack) |\n|---:|---|');
for (const [k, t] of top(ours, 40)) console.log(`| ${us(t)} | ${k} |`);
console.log('\n| µs per request | Node, no package frame: the function running (self) |\n|---:|---|');
for (const [k, t] of top(nodeSelf, 15)) console.log(`| ${us(t)} | ${k} |`);
console.log('\n| µs per request | Node, no package frame: the callback the loop entered |\n|---:|---|');
for (const [k, t] of top(nodeEntry, 12)) console.log(`| ${us(t)} | ${k} |`);
