// `Expect: 100-continue` (curl asks so before any body over 1 MiB): a request that will be
// refused without its body — a wrong API key, a body announced past the route's limit, a
// video past the upload cap — is answered with the refusal, never "100 Continue", so the
// client sends nothing; one that passes gets "100 Continue" and is served once it sends.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers.js';

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

/**
 * Sends the request's headers with Expect: 100-continue, then waits: the first answer is
 * what the server said before any byte of the body. `body`, when given, is sent only after
 * "100 Continue"; the final answer's head comes back then too.
 */
function ask(app: TestApp, head: string, body?: string): Promise<{ first: string; final?: string }> {
  const port = Number(new URL(app.baseUrl).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let first: string | undefined;
    socket.on('data', (d) => {
      received += d;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const answer = received.slice(0, end);
      received = received.slice(end + 4);
      if (first === undefined) {
        first = answer;
        if (answer.startsWith('HTTP/1.1 100') && body !== undefined) return void socket.write(body);
        socket.destroy();
        return resolve({ first });
      }
      socket.destroy();
      resolve({ first, final: answer });
    });
    socket.on('error', reject);
    socket.write(`${head}Host: 127.0.0.1\r\nExpect: 100-continue\r\n\r\n`);
  });
}

const chat = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });

describe('Expect: 100-continue', () => {
  it('answers a wrong API key with 401 before the body, and a right one with 100 Continue, then serves it', async () => {
    const app = await startApp({ API_KEYS: 'sk-right-key-0123456789' }, { probes: false });
    apps.push(app);
    const post = (key: string) =>
      `POST /v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${chat.length}\r\n`;
    expect((await ask(app, post('sk-wrong'), chat)).first).toMatch(/^HTTP\/1\.1 401 /);
    const served = await ask(app, post('sk-right-key-0123456789'), chat);
    expect(served.first).toMatch(/^HTTP\/1\.1 100 Continue/);
    // Past the key: no model server is configured, which is what the request then learns.
    expect(served.final).toMatch(/^HTTP\/1\.1 503 /);
  });

  it('answers a body announced past the route limit with 413 before any of it is sent', async () => {
    const app = await startApp({}, { probes: false });
    apps.push(app);
    const r = await ask(
      app,
      'POST /api/monitor/login HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n',
    );
    expect(r.first).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers a video past the upload cap with 429 before any of it is sent', async () => {
    const app = await startApp({ VIDEO_MAX_CONCURRENT: '1', UPSTREAM_URL: 'http://127.0.0.1:9/v1' }, { probes: false });
    apps.push(app);
    const video = 'POST /api/video?question=what HTTP/1.1\r\nContent-Type: video/mp4\r\nContent-Length: 104857600\r\n';
    // The first takes the one slot and is told to go on; it then sends nothing and waits.
    const port = Number(new URL(app.baseUrl).port);
    const holder = connect(port, '127.0.0.1');
    const told = await new Promise<string>((resolve) => {
      holder.once('data', (d) => resolve(String(d)));
      holder.write(`${video}Host: 127.0.0.1\r\nExpect: 100-continue\r\n\r\n`);
    });
    expect(told).toMatch(/^HTTP\/1\.1 100 Continue/);
    const second = await ask(app, video);
    expect(second.first).toMatch(/^HTTP\/1\.1 429 /);
    expect(second.first).toMatch(/retry-after: 5/i);
    holder.destroy();
  });
});
