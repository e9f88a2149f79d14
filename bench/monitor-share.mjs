// What the Monitor's own code costs a relayed chat request, found in CPU profiles rather
// than by subtracting two noisy totals: two servers (Monitor on, Monitor off) relay the same
// non-streamed load while `node --cpu-prof` samples them; each sample is charged to the
// nearest frame of the app or a library on its stack (Node's internals to whoever called
// them), and the samples charged to the Monitor's modules, less what the same modules get
// with the Monitor off (the structured log runs in both), are its share. Times the CPU per
// request the same run measured from /proc, that share is microseconds per request.
//
//   npm run bench -- monitor-share
//   BENCH_PIN=1 taskset -c 8-15 npm run bench -- monitor-share
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros, fireChat, startServer } from './processes.mjs';

const REQUESTS = Number(process.env.BENCH_SHARE_REQUESTS ?? 40_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** The modules that run only for the Monitor (and dist/log, which runs in both). */
const MONITOR =
  /\/dist\/(metrics|log|alerts|monitor\.js|stream-hub\.js|scheduler\.js|probes|routes\/(timing|client-load)\.js)/;

const fire = (port, amount) => fireChat(port, { amount, connections: CONNECTIONS });

/** Busy sample time, and the time charged to each Monitor function, from one profile. */
function charge(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = new Map(); // node id → the nearest app or library frame (memoised)
  const ownerOf = (id) => {
    if (owner.has(id)) return owner.get(id);
    const url = byId.get(id).callFrame.url;
    const up = parent.get(id);
    const found = /\/(dist|node_modules)\//.test(url) ? id : up === undefined ? null : ownerOf(up);
    owner.set(id, found);
    return found;
  };
  let busy = 0;
  const monitor = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    if (node.callFrame.functionName === '(idle)') continue;
    const dt = p.timeDeltas[i] ?? 0;
    busy += dt;
    const o = ownerOf(p.samples[i]);
    if (o === null) continue;
    const cf = byId.get(o).callFrame;
    if (!MONITOR.test(cf.url)) continue;
    const key = `${cf.url.replace(/.*\/dist\//, '')} ${cf.functionName || '(anonymous)'}`;
    monitor.set(key, (monitor.get(key) ?? 0) + dt);
  }
  return { busy, monitor };
}

export async function monitorShare() {
  const upstream = await startServer('servers/upstream.mjs');
  const base = upstream.msg.split(' ')[1];
  const rows = {};
  for (const on of [false, true]) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
    const server = await startServer('servers/ours.mjs', { UPSTREAM_URL: base, MONITOR_ENABLED: String(on) }, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
    ]);
    await fire(server.port, 4_000); // warm-up: JIT, pools
    const cpu0 = cpuMicros(server.child.pid);
    const r = await fire(server.port, REQUESTS);
    const cpuPerRequest = (cpuMicros(server.child.pid) - cpu0) / r.requests;
    await server.stop('SIGINT');
    const profile = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    rows[on ? 'on' : 'off'] = { cpuPerRequest, ...charge(join(dir, profile)) };
  }
  await upstream.stop();
  // Shares of busy time, turned into µs per request with the CPU per request measured.
  const perRequest = (row, t) => (t / row.busy) * row.cpuPerRequest;
  const total = (row) => [...row.monitor.values()].reduce((a, b) => a + b, 0);
  const on = perRequest(rows.on, total(rows.on));
  const off = perRequest(rows.off, total(rows.off));
  console.log(`\n## The Monitor's own code per relayed chat request (CPU profiles, ${REQUESTS} requests each)`);
  console.log(
    `CPU per request (profiling on): Monitor off ${rows.off.cpuPerRequest.toFixed(1)} µs, on ${rows.on.cpuPerRequest.toFixed(1)} µs`,
  );
  console.log('| Monitor on: function | µs per request |');
  console.log('|---|---:|');
  for (const [k, t] of [...rows.on.monitor].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`| ${k} | ${perRequest(rows.on, t).toFixed(2)} |`);
  console.log(
    `\ncharged to the Monitor's modules: on ${on.toFixed(2)} µs, off ${off.toFixed(2)} µs (the log) → **the Monitor's share: ${(on - off).toFixed(2)} µs per request** (target ≤ 5 µs)`,
  );
}
