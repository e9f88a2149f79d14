import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { mp4Buffer } from '../../src/demo/mp4-file.js';
import { postJson, startApp, steppedClock, type TestApp } from '../helpers.js';
import { mp4 } from '../pipeline/videos.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 20, tokenIntervalMs: 0, reply: 'A person opens a door.' },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1', ...env }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app, clock };
}

const frame = async (shade: number) =>
  `data:image/jpeg;base64,${(
    await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: shade, g: shade, b: shade } } })
      .jpeg()
      .toBuffer()
  ).toString('base64')}`;

describe('POST /api/video', () => {
  it('samples extracted frames at 2 fps, warns about the dropped ones, and measures frames per second', async () => {
    const { fake, app, clock } = await setup();
    const frames = await Promise.all(Array.from({ length: 20 }, (_, i) => frame(i * 10)));
    const res = await postJson(`${app.baseUrl}/api/video`, { frames, framesFps: 10, question: 'What happens?' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      answer: 'A person opens a door.',
      frames: 4,
      framesSource: 'sent',
      droppedFrames: 16,
    });
    expect(res.json.framesPerSecond).toBeGreaterThan(0);
    expect(res.json.framesPerSecond).toBeLessThanOrEqual(4 / 0.02); // the upstream took ≥ 20 ms
    const parts = (fake.received.at(-1) as any).messages[0].content;
    expect(parts.filter((p: any) => p.type === 'image_url')).toHaveLength(4);
    const warn = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?level=WARN&module=video`)).json()) as any)
      .lines[0];
    expect(warn).toMatchObject({
      event: 'Dropped video frames',
      params: { kept: 4, dropped: 16, request_id: expect.any(String) },
    });
    clock.advance(1000);
    app.monitor!.check(clock());
    const fps = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=video_frames_per_second`)).json()) as any
    ).series[0].points.at(-1)[1];
    expect(fps).toBeCloseTo(res.json.framesPerSecond, 6);
    // /metrics counts the frames the model was given (it said 0 after any number of videos).
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^qwen3vl_video_frames_total 4$/m);
  });

  it('reads an MP4 container and asks the model server for 2 frames a second', async () => {
    const { fake, app } = await setup();
    const clip = mp4(10);
    const res = await postJson(`${app.baseUrl}/api/video`, {
      video: `data:video/mp4;base64,${clip.toString('base64')}`,
      question: 'What happens?',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      frames: 20,
      framesSource: 'requested',
      video: { durationSeconds: 10, width: 1280, height: 720, frameCount: 300, sourceFps: 30 },
    });
    const sent = fake.received.at(-1) as any;
    expect(sent.messages[0].content[0].type).toBe('video_url');
    expect(sent.messages[0].content[0].video_url.url).toBe(`data:video/mp4;base64,${clip.toString('base64')}`);
    expect(sent.mm_processor_kwargs).toEqual({ fps: 2 });
  });

  it('says which formats it reads, and which field is wrong', async () => {
    const { fake, app } = await setup();
    const webm = await postJson(`${app.baseUrl}/api/video`, {
      video: `data:video/webm;base64,${Buffer.from('\x1aE\xdf\xa3 not mp4').toString('base64')}`,
      question: 'q',
    });
    expect(webm.status).toBe(400);
    expect(webm.json.error.message).toContain('MP4/MOV');
    const both = await postJson(`${app.baseUrl}/api/video`, { question: 'q' });
    expect(both.json.error.field).toBe('video');
    const unreadable = await postJson(`${app.baseUrl}/api/video`, {
      frames: ['data:image/png;base64,AAAA', 'data:image/png;base64,AAAA'],
      question: 'q',
    });
    expect(unreadable.status).toBe(400);
    expect(unreadable.json.error.field).toBe('frames');
    expect(fake.received).toHaveLength(0);
  });
});

describe('video upload', () => {
  it('takes the MP4 file itself as the body with the question in the query', async () => {
    const { fake, app } = await setup();
    const res = await fetch(`${app.baseUrl}/api/video?question=${encodeURIComponent('What happens?')}`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(mp4(3)),
    });
    const json = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ frames: 6, video: { durationSeconds: 3 } });
    expect((fake.received.at(-1) as any).messages[0].content[1].text).toBe('What happens?');
    const noQuestion = await fetch(`${app.baseUrl}/api/video`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(mp4(1)),
    });
    expect(((await noQuestion.json()) as any).error.field).toBe('question');
  });
});

describe('video failures', () => {
  it('relays an upstream failure and records no speed for it', async () => {
    const { fake, app, clock } = await setup();
    fake.behavior = { ...fake.behavior, errorRate: 1, failStatus: 500 };
    const res = await postJson(`${app.baseUrl}/api/video`, {
      frames: await Promise.all([1, 2, 3, 4].map(frame)),
      question: 'q',
    });
    expect(res.status).toBe(500);
    clock.advance(1000);
    app.monitor!.check(clock());
    const fps = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=video_frames_per_second`)).json()) as any
    ).series;
    expect(fps).toHaveLength(0);
    const total = (
      (await (
        await fetch(`${app.baseUrl}/api/monitor/series?metric=inference_duration_ms&labels=module=video,stage=total`)
      ).json()) as any
    ).series;
    expect(total[0].points).toHaveLength(1); // failed requests took time too
  });
});

describe('video limits', () => {
  it('names the setting behind a too-large upload and an unsupported Content-Type', async () => {
    const app = await startApp({ VIDEO_MAX_BYTES: '4096' }, { probes: false });
    cleanups.push(() => app.close());
    const big = await fetch(`${app.baseUrl}/api/video?question=q`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(mp4(10)),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.message).toContain('4096 bytes (VIDEO_MAX_BYTES)');
    const webm = await fetch(`${app.baseUrl}/api/video?question=q`, {
      method: 'POST',
      headers: { 'content-type': 'video/webm' },
      body: new Uint8Array(16),
    });
    expect(webm.status).toBe(415);
    expect(((await webm.json()) as any).error.message).toContain('video/mp4');
  });
});

const uploadsOf = (app: TestApp) => join(app.dataDir, 'uploads');
/** The files waiting in DATA_DIR/uploads, with their sizes. */
const spooled = (app: TestApp) => {
  try {
    return readdirSync(uploadsOf(app)).map((f) => statSync(join(uploadsOf(app), f)).size);
  } catch {
    return [];
  }
};

/** An upload over a socket of our own: the headers at once, then as much of the body as the test writes. */
function openUpload(app: TestApp, declaredBytes: number): { req: ClientRequest; answer: Promise<IncomingMessage> } {
  const { port } = new URL(app.baseUrl);
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/api/video?question=q',
    headers: { 'content-type': 'video/mp4', 'content-length': declaredBytes },
  });
  req.on('error', () => {}); // the tests end these connections themselves
  const answer = new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
  req.flushHeaders();
  return { req, answer };
}

async function jsonOf(res: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of res) text += chunk;
  return JSON.parse(text);
}

const bigClip = () =>
  mp4Buffer({ seconds: 20, fps: 30, width: 1280, height: 720, payloadBytes: 4 * 1024 * 1024, moov: 'last' });

describe('large uploads', () => {
  it('reach the model server byte for byte from a file in DATA_DIR/uploads, which is then removed', async () => {
    const { fake, app } = await setup();
    const clip = bigClip();
    const res = await fetch(`${app.baseUrl}/api/video?question=q`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(clip),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ frames: 40, video: { durationSeconds: 20, frameCount: 600 } });
    const url: string = (fake.received.at(-1) as any).messages[0].content[0].video_url.url;
    expect(url.startsWith('data:video/mp4;base64,')).toBe(true);
    expect(Buffer.from(url.slice('data:video/mp4;base64,'.length), 'base64').equals(clip)).toBe(true);
    expect(spooled(app)).toEqual([]);
  });

  it('wait on disk, not in memory, while the model server works; a client that leaves takes its file away', async () => {
    const { fake, app } = await setup();
    fake.behavior = { ...fake.behavior, headerDelayMs: 60_000 };
    const clip = bigClip();
    const { req } = openUpload(app, clip.length);
    req.end(clip);
    await vi.waitFor(() => expect(fake.received).toHaveLength(1), { timeout: 15_000 });
    expect(spooled(app)).toEqual([clip.length]);
    req.destroy();
    await vi.waitFor(() => expect(spooled(app)).toEqual([]), { timeout: 15_000 });
  });

  it('leave nothing behind when the client goes away mid-upload, and give their slot back', async () => {
    const { app } = await setup({ VIDEO_MAX_CONCURRENT: '1' });
    const clip = bigClip();
    const cut = openUpload(app, clip.length);
    cut.req.write(clip.subarray(0, 1024 * 1024));
    await vi.waitFor(() => expect(spooled(app)[0]).toBeGreaterThan(0), { timeout: 15_000 });
    cut.req.destroy();
    await vi.waitFor(() => expect(spooled(app)).toEqual([]), { timeout: 15_000 });
    const next = await fetch(`${app.baseUrl}/api/video?question=q`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(clip),
    });
    expect(next.status).toBe(200);
  });

  it('past VIDEO_MAX_CONCURRENT are refused with 429 and Retry-After, before their body is read', async () => {
    const { fake, app } = await setup({ VIDEO_MAX_CONCURRENT: '1' });
    const clip = bigClip();
    const first = openUpload(app, clip.length);
    first.req.write(clip.subarray(0, 1024 * 1024));
    await vi.waitFor(() => expect(spooled(app)[0]).toBeGreaterThan(0), { timeout: 15_000 });
    // 100 MiB declared, not one byte of it sent: the answer cannot have waited for the body.
    const second = openUpload(app, 100 * 1024 * 1024);
    const refused = await second.answer;
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.headers.connection).toBe('close');
    expect((await jsonOf(refused)).error).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringContaining('(VIDEO_MAX_CONCURRENT)'),
    });
    second.req.destroy();
    // A JSON body over 1 MiB (a video as a data URL, or many frames) is a large upload too.
    const asJson = await postJson(`${app.baseUrl}/api/video`, {
      video: `data:video/mp4;base64,${clip.toString('base64')}`,
      question: 'q',
    });
    expect(asJson.status).toBe(429);
    first.req.destroy();
    await vi.waitFor(() => expect(spooled(app)).toEqual([]), { timeout: 15_000 });
    expect(fake.received).toHaveLength(0);
    const after = await postJson(`${app.baseUrl}/api/video`, {
      video: `data:video/mp4;base64,${clip.toString('base64')}`,
      question: 'q',
    });
    expect(after.status).toBe(200);
  });

  it('past VIDEO_MAX_BYTES without a declared length are cut off with 413, leaving no file and no slot held', async () => {
    const { app } = await setup({ VIDEO_MAX_BYTES: String(2 * 1024 * 1024), VIDEO_MAX_CONCURRENT: '1' });
    const { port } = new URL(app.baseUrl);
    // No Content-Length: chunked, so the limit is found while the body is being written to disk.
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/video?question=q',
      headers: { 'content-type': 'video/mp4' },
    });
    req.on('error', () => {});
    const answer = new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
    req.write(Buffer.alloc(3 * 1024 * 1024, 1));
    const res = await answer;
    expect(res.statusCode).toBe(413);
    expect((await jsonOf(res)).error.message).toBe(
      `The request body is larger than the limit of ${2 * 1024 * 1024} bytes (VIDEO_MAX_BYTES)`,
    );
    req.destroy();
    await vi.waitFor(() => expect(spooled(app)).toEqual([]), { timeout: 15_000 });
    const next = await fetch(`${app.baseUrl}/api/video?question=q`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(mp4(3)),
    });
    expect(next.status).toBe(200);
  });

  it('left behind by a killed process are removed at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'video-leftovers-'));
    mkdirSync(join(dataDir, 'uploads'));
    writeFileSync(join(dataDir, 'uploads', 'video-4242-0123456789abcdef.part'), 'half an upload');
    const app = await startApp({ DATA_DIR: dataDir }, { probes: false });
    cleanups.push(async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    expect(readdirSync(join(dataDir, 'uploads'))).toEqual([]);
  });
});

describe('video URLs', () => {
  it('send the model server the bytes that were fetched and checked, never the URL to fetch again', async () => {
    const clip = mp4(3);
    let gets = 0;
    // Answers the video once; a second GET (the model server's, before) is sent to the metadata service.
    const host = createServer((_req, res) => {
      gets++;
      if (gets === 1) res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': clip.length }).end(clip);
      else res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => host.close(() => r())));
    const { fake, app } = await setup({ IMAGE_FETCH_ALLOW: '127.0.0.1' });
    const res = await postJson(`${app.baseUrl}/api/video`, {
      video: `http://127.0.0.1:${(host.address() as AddressInfo).port}/clip.mp4`,
      question: 'What happens?',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ frames: 6, video: { durationSeconds: 3 } });
    const url: string = (fake.received.at(-1) as any).messages[0].content[0].video_url.url;
    expect(url).toBe(`data:video/mp4;base64,${clip.toString('base64')}`);
    expect(gets).toBe(1);
    expect(spooled(app)).toEqual([]);
  });
});

describe('video frames', () => {
  it('say why they could not be read when too few are left: the first refusal, e.g. the SSRF guard', async () => {
    const { fake, app } = await setup();
    const res = await postJson(`${app.baseUrl}/api/video`, {
      frames: [1, 2, 3, 4].map((i) => `http://127.0.0.1:9/frame-${i}.jpg`),
      question: 'q',
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'BAD_REQUEST', field: 'frames' });
    expect(res.json.error.message).toBe(
      'frames: only 0 readable frames; at least 4 are needed (VIDEO_MIN_FRAMES). The first unreadable one: ' +
        'frames[0]: http://127.0.0.1:9 is not fetched: 127.0.0.1 resolves to 127.0.0.1, a loopback address; ' +
        'only public addresses are (IMAGE_FETCH_ALLOW lists exceptions)',
    );
    expect(fake.received).toHaveLength(0);
  });
});
