// Broken uploads as a new operator sends them: a 3264×2448 blackboard photo cut off
// midway, bytes that are no image, a pixel bomb. They are the client's fault (4xx with a
// stable code and a readable reason), never a 5xx, and the log names the evidence.
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeBehavior } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock } from '../helpers.js';
import { blackboardPhoto, dataUrl, pixelBomb, truncated } from '../pipeline/images.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(env: Record<string, string> = {}, behavior: Partial<FakeBehavior> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, reply: '黑板 板书', ...behavior },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1', ...env }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  const logs = async (q: string) =>
    ((await (await fetch(`${app.baseUrl}/api/monitor/logs?${q}`)).json()) as any).lines as any[];
  const series = async (metric: string, labels = '') =>
    (
      (await (
        await fetch(`${app.baseUrl}/api/monitor/series?metric=${metric}&labels=${encodeURIComponent(labels)}`)
      ).json()) as any
    ).series[0]?.points.at(-1)?.[1];
  return { fake, app, clock, logs, series };
}

describe('a truncated 3264×2448 photo', () => {
  it('is refused with 400 IMAGE_UNREADABLE saying how much arrived, logged as the tutorial shows, never a server error', async () => {
    const { fake, app, clock, logs, series } = await setup();
    const photo = await blackboardPhoto(3264, 2448);
    const cut = truncated(photo, 0.61);
    const res = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(cut) }, { 'x-client-id': 'classroom-7' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'IMAGE_UNREADABLE', field: 'image' });
    const pct = Number(/data ends at about (\d+) % of the image \(3264x2448\)/.exec(res.json.error.message)?.[1]);
    // Rows arrive in order; the photo's top lines are sparse, so the cut shows within a few %.
    expect(Math.abs(pct - 61)).toBeLessThanOrEqual(8);
    expect(res.json.error.message).not.toMatch(/Vips|failOn|premature end of JPEG image/);
    expect(fake.received).toHaveLength(0);

    const [warn] = await logs('level=WARN&module=ocr');
    expect(warn.event).toBe('Image preproc failed');
    expect(warn.params).toMatchObject({
      format: 'jpeg',
      dimensions: '3264x2448',
      target_size: '1312x960',
      bytes: cut.length,
      outcome: 'refused',
      request_id: res.headers.get('x-request-id'),
      client: 'classroom-7',
    });
    expect(warn.params.reason).toContain('truncated JPEG: data ends at about');
    expect(warn.params.image_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(warn.params.input_size).toMatch(/KiB$/);
    // Nothing at ERROR, no stack trace anywhere in the Monitor's log.
    expect(await logs('level=ERROR')).toHaveLength(0);
    expect(JSON.stringify(await logs('limit=1000'))).not.toMatch(/\bat .*\.(js|ts):\d+/);

    clock.advance(1_000);
    app.monitor!.check(clock());
    // The client's fault: in the tutorial's error rate (4xx and 5xx), never a server failure.
    expect(await series('error_rate_5xx_percent', 'endpoint=/api/ocr')).toBe(0);
    expect(await series('error_rate_percent', 'endpoint=/api/ocr')).toBe(100);
    expect(await series('http_status_4xx', 'endpoint=/api/ocr')).toBe(1);
    expect(await series('ocr_preproc_failure_rate')).toBe(100);
    expect(await series('model_error_count', 'module=ocr,code=IMAGE_UNREADABLE')).toBeGreaterThan(0);
  });

  it('goes through, marked degraded, with IMAGE_ON_PREPROC_FAILURE=degrade', async () => {
    const { fake, app, clock, logs, series } = await setup({ IMAGE_ON_PREPROC_FAILURE: 'degrade' });
    const cut = truncated(await blackboardPhoto(3264, 2448), 0.61);
    const res = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(cut) });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ text: '黑板 板书', degraded: true });
    expect(res.json.degradedReason).toMatch(
      /^truncated JPEG: data ends at about \d+ % of the image \(3264x2448\); sent the part that arrived$/,
    );
    // The model server got the decoded part at the pixel budget's size.
    const sent = (fake.received.at(-1) as any).messages[0].content[0].image_url.url as string;
    const meta = await sharp(Buffer.from(sent.split(',')[1]!, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([1312, 960]);
    const warn = (await logs('level=WARN&module=ocr')).find((l) => l.event === 'Image preproc failed');
    expect(warn.params).toMatchObject({ outcome: 'degraded', dimensions: '3264x2448', target_size: '1312x960' });
    clock.advance(1_000);
    app.monitor!.check(clock());
    expect(await series('ocr_degraded_total')).toBe(1);
  });
});

describe('other broken uploads', () => {
  it('answers bytes that are no image, a pixel bomb and an 8000×8000 PNG with 4xx naming the limit', async () => {
    const { fake, app, clock, series } = await setup();
    const noise = await postJson(`${app.baseUrl}/api/ocr`, {
      image: dataUrl(Buffer.from('%PDF-1.7 not really a pdf either'), 'image/png'),
    });
    expect(noise.status).toBe(400);
    expect(noise.json.error).toMatchObject({
      code: 'IMAGE_UNREADABLE',
      message: 'image: not an image: the data is not JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF',
    });

    const bomb = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await pixelBomb(), 'image/png') });
    expect(bomb.status).toBe(413);
    expect(bomb.json.error).toMatchObject({ code: 'IMAGE_TOO_LARGE', field: 'image' });
    expect(bomb.json.error.message).toBe(
      'image: 15000x15000 is 225.0 megapixels; images are decoded up to 50.0 megapixels (IMAGE_MAX_INPUT_PIXELS)',
    );

    const big = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#234' } })
      .png()
      .toBuffer();
    const bigRes = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(big, 'image/png') });
    expect(bigRes.status).toBe(413);
    expect(bigRes.json.error.message).toContain('8000x8000 is 64.0 megapixels');
    expect(fake.received).toHaveLength(0);
    clock.advance(1_000);
    app.monitor!.check(clock());
    expect(await series('http_status_5xx', 'endpoint=/api/ocr')).toBe(0);
  });

  it('converts a TIFF screenshot for the model server, and refuses an SVG with 415 saying what to send', async () => {
    const { fake, app, clock, logs, series } = await setup();
    const tiff = await sharp(await blackboardPhoto(800, 600))
      .tiff()
      .toBuffer();
    const ok = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(tiff, 'image/tiff') });
    expect(ok.status).toBe(200);
    const url = (fake.received.at(-1) as any).messages[0].content[0].image_url.url as string;
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(await sharp(Buffer.from(url.split(',')[1]!, 'base64')).metadata()).toMatchObject({
      format: 'png',
      width: 800,
      height: 600,
    });

    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><text y="20">hi</text></svg>',
    );
    const refused = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(svg, 'image/svg+xml') });
    expect(refused.status).toBe(415);
    expect(refused.json.error).toMatchObject({ code: 'IMAGE_FORMAT_UNSUPPORTED', field: 'image' });
    expect(refused.json.error.message).toContain('send it as PNG or JPEG');
    expect(fake.received).toHaveLength(1);
    expect((await logs('level=WARN&module=ocr'))[0]).toMatchObject({
      event: 'Image preproc failed',
      params: { format: 'svg', outcome: 'refused' },
    });
    clock.advance(1_000);
    app.monitor!.check(clock());
    expect(await series('ocr_preproc_failure_rate')).toBe(50);
  });

  it('names the module: a cut-off GUI screenshot is gui, an unreadable video frame is dropped under video', async () => {
    const { app, clock, logs, series } = await setup({ VIDEO_MIN_FRAMES: '2' });
    const gui = await postJson(`${app.baseUrl}/api/gui/execute`, {
      screenshot: dataUrl(truncated(await blackboardPhoto(1920, 1080), 0.5)),
      instruction: 'log in',
    });
    expect(gui.status).toBe(400);
    expect(gui.json.error.code).toBe('IMAGE_UNREADABLE');
    expect((await logs('level=WARN&module=gui'))[0]).toMatchObject({
      event: 'Image preproc failed',
      params: { field: 'screenshot', dimensions: '1920x1080' },
    });

    const good = dataUrl(await blackboardPhoto(320, 240));
    const video = await postJson(`${app.baseUrl}/api/video`, {
      frames: [good, dataUrl(Buffer.from('junk')), good, good],
      framesFps: 2,
      question: 'what is written?',
    });
    expect(video.status).toBe(200);
    expect(video.json).toMatchObject({ frames: 3, droppedFrames: 1 });
    const dropped = (await logs('level=WARN&module=video')).find((l) => l.event === 'Image preproc failed');
    expect(dropped.params).toMatchObject({ field: 'frames[1]', outcome: 'dropped' });
    clock.advance(1_000);
    app.monitor!.check(clock());
    expect(await series('gui_preproc_failure_rate')).toBe(100);
    expect(await series('video_preproc_failure_rate')).toBe(25);
  });
});
