// Restarts do not cut users off: on SIGTERM the server drains. /readyz says 503 at once,
// no new connection is accepted, a stream in flight completes with [DONE], what is still
// open after SHUTDOWN_GRACE_MS is cut (and logged), the alert history is written, exit 0.
// The last test runs the README's `npm start` in a child process and signals npm.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { startApp, userMessage } from '../helpers.js';

const root = join(import.meta.dirname, '../..');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A model server whose streamed answer takes about tokens × 40 ms. */
async function slowUpstream(tokens: number): Promise<FakeUpstream> {
  const fake = await startFakeUpstream({
    behavior: { ttftMs: 100, spread: 0, tokenIntervalMs: 40, tokens, errorRate: 0 },
  });
  cleanups.push(() => fake.close());
  return fake;
}

/** Starts a streamed chat and resolves once its first event has arrived. */
async function openStream(baseUrl: string) {
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...userMessage(), stream: true }),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  const rest = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    } catch {
      // the connection was cut: what arrived so far is the answer
    }
    return text;
  })();
  return { rest };
}

/** A raw connection with a request begun but not finished, so the server counts it as active. */
async function halfSentRequest(
  baseUrl: string,
  requestLine: string,
): Promise<{ finish(): Promise<string>; socket: Socket }> {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(`${requestLine}\r\nHost: 127.0.0.1:${port}\r\n`);
  let answer = '';
  socket.on('data', (d) => (answer += d));
  return {
    socket,
    finish: async () => {
      socket.write('\r\n');
      await new Promise((r) => socket.once('close', r));
      return answer;
    },
  };
}

describe('graceful shutdown (in process)', () => {
  it('turns /readyz 503 at once, refuses new connections, and lets a stream in flight finish', async () => {
    const fake = await slowUpstream(30);
    const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
    cleanups.push(() => app.close());
    const probe = await halfSentRequest(app.baseUrl, 'GET /readyz HTTP/1.1');
    const other = await halfSentRequest(app.baseUrl, 'GET /api/monitor/snapshot HTTP/1.1');
    const stream = await openStream(app.baseUrl);

    const closed = app.shutdown(10_000);

    // A probe on a connection that was already open hears "shutting down"...
    const ready = await probe.finish();
    expect(ready).toMatch(/^HTTP\/1\.1 503/);
    expect(ready).toMatch(/connection: close/i);
    expect(JSON.parse(ready.slice(ready.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'shutting down' });
    // ...any other new request there is refused in the API's error shape...
    const refused = await other.finish();
    expect(refused).toMatch(/^HTTP\/1\.1 503/);
    expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4))).toEqual({
      error: {
        code: 'SHUTTING_DOWN',
        app_code: 'SHUTTING_DOWN',
        message: expect.stringContaining('shutting down'),
        type: 'server_error',
        param: null,
      },
    });
    // ...and a new connection is not accepted at all.
    await expect(fetch(`${app.baseUrl}/healthz`)).rejects.toThrow();

    // The stream in flight completes.
    const text = await stream.rest;
    expect(text).toContain('data: [DONE]');
    expect(await closed).toEqual({ cut: 0, inFlightAtStart: 1 });
    expect(fake.abortedStreams).toBe(0);
  });

  it('cuts what is still open when the grace period is over, and says so in the log', async () => {
    const fake = await slowUpstream(500);
    const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
    cleanups.push(() => app.close());
    const stream = await openStream(app.baseUrl);

    const result = await app.shutdown(200);
    expect(result).toEqual({ cut: 1, inFlightAtStart: 1 });
    expect(await stream.rest).not.toContain('[DONE]');
    const cutLine = app.log.query({ level: 'WARN' }).find((l) => l.event === 'shutdown grace over: requests cut');
    expect(cutLine?.params).toMatchObject({ cut: 1 });
  });
});

describe('npm start', () => {
  it("delivers a supervisor's SIGTERM to node: the stream completes, history is written, exit 0, no orphan", async () => {
    const fake = await slowUpstream(40);
    const dataDir = mkdtempSync(join(tmpdir(), 'drain-'));
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: '0',
        NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1',
        UPSTREAM_URL: fake.url,
        SHUTDOWN_GRACE_MS: '20000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (d) => (out += d));
    npm.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => npm.on('exit', (code) => r(code)));
    cleanups.push(async () => {
      if (npm.exitCode === null) npm.kill('SIGKILL');
    });
    const base = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        // The start line in the JSON log: where the Monitor is (its token is never logged).
        const m = /"monitor_url":"(http:\/\/[^/"]+)/.exec(out);
        if (m) {
          clearInterval(t);
          resolve(m[1]!);
        }
      }, 20);
      void exited.then(() => {
        clearInterval(t);
        reject(new Error(`npm start exited early:\n${out}`));
      });
    });
    const serverPid = Number(/"pid":(\d+)/.exec(out)![1]);
    expect(serverPid).not.toBe(npm.pid);

    // Something for the history file: a test notice on the console channel.
    expect((await fetch(`${base}/api/monitor/alerts/channels/console/test`, { method: 'POST' })).status).toBe(200);
    const stream = await openStream(base);
    npm.kill('SIGTERM');

    expect(await stream.rest).toContain('data: [DONE]');
    expect(await exited).toBe(0);
    expect(out).toContain('shutting down: draining requests in flight');
    expect(out).toMatch(/"cut":0,"inFlightAtStart":1,"msg":"shut down"|"cut":0.*"shut down"/);
    // node itself exited: no orphan left serving.
    expect(() => process.kill(serverPid, 0)).toThrow();
    const historyFile = join(dataDir, 'alert-history.json');
    expect(existsSync(historyFile)).toBe(true);
    expect(readFileSync(historyFile, 'utf8')).toContain('"channel": "console"');
  }, 60_000);
});
