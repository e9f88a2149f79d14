// Large video uploads against the built server: N valid MP4s of M MiB POSTed to /api/video
// at once (the file itself as the body; or --as url: a URL of this process's file server;
// or --as json: a data URL in a JSON body), while a probe asks /healthz every 20 ms on a new
// connection, whether or not the previous one has answered (a blocked event loop shows as
// every probe it held up). Reports the probes' p50/p99/max, the uploads' answers, and the
// server's own event-loop delay (servers/loop-delay.mjs, preloaded: a held loop told apart
// from a machine too busy to run the server), CPU time and peak RSS (VmHWM). On a shared
// 2-core machine a probe also waits for a core. The model server is a stand-in in a child process that reads
// and discards each request body and answers a chat completion. Servers given with
// --server run one after the other, each against the same file.
//   npm run build && node bench/video-uploads.mjs
//   node bench/video-uploads.mjs --uploads 4 --mib 190 --rounds 2 --cap 4 --probe-ms 20
//   node bench/video-uploads.mjs --server dist/server.js --server /path/to/old/dist/server.js
//   node bench/video-uploads.mjs --as url;  node bench/video-uploads.mjs --as json --mib 36
//   BENCH_PIN=1 taskset -c 12-15 node bench/video-uploads.mjs   # (4+ cores) server on core 1, model server on 2
import { fork, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

if (process.argv[2] === 'model-server') {
  // Child: the stand-in model server. Counts each body's bytes, keeps none of them.
  const server = createServer((req, res) => {
    let bytes = 0;
    let first = '';
    req.on('data', (c) => {
      if (!first) first = c.subarray(0, 1).toString();
      bytes += c.length;
    });
    req.on('end', () => {
      if (req.method === 'POST') process.send?.({ body: bytes, json: first === '{' });
      const answer = JSON.stringify({
        id: 'chatcmpl-bench',
        object: 'chat.completion',
        model: 'stand-in',
        choices: [{ index: 0, message: { role: 'assistant', content: 'A stand-in answer.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1000, completion_tokens: 4, total_tokens: 1004 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
} else {
  await main();
}

function options() {
  const o = { uploads: 4, mib: 190, rounds: 1, cap: null, probeMs: 20, idleSeconds: 2, as: 'body', servers: [] };
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const [name, value] = [args[i], args[i + 1]];
    if (name === '--server') o.servers.push(resolve(value));
    else if (name === '--uploads') o.uploads = Number(value);
    else if (name === '--as' && ['body', 'url', 'json'].includes(value)) o.as = value;
    else if (name === '--mib') o.mib = Number(value);
    else if (name === '--rounds') o.rounds = Number(value);
    else if (name === '--cap') o.cap = Number(value);
    else if (name === '--probe-ms') o.probeMs = Number(value);
    else if (name === '--idle-seconds') o.idleSeconds = Number(value);
    else throw new Error(`unknown option ${name} (see the comment at the top of bench/video-uploads.mjs)`);
    i++;
  }
  if (o.servers.length === 0) o.servers.push(here('../dist/server.js'));
  return o;
}

async function main() {
  const o = options();
  const { writeMp4File } = await import('../dist/demo/mp4-file.js');
  const work = mkdtempSync(join(tmpdir(), 'video-uploads-'));
  const file = join(work, 'clip.mp4');
  // 1920×1080 at 30 fps for 2 minutes: about 55 KB a frame at 190 MiB.
  const bytes = await writeMp4File(file, {
    seconds: 120,
    fps: 30,
    width: 1920,
    height: 1080,
    payloadBytes: Math.round(o.mib * 1024 * 1024) - 64 * 1024,
    moov: 'last',
  });
  const rows = [];
  const files = o.as === 'url' ? await fileServer(file, bytes) : null;
  try {
    const send = sender(o.as, file, bytes, files?.url);
    for (const server of o.servers) rows.push(await runOne(server, send, o, work));
  } finally {
    files?.close();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `\n${o.uploads} × ${(bytes / 1048576).toFixed(1)} MiB MP4 uploads at once (as ${o.as}), ${o.rounds} round(s); /healthz every ${o.probeMs} ms; ` +
      `${cpus().length} cores, Node ${process.version}\n`,
  );
  console.log(
    '| server | answered | upload s (median, max) | /healthz idle p99 ms | under load p50 ms | p99 ms | max ms | probes (failed) | server loop delay p99, max ms | server CPU s | peak RSS MiB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.server} | ${r.answered} | ${r.uploadS} | ${r.idleP99} | ${r.p50} | ${r.p99} | ${r.max} | ${r.probes} | ${r.loop} | ${r.cpu} | ${r.peakRssMiB} |`,
    );
  }
  for (const r of rows) console.log(`\n${r.server}: the model server read bodies of ${r.modelServer}`);
}

function startChild(args, env, core, execArgv = []) {
  const options = { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv };
  return process.env.BENCH_PIN === '1'
    ? spawn('taskset', ['-c', String(core), process.execPath, ...execArgv, ...args], options)
    : fork(args[0], args.slice(1), options);
}

/** The server's own event-loop delay since the last reading (servers/loop-delay.mjs). */
async function loopDelay(server, file) {
  rmSync(file, { force: true });
  server.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
}

/** CPU time (s) a process has used, from /proc (utime + stime; USER_HZ is 100 on Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Serves the file at /clip.mp4 (for --as url), streamed from disk. */
async function fileServer(file, bytes) {
  const s = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': bytes });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${s.address().port}/clip.mp4`, close: () => s.close() };
}

/** How one upload is sent: the request's path, headers and body, and the server's settings it needs. */
function sender(as, file, bytes, url) {
  const question = 'What happens in this video?';
  if (as === 'body') {
    return {
      env: {},
      path: `/api/video?question=${encodeURIComponent(question)}`,
      headers: { 'content-type': 'video/mp4', 'content-length': bytes },
      body: () => createReadStream(file),
    };
  }
  const json = Buffer.from(
    as === 'url'
      ? JSON.stringify({ video: url, question })
      : `{"question":${JSON.stringify(question)},"video":"data:video/mp4;base64,${readFileSync(file).toString('base64')}"}`,
  );
  return {
    // Loopback is refused by the SSRF guard unless allowed; a data URL must fit BODY_LIMIT_BYTES.
    env:
      as === 'url'
        ? { IMAGE_FETCH_ALLOW: '127.0.0.1' }
        : { BODY_LIMIT_BYTES: String(Math.max(50 * 1048576, json.length + 1024)) },
    path: '/api/video',
    headers: { 'content-type': 'application/json', 'content-length': json.length },
    body: () => Readable.from([json]),
  };
}

async function runOne(serverPath, send, o, work) {
  const model = startChild([here('./video-uploads.mjs'), 'model-server'], {}, 2);
  const bodies = [];
  const modelPort = await new Promise((resolvePort, reject) => {
    model.on('message', (m) => (m.port ? resolvePort(m.port) : bodies.push(m)));
    model.once('exit', (code) => reject(new Error(`the stand-in model server exited (${code})`)));
  });
  const port = await freePort();
  const dataDir = mkdtempSync(join(work, 'data-'));
  const server = startChild(
    [serverPath],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      UPSTREAM_URL: `http://127.0.0.1:${modelPort}/v1`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // All N at once unless --cap says otherwise (the cap's 429s are measured separately).
      VIDEO_MAX_CONCURRENT: String(o.cap ?? o.uploads),
      BENCH_LOOP_DELAY_FILE: join(work, 'loop-delay.json'),
      ...send.env,
    },
    1,
    [`--import=${here('./servers/loop-delay.mjs')}`],
  );
  server.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL') console.error(`${serverPath} exited (${code ?? signal})`);
  });
  try {
    await waitForHealth(port);
    const idle = await probeWhile(port, o.probeMs, new Promise((r) => setTimeout(r, o.idleSeconds * 1000)));
    await loopDelay(server, join(work, 'loop-delay.json'));
    const cpuBefore = cpuSeconds(server.pid);
    const uploads = [];
    const loaded = await probeWhile(
      port,
      o.probeMs,
      (async () => {
        for (let round = 0; round < o.rounds; round++)
          uploads.push(...(await Promise.all(Array.from({ length: o.uploads }, () => upload(port, send)))));
      })(),
    );
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const loop = await loopDelay(server, join(work, 'loop-delay.json'));
    const peakRssMiB = Math.round(
      Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024,
    );
    const ok = uploads.filter((u) => u.status === 200);
    const times = uploads.map((u) => u.ms / 1000).sort((a, b) => a - b);
    const ms = loaded.map((p) => p.ms).sort((a, b) => a - b);
    const q = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : Number.NaN);
    const statuses = [...new Set(uploads.map((u) => u.status))].join('/');
    return {
      server: relative(process.cwd(), serverPath).startsWith('..') ? serverPath : relative(process.cwd(), serverPath),
      answered: `${ok.length}/${uploads.length}${ok.length < uploads.length ? ` (${statuses})` : ''}`,
      uploadS: `${q(times, 0.5).toFixed(1)}, ${times.at(-1).toFixed(1)}`,
      idleP99: q(
        idle.map((p) => p.ms).sort((a, b) => a - b),
        0.99,
      ).toFixed(1),
      p50: q(ms, 0.5).toFixed(1),
      p99: q(ms, 0.99).toFixed(1),
      max: ms.at(-1).toFixed(1),
      probes: `${loaded.length} (${loaded.filter((p) => p.status !== 200).length})`,
      loop: `${loop.p99}, ${loop.max}`,
      cpu: cpu.toFixed(1),
      peakRssMiB,
      modelServer: bodies.map((b) => `${(b.body / 1048576).toFixed(1)} MiB${b.json ? '' : ' (not JSON)'}`).join(', '),
    };
  } finally {
    server.kill('SIGKILL');
    model.kill('SIGKILL');
  }
}

async function waitForHealth(port) {
  for (let i = 0; i < 300; i++) {
    const r = await probe(port, 1000);
    if (r.status === 200) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`the server on port ${port} did not answer /healthz within 30 s`);
}

/** One /healthz on a new connection: its status (0: failed) and time. */
function probe(port, timeoutMs = 60_000) {
  return new Promise((resolveProbe) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolveProbe({ status: res.statusCode, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveProbe({ status: 0, ms: performance.now() - t0 }));
    req.end();
  });
}

/** Probes every `everyMs` until `done` settles, then waits for the probes still out. */
async function probeWhile(port, everyMs, done) {
  const out = [];
  const pending = [];
  const timer = setInterval(() => pending.push(probe(port).then((r) => out.push(r))), everyMs);
  try {
    await done;
  } finally {
    clearInterval(timer);
  }
  await Promise.all(pending);
  return out;
}

/**
 * POSTs one upload (the file streamed from disk, or its JSON); its status and time. A 429 comes before
 * the body is read and closes the connection: node:http then reports the answer and an
 * EPIPE after it, so the status is taken when the answer comes.
 */
function upload(port, send) {
  return new Promise((resolveUpload) => {
    const t0 = performance.now();
    let status = 0;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: send.path,
        headers: send.headers,
        agent: false,
        timeout: 600_000,
      },
      (res) => {
        status = res.statusCode;
        res.resume();
        res.on('end', () => resolveUpload({ status, ms: performance.now() - t0 }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveUpload({ status, ms: performance.now() - t0 }));
    send.body().pipe(req);
  });
}
