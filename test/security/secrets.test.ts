// Secrets stay write-only: a model server that echoes the key it was sent (or an API key,
// or the Monitor token) in its error text does not hand it to API clients or the log, and
// webhook URLs, which carry their own secret, are shown masked; a PUT without the URL
// (or with the masked one) keeps it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, userMessage, type TestApp } from '../helpers.js';

const UPSTREAM_KEY = 'sk-upstream-0123456789abcdef';
const CLIENT_KEY = 'client-key-0123456789';
const MONITOR_TOKEN = 'monitor-token-0123456789';
const ADMIN_TOKEN = 'admin-token-0123456789ab';
const URL_PASSWORD = 'url-passw0rd-0123';
/** How an echo may spell the upstream key (issue 18: `sk%2DUPSTREAM%2D…` reached the client and the log). */
const ENCODED = [
  UPSTREAM_KEY.replaceAll('-', '%2D'),
  UPSTREAM_KEY.replaceAll('-', '\\u002d'),
  Buffer.from(`Bearer ${UPSTREAM_KEY}`).toString('base64url'),
];

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A model server that refuses everything and quotes back every credential it was given. */
async function echoingUpstream(): Promise<number> {
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const quoted = `auth=${req.headers.authorization ?? ''} basic=${Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString()} body=${body.slice(0, 200)}`;
      if (body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hi' } }] })}\n\n`);
        res.end(
          `data: ${JSON.stringify({ error: { message: `engine failed; ${quoted}; also ${CLIENT_KEY} ${MONITOR_TOKEN} ${ADMIN_TOKEN}`, code: 500 } })}\n\n`,
        );
        return;
      }
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            message: `Invalid key; ${quoted}; known keys ${CLIENT_KEY} ${encodeURIComponent(MONITOR_TOKEN)} ${ADMIN_TOKEN}; echoed ${ENCODED.join(' ')}`,
          },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  );
  return (server.address() as { port: number }).port;
}

const SECRETS = [
  UPSTREAM_KEY,
  CLIENT_KEY,
  MONITOR_TOKEN,
  encodeURIComponent(MONITOR_TOKEN),
  ADMIN_TOKEN,
  URL_PASSWORD,
  ...ENCODED,
  UPSTREAM_KEY.replaceAll('-', '%2D').slice(0, 12),
];
const expectClean = (text: string, where: string) => {
  for (const s of SECRETS) expect(text, `${where} leaks ${s}`).not.toContain(s);
};

describe('messages relayed from the model server', () => {
  it('are scrubbed of UPSTREAM_API_KEY, API_KEYS, the Monitor tokens and a password in UPSTREAM_URL', async () => {
    const port = await echoingUpstream();
    const app = await startApp(
      {
        UPSTREAM_URL: `http://modeluser:${URL_PASSWORD}@127.0.0.1:${port}/v1`,
        UPSTREAM_API_KEY: UPSTREAM_KEY,
        API_KEYS: CLIENT_KEY,
        MONITOR_TOKEN,
        MONITOR_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_SAMPLE_RATE: '1',
      },
      { probes: false },
    );
    cleanups.push(() => app.close());
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` };
    const post = (path: string, body: unknown) =>
      fetch(`${app.baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

    const chat = await post('/v1/chat/completions', userMessage());
    const chatText = await chat.text();
    expect(chat.status).toBe(401);
    expect(chatText).toContain('[redacted]');
    expectClean(chatText, 'chat error');

    const streamed = await (await post('/v1/chat/completions', { ...userMessage(), stream: true })).text();
    expect(streamed).toContain('engine failed');
    expectClean(streamed, 'stream error event');

    const passthrough = await post('/v1/embeddings', { input: 'hi' });
    const passText = await passthrough.text();
    expect(passthrough.status).toBe(401);
    expect(passText).toContain('Invalid key');
    expectClean(passText, '/v1/* error body');

    const ocr = await (
      await post('/api/ocr', {
        image:
          'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      })
    ).text();
    expect(ocr).toContain('Invalid key');
    expectClean(ocr, 'ocr error');

    // Nor in the Monitor's log.
    const logs = await (await fetch(`${app.baseUrl}/api/monitor/logs?limit=1000`)).text();
    expect(logs).toContain('Invalid key');
    expectClean(logs, 'the log');
  });
});

describe('webhook URLs', () => {
  const DINGTALK = 'https://oapi.dingtalk.com/robot/send?access_token=9f0c1d2e3b4a59687766554433221100aa3f2a';
  const put = (app: TestApp, body: unknown) =>
    app.app.inject({ method: 'PUT', url: '/api/monitor/alerts/channels', payload: body as object });
  const view = async (app: TestApp) => {
    const { channels } = (await app.app.inject({ method: 'GET', url: '/api/monitor/alerts/channels' })).json();
    return { webhook: channels.find((c: any) => c.name === 'webhook') };
  };

  it('are shown masked, kept by a PUT without the URL or with the masked one, and replaced by a new one', async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    expect((await put(app, { webhook: { url: DINGTALK, format: 'dingtalk', secret: 'hmac-secret' } })).statusCode).toBe(
      200,
    );
    const shown = await view(app);
    expect(shown.webhook).toEqual({
      name: 'webhook',
      type: 'webhook',
      url: 'https://oapi.dingtalk.com/robot/send?access_token=…3f2a',
      format: 'dingtalk',
      style: 'rich',
      timeoutMs: 5000,
      secretSet: true,
    });
    expect(JSON.stringify(shown)).not.toContain('9f0c1d2e3b4a');

    // Another format, no URL: the stored URL (and secret) stay.
    expect((await put(app, { webhook: { format: 'generic', timeoutMs: 2000 } })).statusCode).toBe(200);
    // What the form sends back after showing it: the masked URL, also kept.
    expect((await put(app, { webhook: { url: shown.webhook.url, format: 'dingtalk' } })).statusCode).toBe(200);
    const stored = JSON.parse(readFileSync(`${app.dataDir}/alert-channels.json`, 'utf8')).data.channels.find(
      (c: any) => c.name === 'webhook',
    );
    expect(stored).toMatchObject({ url: DINGTALK, format: 'dingtalk', secret: 'hmac-secret' });

    // A new URL replaces it.
    expect(
      (
        await put(app, {
          webhook: { url: 'https://hooks.slack.com/services/T024BE7LD/B01ABCDE2FG/abcdefghij0123456789wxyz' },
        })
      ).statusCode,
    ).toBe(200);
    expect((await view(app)).webhook.url).toBe('https://hooks.slack.com/services/…/…/…wxyz');
  });

  it('refuses a masked URL, or none, when there is none stored', async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const masked = await put(app, { webhook: { url: 'https://oapi.dingtalk.com/robot/send?access_token=…3f2a' } });
    expect(masked.statusCode).toBe(400);
    expect(masked.json().error).toMatchObject({ field: 'webhook.url', message: expect.stringContaining('masked') });
    const none = await put(app, { webhook: { format: 'generic' } });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({ field: 'webhook.url', message: expect.stringContaining('required') });
  });
});
