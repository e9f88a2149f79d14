// The server entry as `npm start` runs it: built JavaScript in a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

// dist/ is built (when older than src/) once for all files by test/global-setup.ts.
const root = join(import.meta.dirname, '..');

function run(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'srv-'));
  const child = spawn(process.execPath, [join(root, 'dist/server.js')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, stdout: () => stdout, exited, dataDir };
}

describe('server entry', () => {
  it('refuses a bad setting, naming the variable, the value and what was expected', async () => {
    const s = run({ MONITOR_INTERVAL_MS: 'soon' });
    expect(await s.exited).toBe(2);
    expect(s.output()).toContain('MONITOR_INTERVAL_MS="soon": expected a number');
  });

  it('logs where the Monitor is (JSON, no token), serves, and shuts down cleanly on SIGTERM', async () => {
    const s = run({});
    const ready = await new Promise<{ monitor_url: string; token_from: string }>((resolve, reject) => {
      const t = setInterval(() => {
        const line = s
          .stdout()
          .split('\n')
          .find((l) => l.includes('"Monitor ready"'));
        if (line) {
          clearInterval(t);
          resolve(JSON.parse(line));
        }
      }, 20);
      s.exited.then(() => reject(new Error(`exited early: ${s.output()}`)));
    });
    // Not a terminal: the link with its token is not printed; the log says where the token is.
    const token = readFileSync(join(s.dataDir, 'monitor-token'), 'utf8').trim();
    expect(ready.token_from).toBe(`${s.dataDir}/monitor-token`);
    expect(s.output()).not.toContain(token);
    const link = `${ready.monitor_url}?token=${encodeURIComponent(token)}`;
    const port = new URL(link).port;
    expect(port).not.toBe('0');
    const res = await fetch(link, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('set-cookie')).toContain('qwen3vl_monitor=');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // A line logged on a quiet server reaches stdout within the log's flush period
    // (src/log/stdout.ts), not once 4 KiB of lines have gathered: here the ERROR of a chat
    // request refused for want of a model server.
    const refused = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(refused.status).toBe(503);
    const logged = `"request_id":"${refused.headers.get('x-request-id')}"`;
    await vi.waitFor(() => expect(s.stdout()).toContain(logged), { timeout: 5_000, interval: 20 });
    // The UI and its chart library are served by the built server.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('<title>Qwen3-VL WebUI</title>');
    expect((await fetch(`http://127.0.0.1:${port}/vendor/uplot/uPlot.esm.js`)).status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('shutting down');
    // Every line on stdout is JSON, as log shippers expect.
    const lines = s
      .stdout()
      .split('\n')
      .filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(s.stdout()).not.toContain(token);
  });
});

describe('the log on stdout', () => {
  it('still writes the lines waiting in its batch when the process dies of an uncaught exception', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    const script = join(dir, 'crash.mjs');
    // The server's writer (batches of 4 KiB, a flush a second): two lines, far under a batch,
    // then a crash before the second's flush.
    writeFileSync(
      script,
      [
        `import { StdoutLog } from ${JSON.stringify(pathToFileURL(join(root, 'dist/log/stdout.js')).href)};`,
        `import pino from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/pino/pino.js')).href)};`,
        'const log = pino({ base: null }, new StdoutLog().stream);',
        "log.info('started');",
        "setTimeout(() => { log.error('the last line before the crash'); throw new Error('boom'); }, 10);",
      ].join('\n'),
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    expect(await new Promise((r) => child.on('exit', r))).toBe(1);
    expect(stderr).toContain('boom');
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['started', 'the last line before the crash']);
  });
});

describe('alert state files', () => {
  it('a save killed midway leaves a loadable file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kill-'));
    const file = join(dir, 'alert-rules.json');
    // A child saves a growing rule list as fast as it can; we kill it mid-run, repeatedly.
    const script = join(dir, 'saver.mjs');
    writeFileSync(
      script,
      [
        `import { JsonFile } from ${JSON.stringify(pathToFileURL(join(root, 'dist/json-file.js')).href)};`,
        `import { z } from ${JSON.stringify(pathToFileURL(join(root, 'node_modules/zod/index.js')).href)};`,
        `const f = new JsonFile(${JSON.stringify(file)}, z.array(z.object({ n: z.number(), pad: z.string() })), () => []);`,
        'const rules = [];',
        "for (let i = 0; ; i++) { rules.push({ n: i, pad: 'x'.repeat(2000) }); f.save(rules); if (i === 5) process.stdout.write('saving'); }",
      ].join('\n'),
    );
    const { JsonFile } = await import('../src/json-file.js');
    const { z } = await import('zod');
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.on('exit', r));
      await Promise.race([new Promise<void>((r) => child.stdout.once('data', () => r())), exited]);
      await new Promise((r) => setTimeout(r, 20 + round * 15));
      child.kill('SIGKILL');
      await exited;
      const loaded = new JsonFile(file, z.array(z.object({ n: z.number(), pad: z.string() })), () => []).load();
      expect(loaded.problem).toBeUndefined();
      expect(loaded.value.length).toBeGreaterThan(5);
    }
  }, 60_000);
});
