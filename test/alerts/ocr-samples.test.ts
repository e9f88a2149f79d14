// Lowest-confidence OCR samples (OCR_LOW_CONFIDENCE_SAMPLES): the N lowest of the last
// hour kept as thumbnails, attached to the OCR degradation alert: in the console popup (a
// link), the email (inline attachments) and webhooks (a signed link that works without the
// Monitor token and expires).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import sharp from 'sharp';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { startReceiver } from '../receiver.js';
import { postJson, startApp, steppedClock } from '../helpers.js';
import { blackboardPhoto, dataUrl } from '../pipeline/images.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function smtp() {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    onData(stream, _session, cb) {
      simpleParser(stream).then((m) => {
        mails.push(m);
        cb();
      }, cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { port: (server.server.address() as { port: number }).port, mails };
}

const webhook = () => startReceiver(cleanups);

const PUBLIC = 'https://vlm.example.com';

describe('lowest-confidence OCR samples', () => {
  it('keep the N lowest, attach them to the OCR alert everywhere, and forget them after an hour', async () => {
    // Receivers first: they are closed after the app (cleanups run last-in, first-out).
    const mail = await smtp();
    const hook = await webhook();
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, reply: '黑板 上 的 字' },
    });
    const clock = steppedClock();
    const app = await startApp(
      { UPSTREAM_URL: fake.url, OCR_LOW_CONFIDENCE_SAMPLES: '2', PUBLIC_URL: PUBLIC },
      { clock, probes: false, alertSleep: async () => {} },
    );
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const put = (path: string, body: unknown, method = 'POST') =>
      fetch(`${app.baseUrl}/api/monitor/alerts${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await put(
      '/channels',
      {
        email: { host: '127.0.0.1', port: mail.port, from: 'monitor@example.com', to: ['ops@example.com'] },
        webhook: { url: hook.url, format: 'dingtalk' },
      },
      'PUT',
    );
    await put('/rules', {
      name: 'OCR service degradation',
      metric: 'ocr_confidence_mean',
      op: '<',
      threshold: 0.6,
      severity: 'warning',
      channels: ['console', 'email', 'webhook'],
    });

    // Four photos read at 0.9, 0.3, 0.5 and 0.2: the two lowest are kept.
    const photos = await Promise.all([1280, 1300, 1320, 1340].map((w) => blackboardPhoto(w, 960)));
    const hashes: string[] = [];
    for (const [i, p] of [0.9, 0.3, 0.5, 0.2].entries()) {
      fake.behavior = { ...fake.behavior, tokenLogprob: Math.log(p) };
      const r = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(photos[i]!), language: 'zh' });
      expect(r.status).toBe(200);
      hashes.push(r.json.imageHash);
    }
    const dir = join(app.dataDir, 'ocr-samples');
    await app.ocrSamples!.idle();
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.jpg'))
        .map((f) => f.slice(0, 16))
        .sort(),
    ).toEqual([hashes[1], hashes[3]].sort());

    const popups: any[] = [];
    app.monitor!.hub.broadcast = (type, data) => {
      if (type === 'alert') popups.push(data);
    };
    clock.advance(1_000);
    app.monitor!.check(clock());
    await app.alerts!.idle();

    const samples = popups[0].alerts[0].context.samples;
    expect(samples.map((s: any) => [s.imageHash, s.confidence, s.lang])).toEqual([
      [hashes[3], 0.2, 'zh'],
      [hashes[1], 0.3, 'zh'],
    ]);
    expect(samples[0].url).toMatch(
      new RegExp(`^${PUBLIC}/api/monitor/ocr-samples/${hashes[3]}-\\d+\\.jpg\\?exp=\\d+&sig=`),
    );

    // The signed link works for someone without the Monitor token (a proxied, remote request)…
    const asRemote = { 'x-forwarded-for': '203.0.113.9' };
    const thumb = await fetch(samples[0].url.replace(PUBLIC, app.baseUrl), { headers: asRemote });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(320);
    // …a tampered one does not (its first character changed, whatever it was), nor the bare path.
    expect(
      (
        await fetch(
          samples[0].url
            .replace(PUBLIC, app.baseUrl)
            .replace(/sig=(.)/, (_: string, c: string) => `sig=${c === 'x' ? 'y' : 'x'}`),
          { headers: asRemote },
        )
      ).status,
    ).toBe(401);
    expect(
      (await fetch(samples[0].url.replace(PUBLIC, app.baseUrl).split('?')[0]!, { headers: asRemote })).status,
    ).toBe(401);

    // Email: the thumbnails attached inline; webhook: the links in the text.
    expect(mail.mails).toHaveLength(1);
    const attached = mail.mails[0]!.attachments;
    expect(attached.map((a) => [a.contentType, a.related])).toEqual([
      ['image/jpeg', true],
      ['image/jpeg', true],
    ]);
    expect(mail.mails[0]!.html).toContain(`alt="OCR sample ${hashes[3]}"`);
    expect(hook.bodies()[0].markdown.text).toContain(`low-confidence sample: 0.2 (zh) request `);
    expect(hook.bodies()[0].markdown.text).toContain(`${PUBLIC}/api/monitor/ocr-samples/${hashes[3]}`);

    // An hour later they are gone, files included.
    clock.advance(3_600_000);
    app.ocrSamples!.sweep(clock());
    expect(app.ocrSamples!.lowest(clock(), 10)).toEqual([]);
    await app.ocrSamples!.idle();
    expect(readdirSync(dir).filter((f) => f.endsWith('.jpg'))).toHaveLength(0);
    expect(existsSync(join(dir, 'index.json'))).toBe(true);
  });

  it('are off by default: no directory, no thumbnails, no samples in alerts', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokenLogprob: Math.log(0.2) },
    });
    const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    expect((await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await blackboardPhoto(640, 480)) })).status).toBe(
      200,
    );
    expect(existsSync(join(app.dataDir, 'ocr-samples'))).toBe(false);
    expect((await fetch(`${app.baseUrl}/api/monitor/ocr-samples/0123456789abcdef-1.jpg`)).status).toBe(404);
  });
});
