// A slow-client flood against the built server, with its default limits: N connections
// each sending a request body (or headers) one byte every 5 s, while a probe asks
// /healthz on a new connection every 100 ms. Reports the probes' answers and latency and
// what the server did with the flood (connections open, shed, refused).
//   npm run build && node bench/slow-clients.mjs [connections=2000] [seconds=30]
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 30);

if (process.argv[2] === 'attacker') {
  // Child: the flood, in its own process (its own file descriptors).
  const [, , , port, n] = process.argv;
  let open = 0;
  let closedByServer = 0;
  for (let i = 0; i < Number(n); i++) {
    const s = connect(Number(port), '127.0.0.1');
    s.on('error', () => {});
    s.once('connect', () => {
      open++;
      s.write(
        i % 2
          ? 'POST /api/ocr HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{'
          : 'POST /api/ocr HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ',
      );
      const t = setInterval(() => s.writable && s.write('a'), 5_000);
      s.once('close', () => {
        clearInterval(t);
        open--;
        closedByServer++;
      });
    });
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
  }
  setInterval(() => process.send?.({ open, closedByServer }), 1_000);
} else {
  const { buildApp } = await import('../dist/app.js');
  const { loadConfig } = await import('../dist/config.js');
  const built = await buildApp(
    loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'flood-')), LOG_LEVEL: 'silent', ...process.env }),
    { logger: false, probes: false },
  );
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const port = built.app.server.address().port;
  const attacker = fork(new URL(import.meta.url).pathname, ['attacker', String(port), String(N)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let flood = { open: 0, closedByServer: 0 };
  attacker.on('message', (m) => (flood = m));

  const probe = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
      req.end();
    });
  const results = [];
  let maxOpen = 0;
  const start = performance.now();
  const end = start + SECONDS * 1_000;
  while (performance.now() < end) {
    results.push({ at: performance.now() - start, ...(await probe()) });
    maxOpen = Math.max(maxOpen, built.connections().open);
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
  console.log(
    JSON.stringify(
      {
        flood: N,
        seconds: SECONDS,
        maxConnections: Number(process.env.MAX_CONNECTIONS ?? 512),
        probes: results.length,
        probesFailed: results.filter((r) => r.status !== 200).length,
        probeMs: { p50: q(0.5), p99: q(0.99), max: ms.at(-1).toFixed(1) },
        // Per 10 s: probes answered / sent, and their slowest (ms).
        windows: Array.from({ length: Math.ceil(SECONDS / 10) }, (_, w) => {
          const inW = results.filter((r) => r.at >= w * 10_000 && r.at < (w + 1) * 10_000);
          return `${w * 10}-${(w + 1) * 10}s: ${inW.filter((r) => r.status === 200).length}/${inW.length} ok, max ${Math.round(Math.max(0, ...inW.map((r) => r.ms)))} ms`;
        }),
        server: { ...built.connections(), maxOpen },
        attacker: flood,
        rssMiB: Math.round(process.memoryUsage().rss / 1048576),
      },
      null,
      1,
    ),
  );
  attacker.kill('SIGKILL');
  await built.close();
}
