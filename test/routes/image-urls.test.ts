// Image and video URLs: fetched for real from a local HTTP server (redirects followed,
// at most 3), and refused when they lead to loopback, private, link-local or metadata
// addresses, checked after DNS and again on every redirect, unless IMAGE_FETCH_ALLOW says.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { UrlAllowList } from '../../src/pipeline/url-guard.js';
import { postJson, startApp } from '../helpers.js';
import { blackboardPhoto } from '../pipeline/images.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** An image host: /photo.jpg, /hop/N redirecting N times before it, /to?url= redirecting anywhere. */
async function imageHost(): Promise<{ url: string; port: number; hits: string[] }> {
  const photo = await blackboardPhoto(800, 600);
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const u = new URL(req.url ?? '/', 'http://x');
    const hop = /^\/hop\/(\d+)$/.exec(u.pathname);
    if (hop) {
      const n = Number(hop[1]);
      res.writeHead(302, { location: n > 1 ? `/hop/${n - 1}` : '/photo.jpg' }).end();
    } else if (u.pathname === '/to') {
      res.writeHead(307, { location: u.searchParams.get('url')! }).end();
    } else if (u.pathname === '/photo.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length }).end(photo);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, hits };
}

async function setup(env: Record<string, string>) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, reply: 'ok' },
  });
  const app = await startApp({ UPSTREAM_URL: fake.url, ...env }, { probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app };
}

describe('image URLs', () => {
  it('are fetched, following redirects (at most 3), when the host is allowed', async () => {
    const host = await imageHost();
    const { app, fake } = await setup({ IMAGE_FETCH_ALLOW: '127.0.0.1' });
    const direct = await postJson(`${app.baseUrl}/api/ocr`, { image: `${host.url}/photo.jpg` });
    expect(direct.status).toBe(200);
    expect(direct.json.image).toMatchObject({ originalWidth: 800, originalHeight: 600 });
    // What reached the model server is the image itself, not the URL.
    expect((fake.received.at(-1) as any).messages[0].content[0].image_url.url).toMatch(/^data:image\/jpeg;base64,/);

    const redirected = await postJson(`${app.baseUrl}/api/gui/execute`, {
      screenshot: `${host.url}/hop/3`,
      instruction: 'click ok',
    });
    expect(redirected.status).toBe(200);
    const tooMany = await postJson(`${app.baseUrl}/api/ocr`, { image: `${host.url}/hop/4` });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error).toMatchObject({
      code: 'IMAGE_FETCH_FAILED',
      field: 'image',
      message: `image: could not fetch ${host.url}: more than 3 redirects`,
    });
    const missing = await postJson(`${app.baseUrl}/api/ocr`, { image: `${host.url}/nope.jpg?token=secret` });
    expect(missing.json.error.message).toBe(`image: could not fetch ${host.url}: it answered 404`);
  });

  it('that reach loopback, private or metadata addresses are refused by default, naming why', async () => {
    const host = await imageHost();
    const { app, fake } = await setup({});
    const loopback = await postJson(`${app.baseUrl}/api/ocr`, { image: `${host.url}/photo.jpg` });
    expect(loopback.status).toBe(400);
    expect(loopback.json.error).toMatchObject({ code: 'URL_NOT_ALLOWED', field: 'image' });
    expect(loopback.json.error.message).toContain('127.0.0.1 resolves to 127.0.0.1, a loopback address');
    expect(loopback.json.error.message).toContain('IMAGE_FETCH_ALLOW');
    // A name is checked after DNS: localhost is loopback too.
    const byName = await postJson(`${app.baseUrl}/api/ocr`, { image: `http://localhost:${host.port}/photo.jpg` });
    expect(byName.json.error.code).toBe('URL_NOT_ALLOWED');
    expect(byName.json.error.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    const metadata = await postJson(`${app.baseUrl}/api/ocr`, { image: 'http://169.254.169.254/latest/meta-data/' });
    expect(metadata.json.error.message).toContain('a link-local (cloud metadata lives there) address');
    const video = await postJson(`${app.baseUrl}/api/video`, {
      video: 'http://10.0.0.7/clip.mp4',
      question: 'what happens?',
    });
    expect(video.json.error).toMatchObject({ code: 'URL_NOT_ALLOWED', field: 'video' });
    expect(host.hits).toHaveLength(0);
    expect(fake.received).toHaveLength(0);
  });

  it('are checked again on every redirect: an allowed host cannot bounce the fetch to a forbidden one', async () => {
    const host = await imageHost();
    const { app } = await setup({ IMAGE_FETCH_ALLOW: 'localhost' });
    const bounced = await postJson(`${app.baseUrl}/api/ocr`, {
      image: `http://localhost:${host.port}/to?url=${encodeURIComponent(`http://127.0.0.2:${host.port}/photo.jpg`)}`,
    });
    expect(bounced.status).toBe(400);
    expect(bounced.json.error.code).toBe('URL_NOT_ALLOWED');
    expect(bounced.json.error.message).toContain('127.0.0.2');
    expect(host.hits).toEqual([`/to?url=${encodeURIComponent(`http://127.0.0.2:${host.port}/photo.jpg`)}`]);
  });
});

describe('the address rules', () => {
  it('allow public unicast only, unless a host or CIDR is listed', () => {
    const none = new UrlAllowList();
    expect(none.forbiddenRange('93.184.215.14')).toBeNull();
    expect(none.forbiddenRange('2606:4700::6810:85e5')).toBeNull();
    expect(none.forbiddenRange('127.0.0.1')).toBe('loopback');
    expect(none.forbiddenRange('::ffff:127.0.0.1')).toBe('loopback'); // IPv4-mapped is unwrapped
    expect(none.forbiddenRange('10.1.2.3')).toBe('private');
    expect(none.forbiddenRange('192.168.0.10')).toBe('private');
    expect(none.forbiddenRange('169.254.169.254')).toBe('linkLocal');
    expect(none.forbiddenRange('100.100.100.200')).toBe('carrierGradeNat'); // Alibaba Cloud metadata
    expect(none.forbiddenRange('fd00:ec2::254')).toBe('uniqueLocal'); // AWS metadata over IPv6
    expect(none.forbiddenRange('::1')).toBe('loopback');
    expect(none.forbiddenRange('0.0.0.0')).toBe('unspecified');
    const some = new UrlAllowList(['10.2.0.0/16', 'images.internal', '::1']);
    expect(some.forbiddenRange('10.2.9.9')).toBeNull();
    expect(some.forbiddenRange('10.3.0.1')).toBe('private');
    expect(some.forbiddenRange('::1')).toBeNull();
    expect(some.allowsHost('Images.Internal')).toBe(true);
  });
});
