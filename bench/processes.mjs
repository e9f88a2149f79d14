// The benchmarks' servers as child processes: started one per variant (pinned with
// BENCH_PIN, below), their CPU time read from /proc. Medians, because one run is noise.
import autocannon from 'autocannon';
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The value at quantile `f` (0…1) of `xs`, nearest rank below. */
export const quantile = (xs, f) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))];

let nextPort = 19_100;
/**
 * Where the servers run. BENCH_PIN=1 on a machine with cores to spare (the 16-core GPU
 * host): each server gets a core of its own (taskset), cores 1, 2, …; run the load
 * generator itself on others, e.g. `taskset -c 10-15 node bench/run.mjs chat`.
 * BENCH_PIN=shared:S[:U]: every server measured on core S, taking turns (they are measured
 * one at a time, so none gets a quieter or faster core than another), and the stand-in
 * model server on core U (without U, on the load generator's cores). The load generator
 * goes on the other cores: on a 2-core machine `BENCH_PIN=shared:1 taskset -c 0 …`, on the
 * host `BENCH_PIN=shared:2:1 taskset -c 10-15 …`. The layout is checked against the
 * machine's SMT siblings (a server on a sibling of a load core shares that core's pipeline).
 */
const PIN = process.env.BENCH_PIN ?? '';
const SHARED = /^shared:(\d+)(?::(\d+))?$/.exec(PIN);
let nextCore = 1;
/** The core a started process is pinned to, or null (the parent's own cores). */
function coreFor(role) {
  if (SHARED) return role === 'upstream' ? (SHARED[2] ?? null) : SHARED[1];
  return PIN === '1' ? String(nextCore++) : null;
}

/** A Linux CPU list ("0-3,8") as core numbers. */
const cpuList = (text) =>
  text.split(',').flatMap((r) => {
    const [a, b = a] = r.split('-').map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
  });

/** The cores a core shares its pipeline with (SMT siblings, itself included), from sysfs. */
function siblings(core) {
  try {
    return cpuList(readFileSync(`/sys/devices/system/cpu/cpu${core}/topology/thread_siblings_list`, 'utf8').trim());
  } catch {
    return [String(core)];
  }
}

/** The pinning in words, for a benchmark's heading; warns of a server core shared with the load. */
export function layout() {
  if (!SHARED) return PIN === '1' ? 'each server on a core of its own' : 'unpinned';
  const load = cpuList(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '');
  const clash = [SHARED[1], SHARED[2]].filter((c) => c !== undefined && siblings(c).some((x) => load.includes(x)));
  if (clash.length)
    console.warn(
      `BENCH_PIN=${PIN}: core ${clash.join(', ')} shares a physical core with the load generator's (${load.join(',')})`,
    );
  return `every server on core ${SHARED[1]} in turn, the model server on ${SHARED[2] ?? 'the load generator’s cores'}, the load generator on ${load.join(',')}`;
}

/** Every server started: none outlives the benchmark, whether it ends or fails. */
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
process.on('unhandledRejection', (err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Starts `script` (relative to bench/) with `port` as its argument; resolves on its first
 * IPC message. `role`: 'upstream' for the stand-in model server (pinned apart, see above).
 */
export async function startServer(
  script,
  env = {},
  nodeArgs = [],
  role = script.endsWith('upstream.mjs') ? 'upstream' : 'server',
) {
  const port = nextPort++;
  const args = [here(script), String(port)];
  const options = { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] };
  const core = coreFor(role);
  const child =
    core === null
      ? fork(args[0], args.slice(1), { ...options, execArgv: nodeArgs })
      : spawn('taskset', ['-c', String(core), process.execPath, ...nodeArgs, ...args], options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  const msg = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
  return {
    child,
    port,
    core,
    msg: String(msg),
    /** Sends `message` over IPC and waits for the child's answer. */
    ask: (message) =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send(message);
      }),
    /** SIGINT lets the server exit on its own (and write a --cpu-prof profile); SIGKILL does not wait. */
    stop: (signal = 'SIGKILL') =>
      new Promise((r) => {
        child.once('exit', r);
        child.kill(signal);
      }),
  };
}

/** CPU time (µs) the process has used, all its threads, from /proc (utime + stime, clock ticks). */
export function cpuMicros(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/**
 * User and system CPU time (µs) apart. On loopback the kernel's TCP work for the receiving
 * end is often charged to the sender's system time: user time is the server's own code.
 */
export function cpuTimes(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 1e6 / 100; // USER_HZ is 100 on Linux
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
}

/**
 * Instructions and cycles the processes retire, every thread (`bench/pmu-count.c`; BENCH_PMU
 * names the built program: `cc -O2 -static -o pmu-count bench/pmu-count.c`). CPU time moves
 * with the machine (caches, clocks, neighbours: the host's rounds fell into a fast and a
 * slow mode); the instructions a request takes do not, so a difference of a few hundred
 * instructions a request can be read where one of a few µs could not. Only where perf events
 * can be read: a CPU whose counters the VM exposes, and root or perf_event_paranoid ≤ 1.
 * Returns null without BENCH_PMU.
 */
export async function pmuCounters(pids) {
  const program = process.env.BENCH_PMU;
  if (!program) return null;
  const child = spawn(program, pids.map(String), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${program} stopped (no performance counters here?)`);
    return value;
  };
  if ((await next()) !== 'ready') throw new Error(`${program} did not start`);
  return {
    /** The counts so far, by pid: { instructions, cycles }. */
    async read() {
      child.stdin.write('\n');
      const f = (await next()).split(' ').map(Number);
      const by = new Map();
      for (let i = 0; i < f.length; i += 3) by.set(f[i], { instructions: f[i + 1], cycles: f[i + 2] });
      return by;
    },
    close: () => child.stdin.end(),
  };
}

/** The chat request every relay benchmark sends: a question about a (tiny) inline image. */
export const chatBody = (stream = false) =>
  JSON.stringify({
    ...(stream ? { stream: true } : {}),
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is on the screen?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
  });

/** A chat request about a photo sent inline: `kib` KiB of base64 (a 1.5 MB JPEG is about 2 MiB of it). */
export const imageChatBody = (kib) =>
  JSON.stringify({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is on the screen?' },
          {
            type: 'image_url',
            image_url: { url: `data:image/jpeg;base64,${Buffer.alloc((kib * 1024 * 3) / 4, 7).toString('base64')}` },
          },
        ],
      },
    ],
  });

/**
 * `amount` chat requests through the server on `port` (autocannon, `connections` at once,
 * `rate` requests a second at most if given); answers per second and failures. The time is
 * from the start to the last answer: autocannon itself ends a run only at its next
 * one-second tick, which added up to a second to every run. `body`: another request body.
 */
export async function fireChat(port, { amount, connections, stream = false, rate, workers, body, close = false }) {
  const t0 = process.hrtime.bigint();
  let last = t0;
  const run = autocannon({
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    method: 'POST',
    // close: a client that closes its connection after each answer (a new one each request).
    headers: { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) },
    body: body ?? chatBody(stream),
    connections,
    amount,
    timeout: 60,
    ...(rate ? { overallRate: rate } : {}),
    ...(workers ? { workers } : {}),
  });
  run.on('response', () => {
    last = process.hrtime.bigint();
  });
  const r = await run;
  const seconds = Number(last - t0) / 1e9;
  return {
    seconds,
    rps: r.requests.total / seconds,
    requests: r.requests.total,
    errors: r.errors + r.non2xx + r.timeouts,
  };
}
