import { createFile } from 'mp4box';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 20, tokenIntervalMs: 0, reply: 'A person opens a door.' },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1' }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app, clock };
}

/** A real MP4 container (10 s, 30 fps, 1280×720 H.264 track) written by mp4box. */
function mp4(seconds: number): Buffer {
  const f = createFile();
  const id = f.addTrack({
    timescale: 30_000,
    width: 1280,
    height: 720,
    type: 'avc1',
    avcDecoderConfigRecord: new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0, 0]).buffer,
  });
  for (let i = 0; i < seconds * 30; i++)
    f.addSample(id, new Uint8Array(64), { duration: 1_000, is_sync: i % 30 === 0 });
  return Buffer.from(f.getBuffer().buffer as ArrayBuffer);
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
    expect(warn).toMatchObject({ event: 'Dropped video frames', params: { kept: 4, dropped: 16 } });
    clock.advance(1000);
    app.monitor!.check(clock());
    const fps = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=video_frames_per_second`)).json()) as any
    ).series[0].points.at(-1)[1];
    expect(fps).toBeCloseTo(res.json.framesPerSecond, 6);
  });

  it('reads an MP4 container and asks the model server for 2 frames a second', async () => {
    const { fake, app } = await setup();
    const res = await postJson(`${app.baseUrl}/api/video`, {
      video: `data:video/mp4;base64,${mp4(10).toString('base64')}`,
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
