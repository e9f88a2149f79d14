import { simpleParser, type ParsedMail } from 'mailparser';
import { createServer as createNetServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A real SMTP server in this process: it requires login and parses what it receives. */
async function smtp() {
  const mails: ParsedMail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: false,
    onAuth(auth, _session, cb) {
      logins.push(`${auth.username}:${auth.password}`);
      if (auth.username === 'alerts' && auth.password === 'smtp-pass') cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, _session, cb) {
      simpleParser(stream).then((m) => {
        mails.push(m);
        cb();
      }, cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { port: (server.server.address() as { port: number }).port, mails, logins };
}

const put = (base: string, path: string, body: unknown) =>
  fetch(`${base}/api/monitor/alerts${path}`, {
    method: path.endsWith('/test') || path === '/rules' ? 'POST' : 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

describe('email alerts', () => {
  it('mails the alert in text and HTML through SMTP with login, escaping what users typed', async () => {
    const mail = await smtp();
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false, alertSleep: async () => {} });
    cleanups.push(() => app.close());
    const ch = await put(app.baseUrl, '/channels', {
      email: {
        host: '127.0.0.1',
        port: mail.port,
        user: 'alerts',
        password: 'smtp-pass',
        from: 'monitor@example.com',
        to: ['ops@example.com'],
      },
    });
    expect(ch.status).toBe(200);
    expect(ch.json.channels.find((c: any) => c.name === 'email')).toMatchObject({
      type: 'email',
      host: '127.0.0.1',
      passwordSet: true,
    });
    expect(JSON.stringify(ch.json)).not.toContain('smtp-pass');
    await put(app.baseUrl, '/rules', {
      name: 'GPU <b>hot</b> & "loud"',
      metric: 'gpu_temperature_celsius',
      op: '>',
      threshold: 85,
      severity: 'critical',
      channels: ['email'],
    });
    app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, clock(), 91);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    expect(mail.logins).toEqual(['alerts:smtp-pass']);
    expect(mail.mails).toHaveLength(1);
    const m = mail.mails[0]!;
    expect(m.subject).toBe('[FIRING] [critical] GPU <b>hot</b> & "loud" (gpu=0)');
    expect(m.text).toContain('gpu_temperature_celsius = 91 °C (threshold > 85 °C)');
    expect(m.text).toContain('GPU temperature: gpu0 91 °C');
    // The rows below the summary write values as it does, in the metric's unit.
    expect(m.text).toContain('Value: 91 °C (threshold > 85 °C)');
    expect(m.text).toMatch(/Breaching checks: \d\d:\d\d:\d\d 91 °C/);
    expect(m.html).toContain('GPU &lt;b&gt;hot&lt;/b&gt; &amp; &quot;loud&quot;');
    expect(m.html).not.toContain('<b>hot</b>');
    // The history says what the server accepted, in English and as codes the page words in its language.
    const history = ((await (await fetch(`${app.baseUrl}/api/monitor/alerts/history`)).json()) as any).history;
    expect(history.find((h: any) => h.channel === 'email' && h.ok)).toMatchObject({
      detail: 'accepted by 127.0.0.1: 1 recipient(s)',
      detailParts: [{ code: 'MAIL_ACCEPTED', params: { host: '127.0.0.1', count: 1 } }],
    });
    // Changing other settings keeps the stored password.
    await put(app.baseUrl, '/channels', {
      email: {
        host: '127.0.0.1',
        port: mail.port,
        user: 'alerts',
        from: 'monitor@example.com',
        to: ['ops@example.com', 'oncall@example.com'],
      },
    });
    const test = await put(app.baseUrl, '/channels/email/test', {});
    expect(test.json.delivered).toBe(true);
    expect(mail.mails[1]!.subject).toContain('[TEST]');
    expect(mail.logins.at(-1)).toBe('alerts:smtp-pass');
  });

  it('records an SMTP server that is down, without losing the console alert', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const clock = steppedClock();
    const app = await startApp({}, { clock, probes: false, alertSleep: async () => {} });
    cleanups.push(() => app.close());
    await put(app.baseUrl, '/channels', {
      email: { host: '127.0.0.1', port, from: 'monitor@example.com', to: ['ops@example.com'], timeoutMs: 500 },
    });
    await put(app.baseUrl, '/rules', {
      name: 'hot',
      metric: 'gpu_temperature_celsius',
      op: '>',
      threshold: 85,
      channels: ['console', 'email'],
    });
    app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, clock(), 91);
    app.monitor!.check(clock());
    await app.alerts!.idle();
    const history = ((await (await fetch(`${app.baseUrl}/api/monitor/alerts/history`)).json()) as any).history;
    const email = history.filter((h: any) => h.channel === 'email');
    expect(email).toHaveLength(5); // five attempts, all refused, then given up
    expect(email.every((h: any) => !h.ok && /ECONNREFUSED/.test(h.detail))).toBe(true);
    expect(history.some((h: any) => h.channel === 'console' && h.ok)).toBe(true);
  });
});
