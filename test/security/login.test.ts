// Monitor sign-in: cookies HttpOnly, SameSite=Strict, Secure behind HTTPS; a session per
// login that logout revokes (also across a restart); wrong tokens throttled per client;
// any forwarding or client-address header makes a loopback peer a proxy that must show
// the token.
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const TOKEN = 'a-very-secret-monitor-token';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}, clock = steppedClock()) {
  const app = await startApp({ MONITOR_TOKEN: TOKEN, ...env }, { probes: false, clock });
  cleanups.push(() => app.close());
  return { app, clock };
}

const REMOTE = '203.0.113.7';
const login = (app: TestApp, token: string, opts: { remoteAddress?: string; headers?: Record<string, string> } = {}) =>
  app.app.inject({
    method: 'POST',
    url: '/api/monitor/login',
    remoteAddress: opts.remoteAddress ?? REMOTE,
    headers: opts.headers ?? {},
    payload: { token },
  });
const snapshot = (app: TestApp, headers: Record<string, string>, remoteAddress = REMOTE) =>
  app.app.inject({ method: 'GET', url: '/api/monitor/snapshot', remoteAddress, headers });
const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;

describe('Monitor sessions', () => {
  it('sets an HttpOnly, SameSite=Strict cookie, Secure only behind HTTPS, that is not the token', async () => {
    const { app } = await setup();
    const plain = await login(app, TOKEN);
    expect(plain.statusCode).toBe(204);
    const attrs = String(plain.headers['set-cookie'])
      .split(';')
      .map((a) => a.trim());
    expect(attrs).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=2592000']));
    expect(attrs).not.toContain('Secure');
    expect(cookieOf(plain)).not.toContain(TOKEN);
    const tls = await login(app, TOKEN, { headers: { 'x-forwarded-proto': 'https' } });
    expect(
      String(tls.headers['set-cookie'])
        .split(';')
        .map((a) => a.trim()),
    ).toContain('Secure');
  });

  it('gives each login its own session, and logout revokes just that one, also after a restart', async () => {
    const clock = steppedClock();
    const { app } = await setup({}, clock);
    const a = cookieOf(await login(app, TOKEN));
    const b = cookieOf(await login(app, TOKEN));
    expect(a).not.toBe(b);
    expect((await snapshot(app, { cookie: a })).statusCode).toBe(200);
    expect((await snapshot(app, { cookie: b })).statusCode).toBe(200);

    const out = await app.app.inject({
      method: 'POST',
      url: '/api/monitor/logout',
      remoteAddress: REMOTE,
      headers: { cookie: a },
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await snapshot(app, { cookie: a })).statusCode).toBe(401);
    expect((await snapshot(app, { cookie: b })).statusCode).toBe(200);

    // A restart on the same DATA_DIR keeps b and does not bring a back.
    await app.close();
    const again = await startApp({ MONITOR_TOKEN: TOKEN, DATA_DIR: app.dataDir }, { probes: false, clock });
    cleanups.push(() => again.close());
    expect((await snapshot(again, { cookie: b })).statusCode).toBe(200);
    expect((await snapshot(again, { cookie: a })).statusCode).toBe(401);
    // Sessions end after 30 days.
    clock.advance(30 * 24 * 3_600_000 + 1);
    expect((await snapshot(again, { cookie: b })).statusCode).toBe(401);
  });

  it('ends every session when the token changes', async () => {
    const { app, clock } = await setup();
    const a = cookieOf(await login(app, TOKEN));
    await app.close();
    const rotated = await startApp(
      { MONITOR_TOKEN: 'another-monitor-token-0123', DATA_DIR: app.dataDir },
      { probes: false, clock },
    );
    cleanups.push(() => rotated.close());
    expect((await snapshot(rotated, { cookie: a })).statusCode).toBe(401);
  });
});

describe('failed logins', () => {
  it('locks a client out after 5 wrong tokens within 5 minutes, right token or not; others are not affected', async () => {
    const { app, clock } = await setup();
    for (let i = 0; i < 5; i++) {
      const wrong = await login(app, `wrong-token-${i}-padding`);
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toMatchObject({ code: 'UNAUTHORIZED', field: 'token' });
      clock.advance(10_000);
    }
    const locked = await login(app, TOKEN);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('TOO_MANY_REQUESTS');
    // Locked until the first failure is 5 minutes old: 300 s - 50 s.
    expect(locked.headers['retry-after']).toBe('250');
    // The start-up link and Bearer guesses count as the same client's tries.
    expect(
      (await app.app.inject({ method: 'GET', url: `/monitor?token=${TOKEN}`, remoteAddress: REMOTE })).statusCode,
    ).toBe(429);
    expect((await snapshot(app, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(429);
    // Another client signs in; the operator on the box is not asked at all.
    expect((await login(app, TOKEN, { remoteAddress: '198.51.100.2' })).statusCode).toBe(204);
    expect((await snapshot(app, {}, '127.0.0.1')).statusCode).toBe(200);

    clock.advance(250_000);
    expect((await login(app, TOKEN)).statusCode).toBe(204);
  });

  it('counts wrong Bearer tokens on the Monitor API as guesses too', async () => {
    const { app } = await setup();
    for (let i = 0; i < 5; i++)
      expect((await snapshot(app, { authorization: `Bearer guess-${i}-0123456789` })).statusCode).toBe(401);
    expect((await snapshot(app, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(429);
  });

  it('keeps a signed-in session working while its address is locked out', async () => {
    const { app } = await setup();
    const session = cookieOf(await login(app, TOKEN));
    for (let i = 0; i < 6; i++) await login(app, `wrong-token-${i}-padding`);
    expect((await snapshot(app, { cookie: session })).statusCode).toBe(200);
  });
});

describe('proxied loopback requests', () => {
  it('treats any forwarding or client-address header from a loopback peer as a remote user who needs the token', async () => {
    const { app } = await setup();
    expect((await snapshot(app, {}, '127.0.0.1')).statusCode).toBe(200);
    for (const header of [
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-forwarded-port',
      'forwarded',
      'x-real-ip',
      // CDNs and proxies name the client with these alone (issue 18).
      'true-client-ip',
      'cf-connecting-ip',
      'cf-connecting-ipv6',
      'fastly-client-ip',
      'x-client-ip',
      'x-cluster-client-ip',
      'via',
    ]) {
      const res = await snapshot(
        app,
        { [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' },
        '127.0.0.1',
      );
      expect(res.statusCode, header).toBe(401);
    }
    expect(
      (await snapshot(app, { 'x-real-ip': '203.0.113.9', authorization: `Bearer ${TOKEN}` }, '127.0.0.1')).statusCode,
    ).toBe(200);
  });
});
