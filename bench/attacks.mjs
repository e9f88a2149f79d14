// Replays the hostile requests of docs/RELIABILITY.md against the built server over HTTP,
// each against a fresh server process (so one that kills or freezes it cannot spoil the
// next), while a probe asks /healthz every 20 ms. Per attack: what the attacker got, how
// long it took, the probe's worst wait, the server's own worst event-loop delay
// (bench/servers/loop-delay.mjs, preloaded), its peak RSS (VmHWM) and whether it lived.
//   npm run build && node bench/attacks.mjs [names…] [--server dist/server.js] [--timeout 60]
//   BENCH_PIN=1 taskset -c 8-15 node bench/attacks.mjs   # (4+ cores) the server on core 1
// Names: login-flood feedback-flood tool-call duration sockets admin-guesses key-guesses
// rule-label rule-labels sse-no-blank (all when none is given).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const SERVER = resolve(flag('--server', 'dist/server.js'));
const TIMEOUT_S = Number(flag('--timeout', '60'));
const ADMIN = 'admin-token-for-the-attack-bench';
const LOOP_DELAY = new URL('./servers/loop-delay.mjs', import.meta.url).pathname;
const API_KEY = 'sk-bench-key-0123456789';
const PNG = // 1×1 transparent PNG
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/** The stand-in model server: its answer is whatever the current attack sets. */
let answer = (res) => res.end(JSON.stringify({ choices: [{ message: { content: 'ok' } }] }));
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url.endsWith('/models')) return res.end(JSON.stringify({ data: [{ id: 'bench' }] }));
    res.setHeader('content-type', 'application/json');
    answer(res, req);
  });
});
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}/v1`;

function send(port, method, path, { headers = {}, body } = {}) {
  return new Promise((resolveSend) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('end', () =>
        resolveSend({
          status: res.statusCode,
          ms: performance.now() - t0,
          body: Buffer.concat(chunks).toString('utf8').slice(0, 300),
          retryAfter: res.headers['retry-after'],
        }),
      );
      res.on('error', () => resolveSend({ status: 0, ms: performance.now() - t0, body: 'response error' }));
    });
    req.setTimeout(TIMEOUT_S * 1_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolveSend({ status: 0, ms: performance.now() - t0, body: e.message }));
    if (body === undefined) req.end();
    else if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

/** A JSON body of `[{},{},…]` of about `bytes`, written in chunks (never one huge string). */
function floodBody(bytes) {
  return (req) => {
    const n = Math.floor((bytes - 2) / 3);
    const chunk = '{},'.repeat(100_000);
    let left = n;
    req.write('[');
    const more = () => {
      while (left > 100_000) {
        left -= 100_000;
        if (!req.write(chunk)) return req.once('drain', more);
      }
      req.end(`${'{},'.repeat(Math.max(0, left - 1))}{}]`);
    };
    more();
  };
}

async function startServer(env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'attack-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  // BENCH_PIN=1 (4+ cores): the server alone on core 1; run this script on other cores (taskset).
  const node = [process.execPath, `--import=${LOOP_DELAY}`, SERVER];
  const [cmd, argv] = process.env.BENCH_PIN === '1' ? ['taskset', ['-c', '1', ...node]] : [node[0], node.slice(1)];
  const child = spawn(cmd, argv, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      UPSTREAM_URL: upstreamUrl,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      MONITOR_ADMIN_TOKEN: ADMIN,
      BENCH_LOOP_DELAY_FILE: join(dataDir, 'loop-delay.json'),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-2_000);
  });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = signal ?? `exit ${code}`;
  });
  for (let i = 0; i < 200; i++) {
    const r = await send(port, 'GET', '/healthz');
    if (r.status === 200) break;
    await new Promise((r2) => setTimeout(r2, 50));
  }
  const peakRssMiB = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 1024) : null;
    } catch {
      return null;
    }
  };
  /** The server's own worst event-loop delay (ms) since the last call; null when it cannot say (held, or gone). */
  const loopMaxMs = async () => {
    const file = join(dataDir, 'loop-delay.json');
    rmSync(file, { force: true });
    if (exited !== null) return null;
    child.kill('SIGUSR2');
    for (let i = 0; i < 50; i++) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')).max;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return null;
  };
  return {
    port,
    peakRssMiB,
    loopMaxMs,
    alive: () => exited === null,
    exited: () => exited,
    stderr: () => stderr,
    stop() {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** /healthz every 20 ms (a new connection each) until stopped: the worst wait and the failures. */
function probe(port) {
  let stop = false;
  const waits = [];
  let failed = 0;
  const done = (async () => {
    while (!stop) {
      const r = await new Promise((res) => {
        const t0 = performance.now();
        const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (rs) => {
          rs.resume();
          rs.on('end', () => res({ ok: rs.statusCode === 200, ms: performance.now() - t0 }));
        });
        req.setTimeout(30_000, () => req.destroy());
        req.on('error', () => res({ ok: false, ms: performance.now() - t0 }));
        req.end();
      });
      waits.push(r.ms);
      if (!r.ok) failed++;
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  return async () => {
    stop = true;
    await done;
    const s = [...waits].sort((a, b) => a - b);
    const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0);
    return { probes: s.length, failed, p99: q(0.99), max: s.at(-1) ?? 0 };
  };
}

const json = (v) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) });
const remote = { 'x-forwarded-for': '203.0.113.9' };

const ATTACKS = {
  // Unauthenticated: a 50 MiB array of 17 million empty objects to the login.
  'login-flood': async (s) =>
    send(s.port, 'POST', '/api/monitor/login', {
      headers: { 'content-type': 'application/json', ...remote },
      body: floodBody(50 * 1024 * 1024 - 1024),
    }),
  'feedback-flood': async (s) =>
    send(s.port, 'POST', '/api/gui/feedback', {
      headers: { 'content-type': 'application/json' },
      body: floodBody(50 * 1024 * 1024 - 1024),
    }),
  // The model answers an unclosed <tool_call> followed by 20 000 spaces.
  'tool-call': async (s) => {
    answer = (res) =>
      res.end(JSON.stringify({ choices: [{ message: { content: `<tool_call>${' '.repeat(20_000)}x` } }] }));
    return send(s.port, 'POST', '/api/gui/execute', json({ screenshot: PNG, instruction: 'click OK' }));
  },
  // A rule test whose "for" is "1" + 120 000 spaces + "x".
  duration: async (s) =>
    send(
      s.port,
      'POST',
      '/api/monitor/alerts/rules/test',
      json({
        name: 'x',
        metric: 'gpu_utilization_percent',
        op: '>',
        threshold: 1,
        for: `1${' '.repeat(120_000)}x`,
        severity: 'warning',
        channels: ['console'],
      }),
    ),
  // 520 Monitor WebSockets from one client, then a chat request.
  sockets: async (s) => {
    const { WebSocket } = await import('ws');
    const sockets = [];
    let opened = 0;
    let refused = 0;
    await Promise.all(
      Array.from(
        { length: 520 },
        () =>
          new Promise((res) => {
            const ws = new WebSocket(`ws://127.0.0.1:${s.port}/api/monitor/stream`);
            sockets.push(ws);
            ws.on('open', () => {
              opened++;
              res();
            });
            ws.on('error', () => {
              refused++;
              res();
            });
            ws.on('unexpected-response', (_q, r) => {
              refused++;
              r.resume();
              res();
            });
          }),
      ),
    );
    const chat = await send(
      s.port,
      'POST',
      '/v1/chat/completions',
      json({ messages: [{ role: 'user', content: 'hi' }] }),
    );
    for (const ws of sockets) ws.terminate();
    return { ...chat, body: `${opened} open, ${refused} refused; then chat: ${chat.status}` };
  },
  // 300 wrong admin tokens.
  'admin-guesses': async (s) => {
    const counts = {};
    for (let i = 0; i < 300; i++) {
      const r = await send(s.port, 'DELETE', '/api/monitor/alerts/rules/none', {
        headers: { 'x-admin-token': `guess-${i}-${'x'.repeat(20)}` },
      });
      counts[r.status] = (counts[r.status] ?? 0) + 1;
    }
    return { status: 'mixed', ms: 0, body: JSON.stringify(counts) };
  },
  // 200 wrong API keys on chat.
  'key-guesses': async (s) => {
    const counts = {};
    for (let i = 0; i < 200; i++) {
      const r = await send(s.port, 'POST', '/v1/chat/completions', {
        headers: { 'content-type': 'application/json', authorization: `Bearer sk-guess-${i}` },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      counts[r.status] = (counts[r.status] ?? 0) + 1;
    }
    return { status: 'mixed', ms: 0, body: JSON.stringify(counts) };
  },
  // A rule with one 40 MiB label value.
  'rule-label': async (s, body) =>
    send(s.port, 'POST', '/api/monitor/alerts/rules', {
      headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN },
      body,
    }),
  // A rule with 300 000 labels.
  'rule-labels': async (s, body) =>
    send(s.port, 'POST', '/api/monitor/alerts/rules', {
      headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN },
      body,
    }),
  // A streamed answer whose one event never ends: 300 MB without a blank line.
  'sse-no-blank': async (s) => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"');
      const chunk = 'a'.repeat(1024 * 1024);
      let left = 300;
      const more = () => {
        while (left-- > 0) if (!res.write(chunk)) return res.once('drain', more);
        res.end('"}}]}\n');
      };
      res.on('error', () => {});
      more();
    };
    return send(
      s.port,
      'POST',
      '/v1/chat/completions',
      json({ stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
  },
};

const ENV = { 'key-guesses': { API_KEYS: API_KEY } };
const rule = (labels) =>
  JSON.stringify({
    name: 'big rule',
    metric: 'gpu_utilization_percent',
    labels,
    op: '>',
    threshold: 1,
    consecutiveChecks: 1,
    severity: 'warning',
    channels: ['console'],
  });
/** Bodies built before the probe starts: building them would hold this process's own loop. */
const PREPARE = {
  'rule-label': () => rule({ gpu: 'x'.repeat(40 * 1024 * 1024) }),
  'rule-labels': () => rule(Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`l${i}`, '0']))),
};
const names = args.length ? args : Object.keys(ATTACKS);
const rows = [];
for (const name of names) {
  const attack = ATTACKS[name];
  if (!attack) throw new Error(`unknown attack ${name}; one of ${Object.keys(ATTACKS).join(', ')}`);
  const s = await startServer(ENV[name]);
  const prepared = PREPARE[name]?.();
  await s.loopMaxMs();
  const stopProbe = probe(s.port);
  const r = await attack(s, prepared);
  const p = await stopProbe();
  const loopMax = await s.loopMaxMs();
  const after = s.alive() ? await send(s.port, 'GET', '/healthz') : { status: 0 };
  rows.push({
    attack: name,
    status: r.status,
    ms: Math.round(r.ms),
    answer: r.body.replace(/\s+/g, ' ').slice(0, 140),
    healthzP99: Math.round(p.p99),
    healthzMax: Math.round(p.max),
    probesFailed: `${p.failed}/${p.probes}`,
    serverLoopMaxMs: loopMax === null ? 'n/a' : Math.round(loopMax),
    peakRssMiB: s.peakRssMiB(),
    alive: s.alive() && after.status === 200 ? 'yes' : `no (${s.exited() ?? 'not answering'})`,
  });
  if (!s.alive())
    rows.at(-1).stderr =
      s
        .stderr()
        .split('\n')
        .find((l) => /FATAL|Error/.test(l)) ?? '';
  s.stop();
  answer = (res) => res.end(JSON.stringify({ choices: [{ message: { content: 'ok' } }] }));
  console.error(JSON.stringify(rows.at(-1)));
}
upstream.close();
console.log(
  '| attack | answer | took ms | /healthz p99 / max ms | probes failed | server loop delay max ms | peak RSS MiB | alive |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.attack} | ${r.status} ${r.answer.replace(/\|/g, '\\|')} | ${r.ms} | ${r.healthzP99} / ${r.healthzMax} | ${r.probesFailed} | ${r.serverLoopMaxMs} | ${r.peakRssMiB} | ${r.alive} |`,
  );
