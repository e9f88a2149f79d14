// Every secret is throttled per peer address like the Monitor login: wrong admin tokens
// (5 within 5 minutes) and wrong API keys (10 within a minute) lock that address out
// with 429 and Retry-After, right secret or not; other addresses are not affected; a
// request that presents no secret is no guess. The clock is stepped by hand.
import { afterEach, describe, expect, it } from 'vitest';
import { guessThrottle } from '../../src/security/guesses.js';
import { startApp, steppedClock, type TestApp } from '../helpers.js';

const ADMIN = 'admin-token-0123456789';
const KEY = 'client-key-0123456789';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const clock = steppedClock();
  const app = await startApp(
    { UPSTREAM_URL: 'http://127.0.0.1:9/v1', MONITOR_ADMIN_TOKEN: ADMIN, API_KEYS: KEY },
    { probes: false, clock },
  );
  cleanups.push(() => app.close());
  return { app, clock };
}

const importPreset = (app: TestApp, headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
  app.app.inject({ method: 'POST', url: '/api/monitor/alerts/presets/gpu-lost/import', remoteAddress, headers });
const chat = (app: TestApp, key: string | undefined, remoteAddress = '203.0.113.7') =>
  app.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    remoteAddress,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    payload: { messages: [{ role: 'user', content: 'hi' }] },
  });

describe('wrong admin tokens', () => {
  it('lock an address out after 5 within 5 minutes, right token or not; a missing header is no guess', async () => {
    const { app, clock } = await setup();
    for (let i = 0; i < 8; i++) expect((await importPreset(app, {})).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) {
      expect((await importPreset(app, { 'x-admin-token': `wrong-admin-${i}-0123456` })).statusCode).toBe(401);
      clock.advance(10_000);
    }
    const locked = await importPreset(app, { 'x-admin-token': ADMIN });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: 'Too many wrong admin tokens from 127.0.0.1; try again in 250 s',
    });
    expect(locked.headers['retry-after']).toBe('250');
    // Another address (here the Monitor token's holder from afar) is not affected.
    expect(
      (await importPreset(app, { 'x-admin-token': ADMIN, authorization: `Bearer ${app.token.token}` }, '198.51.100.2'))
        .statusCode,
    ).toBe(200);
    // Reads need no admin token and go on.
    expect((await app.app.inject({ url: '/api/monitor/alerts/rules' })).statusCode).toBe(200);
    clock.advance(250_000);
    expect((await importPreset(app, { 'x-admin-token': ADMIN })).statusCode).toBe(200);
  });
});

describe('wrong API keys', () => {
  it('lock an address out after 10 within a minute, right key or not; a request without a key is no guess', async () => {
    const { app, clock } = await setup();
    for (let i = 0; i < 12; i++) expect((await chat(app, undefined)).statusCode).toBe(401);
    for (let i = 0; i < 10; i++) {
      expect((await chat(app, `wrong-key-${i}-0123456789`)).statusCode).toBe(401);
      clock.advance(1_000);
    }
    const locked = await chat(app, KEY);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.message).toBe('Too many wrong API keys from 203.0.113.7; try again in 50 s');
    expect(locked.headers['retry-after']).toBe('50');
    // Other addresses go on.
    expect((await chat(app, KEY, '198.51.100.2')).statusCode).not.toBe(429);
    clock.advance(50_000);
    expect((await chat(app, KEY)).statusCode).not.toBe(429);
  });
});

describe('the throttles', () => {
  it('remember at most 10 000 addresses, forgetting the least recently failed first', () => {
    const clock = steppedClock();
    const throttle = guessThrottle('apiKey', clock);
    for (let i = 0; i < 10; i++) throttle.fail('first');
    expect(throttle.lockedForMs('first')).toBe(60_000);
    for (let i = 0; i < 10_050; i++) throttle.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(throttle.clientsTracked).toBe(10_000);
    expect(throttle.lockedForMs('first')).toBe(0);
  });
});
