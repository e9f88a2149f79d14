// All-or-nothing state: a rule, silence or channel change that cannot be written is not
// applied, and the API says why (disk full, read-only). Proven with an injected failing
// disk everywhere, and with a real full and a real read-only file system where this
// machine lets the test mount one. Temp files a crash left are removed at start.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileIo } from '../../src/json-file.js';
import { failingDisk } from '../failing-disk.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(io?: FileIo, dataDir?: string) {
  const clock = steppedClock();
  const app = await startApp(
    { ...(dataDir ? { DATA_DIR: dataDir } : {}) },
    { clock, probes: false, alertSleep: async () => {}, ...(io ? { stateIo: io } : {}) },
  );
  cleanups.push(() => app.close());
  return app;
}

const api = async (app: TestApp, method: string, path: string, body?: unknown) => {
  const res = await app.app.inject({
    method: method as 'GET',
    url: path,
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, json: res.body ? res.json() : undefined };
};

const RULE = {
  name: 'GPU hot',
  metric: 'gpu_temperature_celsius',
  op: '>',
  threshold: 85,
  consecutiveChecks: 1,
  channels: ['console'],
};
const SILENCE = { kind: 'daily', start: '01:50', end: '02:10', timeZone: 'Asia/Shanghai' };
const CHANNELS = { webhook: { url: 'https://hooks.example/alerts', format: 'generic' } };
const tempFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

/** Every change an operator can make, and what must still be true when none could be saved. */
async function everyChangeRefused(app: TestApp, expected: { status: number; because: RegExp }) {
  const before = {
    rules: await api(app, 'GET', '/api/monitor/alerts/rules'),
    silences: await api(app, 'GET', '/api/monitor/alerts/silences'),
    channels: await api(app, 'GET', '/api/monitor/alerts/channels'),
  };
  const existing = before.rules.json.rules[0];
  const attempts = [
    await api(app, 'POST', '/api/monitor/alerts/rules', { ...RULE, name: 'new rule' }),
    await api(app, 'PUT', `/api/monitor/alerts/rules/${existing.id}`, { ...RULE, threshold: 50 }),
    await api(app, 'DELETE', `/api/monitor/alerts/rules/${existing.id}`),
    await api(app, 'POST', '/api/monitor/alerts/presets/gpu-lost/import'),
    await api(app, 'POST', '/api/monitor/alerts/silences', { ...SILENCE, start: '03:00', end: '04:00' }),
    await api(app, 'DELETE', `/api/monitor/alerts/silences/${before.silences.json.silences[0].id}`),
    await api(app, 'PUT', '/api/monitor/alerts/channels', {
      webhook: { url: 'https://elsewhere.example/hook', format: 'slack' },
    }),
    await api(app, 'PUT', '/api/monitor/alerts/channels', {
      channels: [{ name: 'am', type: 'alertmanager', urls: ['http://127.0.0.1:9093'] }],
    }),
    await api(app, 'POST', '/api/monitor/alerts/channels', {
      name: 'ops',
      type: 'webhook',
      url: 'https://elsewhere.example/ops',
    }),
  ];
  if (before.channels.json.channels.some((c: { name: string }) => c.name === 'webhook')) {
    attempts.push(
      await api(app, 'PUT', '/api/monitor/alerts/channels/webhook', {
        type: 'webhook',
        url: 'https://elsewhere.example/hook',
        format: 'slack',
      }),
      await api(app, 'DELETE', '/api/monitor/alerts/channels/webhook'),
    );
  }
  for (const a of attempts) {
    expect(a.status).toBe(expected.status);
    expect(a.json.error.code).toBe('NOT_SAVED');
    expect(a.json.error.message).toMatch(expected.because);
    expect(a.json.error.message).toContain('Nothing was changed');
  }
  // Nothing changed in memory: the same rules, silences and channels are in force.
  expect(await api(app, 'GET', '/api/monitor/alerts/rules')).toEqual(before.rules);
  expect(await api(app, 'GET', '/api/monitor/alerts/silences')).toEqual(before.silences);
  expect(await api(app, 'GET', '/api/monitor/alerts/channels')).toEqual(before.channels);
}

describe('a change that cannot be saved is not applied', () => {
  it('disk full: 507, says so, nothing changes in memory or on disk, no temp file left', async () => {
    const disk = failingDisk();
    const app = await setup(disk.io);
    expect((await api(app, 'POST', '/api/monitor/alerts/rules', RULE)).status).toBe(201);
    expect((await api(app, 'POST', '/api/monitor/alerts/silences', SILENCE)).status).toBe(201);
    expect((await api(app, 'PUT', '/api/monitor/alerts/channels', CHANNELS)).status).toBe(200);

    disk.state.mode = 'full';
    await everyChangeRefused(app, { status: 507, because: /disk holding it is full \(ENOSPC\)/ });
    expect(tempFiles(app.dataDir)).toEqual([]);

    // The refused rule cannot fire: only the saved one is evaluated.
    app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, Date.now(), 99);
    app.alerts!.onCheck(Date.now());
    expect(app.alerts!.active().map((a) => a.ruleName)).toEqual(['GPU hot']);

    // After a restart the state is what was saved, no more.
    disk.state.mode = 'ok';
    await app.close();
    const again = await setup(undefined, app.dataDir);
    expect(
      (await api(again, 'GET', '/api/monitor/alerts/rules')).json.rules.map(
        (r: { name: string; threshold: number }) => [r.name, r.threshold],
      ),
    ).toEqual([['GPU hot', 85]]);
    expect((await api(again, 'GET', '/api/monitor/alerts/silences')).json.silences).toHaveLength(1);
    expect(
      (await api(again, 'GET', '/api/monitor/alerts/channels')).json.channels.find((c: any) => c.name === 'webhook')
        .url,
    ).toBe('https://hooks.example/alerts');
  });

  it('read-only DATA_DIR: 500 naming the read-only file system; a login cannot start a session either', async () => {
    const disk = failingDisk();
    const app = await setup(disk.io);
    await api(app, 'POST', '/api/monitor/alerts/rules', RULE);
    await api(app, 'POST', '/api/monitor/alerts/silences', SILENCE);
    disk.state.mode = 'readonly';
    await everyChangeRefused(app, { status: 500, because: /read-only file system \(EROFS\)/ });
    const login = await app.app.inject({
      method: 'POST',
      url: '/api/monitor/login',
      remoteAddress: '203.0.113.7',
      payload: { token: app.token.token },
    });
    expect(login.statusCode).toBe(500);
    expect(login.json().error.code).toBe('NOT_SAVED');
    expect(login.headers['set-cookie']).toBeUndefined();
  });
});

describe('signing out on a disk that cannot be written', () => {
  const REMOTE = '203.0.113.7';
  const login = (app: TestApp) =>
    app.app.inject({
      method: 'POST',
      url: '/api/monitor/login',
      remoteAddress: REMOTE,
      payload: { token: app.token.token },
    });
  const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;
  const snapshot = (app: TestApp, cookie: string) =>
    app.app.inject({ url: '/api/monitor/snapshot', remoteAddress: REMOTE, headers: { cookie } });
  const logout = (app: TestApp, cookie: string) =>
    app.app.inject({ method: 'POST', url: '/api/monitor/logout', remoteAddress: REMOTE, headers: { cookie } });

  it('ends the session here and clears the cookie anyway, and says what could not be saved', async () => {
    const disk = failingDisk();
    const app = await setup(disk.io);
    const session = cookieOf(await login(app));
    expect((await snapshot(app, session)).statusCode).toBe(200);
    disk.state.mode = 'readonly';
    const out = await logout(app, session);
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/^qwen3vl_monitor=; .*Max-Age=0/);
    expect(out.json()).toEqual({
      signedOut: true,
      saved: false,
      message: expect.stringMatching(
        /^Signed out: this session no longer works on this server\. But the sign-out could not be saved \(.*monitor-sessions\.json: EROFS: read-only file system, open\), so if the server restarts before a later sign-in or sign-out is saved, the session works again/,
      ),
    });
    expect((await snapshot(app, session)).statusCode).toBe(401);
    const logs = (await app.app.inject({ url: '/api/monitor/logs?q=Sign-out' })).json();
    expect(logs.lines.map((l: any) => [l.level, l.event])).toContainEqual([
      'WARN',
      'Sign-out not saved: the session would come back after a restart',
    ]);
  });

  it('after a restart: the session is back until a later save drops it, as the answer said', async () => {
    const disk = failingDisk();
    const app = await setup(disk.io);
    const session = cookieOf(await login(app));
    disk.state.mode = 'readonly';
    expect((await logout(app, session)).json().saved).toBe(false);
    await app.close();
    // Restarted before anything else was saved: the file still holds the session.
    const restarted = await setup(undefined, app.dataDir);
    expect((await snapshot(restarted, session)).statusCode).toBe(200);

    // Had the disk come back first, the next save (any sign-in) would have dropped it for good.
    const disk2 = failingDisk();
    const app2 = await setup(disk2.io);
    const session2 = cookieOf(await login(app2));
    disk2.state.mode = 'readonly';
    await logout(app2, session2);
    disk2.state.mode = 'ok';
    expect((await login(app2)).statusCode).toBe(204);
    await app2.close();
    const restarted2 = await setup(undefined, app2.dataDir);
    expect((await snapshot(restarted2, session2)).statusCode).toBe(401);
  });
});

describe('temp files', () => {
  it("removes those a crash left at start, keeping a running process's own", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leftover-'));
    const dead = 2 ** 22 + 12_345; // above pid_max's default: no such process
    const left = [
      `alert-rules.json.${dead}.a1b2c3.tmp`,
      `alert-rules.json.bak.${dead}.a1b2c3.tmp`,
      `alert-history.json.${dead}.tmp`,
      `monitor-token.${dead}.tmp`,
    ];
    for (const f of left) writeFileSync(join(dir, f), '{"half":');
    const running = `alert-silences.json.${process.ppid}.ffffff.tmp`;
    writeFileSync(join(dir, running), '{');
    writeFileSync(join(dir, 'notes.txt'), 'kept');
    const app = await setup(undefined, dir);
    expect(tempFiles(dir)).toEqual([running]);
    expect(readdirSync(dir)).toContain('notes.txt');
    const line = app.log
      .query({ level: 'WARN' })
      .find((l) => l.event === 'removed temp files left by an interrupted save');
    expect(String(line?.params.files).split(', ').sort()).toEqual([...left].sort());
  });
});

describe('a damaged state file on a read-only disk', () => {
  it('is left as it is, the last good copy is used, and the server starts', async () => {
    const { JsonFile } = await import('../../src/json-file.js');
    const { z } = await import('zod');
    const dir = mkdtempSync(join(tmpdir(), 'damaged-'));
    const file = join(dir, 'alert-rules.json');
    const schema = z.array(z.object({ n: z.number() }));
    new JsonFile(file, schema, () => []).save([{ n: 1 }]);
    new JsonFile(file, schema, () => []).save([{ n: 2 }]);
    writeFileSync(file, '{"version":1,"data":[{"n":');
    const disk = failingDisk();
    disk.state.mode = 'readonly';
    const readOnlyRename = {
      ...disk.io,
      renameSync: () => {
        throw Object.assign(new Error('EROFS'), { code: 'EROFS' });
      },
    };
    const loaded = new JsonFile(file, schema, () => [], { io: readOnlyRename }).load(1);
    expect(loaded.value).toEqual([{ n: 1 }]);
    expect(loaded.problem).toMatch(
      /could not be moved aside either \(EROFS\), and is left as it is; using the last good copy \(not written back: Not saved/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('{"version":1,"data":[{"n":');
  });
});

/** A small tmpfs, when this machine lets the test mount one (root with CAP_SYS_ADMIN). */
function mountTmpfs(sizeKiB: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  cleanups.push(() => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }));
  return dir;
}

const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)('on a real small file system', () => {
  it('a full disk refuses the change (507), a read-only one too (500), and nothing is applied', async () => {
    const dir = mountTmpfs(256)!;
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const app = await setup(undefined, dataDir);
    expect((await api(app, 'POST', '/api/monitor/alerts/rules', RULE)).status).toBe(201);
    expect((await api(app, 'POST', '/api/monitor/alerts/silences', SILENCE)).status).toBe(201);
    // Fill the disk to the last byte.
    const fd = fs.openSync(join(dir, 'filler'), 'w');
    const block = Buffer.alloc(4096, 1);
    try {
      for (;;) fs.writeSync(fd, block);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    await everyChangeRefused(app, { status: 507, because: /full \(ENOSPC\)/ });
    expect(tempFiles(dataDir)).toEqual([]);

    fs.unlinkSync(join(dir, 'filler'));
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    await everyChangeRefused(app, { status: 500, because: /read-only file system \(EROFS\)/ });
    execFileSync('mount', ['-o', 'remount,rw', dir]);
    expect((await api(app, 'POST', '/api/monitor/alerts/rules', { ...RULE, name: 'after' })).status).toBe(201);
  });
});
