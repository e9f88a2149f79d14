import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeUpstream, type FakeBehavior } from '../../src/demo/fake-upstream.js';
import { fitToBudget } from '../../src/pipeline/preprocess.js';
import { postJson, startApp, steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(behavior: Partial<FakeBehavior> = {}, env: Record<string, string> = {}) {
  const fake = await startFakeUpstream({
    behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0, reply: '登录 Username Password', ...behavior },
  });
  const clock = steppedClock();
  const app = await startApp({ UPSTREAM_URL: fake.url, LOG_SAMPLE_RATE: '1', ...env }, { clock, probes: false });
  cleanups.push(
    () => fake.close(),
    () => app.close(),
  );
  return { fake, app, clock };
}

/** A real photo-sized JPEG (a gradient with a few shapes), made by sharp. */
async function photo(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#234"/><stop offset="1" stop-color="#9bd"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><rect x="${width / 3}" y="${height / 3}" width="${width / 4}" height="${height / 8}" fill="#fff"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
}

const dataUrl = (buf: Buffer, mime = 'image/jpeg') => `data:${mime};base64,${buf.toString('base64')}`;

describe('fitToBudget (Qwen3-VL: 32×32 pixels a token)', () => {
  it('keeps images within budget and shrinks larger ones to multiples of 32', () => {
    expect(fitToBudget(800, 600, 1_310_720)).toEqual({ width: 800, height: 600 });
    const r = fitToBudget(3264, 2448, 1_310_720);
    expect(r.width % 32).toBe(0);
    expect(r.height % 32).toBe(0);
    expect(r.width * r.height).toBeLessThanOrEqual(1_310_720);
    expect(r.width / r.height).toBeCloseTo(3264 / 2448, 1);
    expect(r).toEqual({ width: 1312, height: 960 }); // as the README says
  });
  it('also honours a longest-side limit when one is set', () => {
    const r = fitToBudget(3000, 1000, 10_000_000, 1536);
    expect(r).toEqual({ width: 1536, height: 512 });
  });
});

describe('POST /api/ocr', () => {
  it('reads a 3264×2448 photo: resized to the budget, text and confidence back, stages timed', async () => {
    const { fake, app, clock } = await setup({ tokenLogprob: Math.log(0.9) });
    const img = await photo(3264, 2448);
    const res = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(img), language: 'zh' });
    expect(res.status).toBe(200);
    expect(res.json.text).toBe('登录 Username Password');
    expect(res.json.confidence).toBeCloseTo(0.9, 10);
    expect(res.json.imageHash).toMatch(/^[0-9a-f]{16}$/);
    expect(res.json.image).toMatchObject({ originalWidth: 3264, originalHeight: 2448, resized: true });
    expect(res.json.image.width * res.json.image.height).toBeLessThanOrEqual(1280 * 32 * 32);
    // What reached the model server is the resized image, not the photo.
    const sent = (fake.received.at(-1) as any).messages[0].content[0].image_url.url as string;
    const meta = await sharp(Buffer.from(sent.split(',')[1]!, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([res.json.image.width, res.json.image.height]);
    expect((fake.received.at(-1) as any).logprobs).toBe(true);
    // Stage timings: all present, and together no more than the total.
    const { preprocess, inference, postprocess, total } = res.json.stages;
    for (const v of [preprocess, inference, postprocess, total]) expect(v).toBeGreaterThan(0);
    expect(preprocess + inference + postprocess).toBeLessThanOrEqual(total);
    expect(res.json.durationMs).toBe(total);

    clock.advance(1000);
    app.monitor!.check(clock());
    const series = async (metric: string, labels = '') =>
      (
        (await (
          await fetch(`${app.baseUrl}/api/monitor/series?metric=${metric}&labels=${encodeURIComponent(labels)}`)
        ).json()) as any
      ).series[0]?.points.at(-1)?.[1];
    expect(await series('ocr_confidence_mean')).toBeCloseTo(0.9, 10);
    expect(await series('ocr_preproc_failure_rate')).toBe(0);
    expect(await series('inference_duration_ms', 'module=ocr,stage=total')).toBeCloseTo(total, 6);
    expect(await series('input_token_count', 'module=ocr')).toBeGreaterThan(0);
  });

  it('warns about low confidence, naming the image hash, and gives none without logprobs', async () => {
    const { fake, app } = await setup({ tokenLogprob: Math.log(0.4) });
    const img = await photo(640, 480);
    const low = await postJson(`${app.baseUrl}/api/ocr`, { image: img.toString('base64'), language: 'zh' });
    expect(low.json.confidence).toBeCloseTo(0.4, 10);
    const warn = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?level=WARN&module=ocr`)).json()) as any)
      .lines[0];
    expect(warn.event).toBe('Low-confidence OCR');
    // As the tutorial's line: the language, the threshold, the request.
    expect(warn.params).toMatchObject({
      image_hash: low.json.imageHash,
      confidence: 0.4,
      threshold: 0.6,
      lang: 'zh',
      request_id: low.headers.get('x-request-id'),
    });
    fake.behavior = { ...fake.behavior, logprobs: false };
    const none = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(img) });
    expect(none.status).toBe(200);
    expect(none.json.confidence).toBeNull();
  });

  it('reads only logprobs that are logs of probabilities: 710 and 0.5 give no confidence, never a 500', async () => {
    const { fake, app, clock } = await setup({ tokenLogprob: 710 });
    const img = dataUrl(await photo(320, 240));
    const ocr = () => postJson(`${app.baseUrl}/api/ocr`, { image: img });
    // exp(710) is Infinity: the sketch threw, a 500 with no Monitor line.
    const huge = await ocr();
    expect(huge.status).toBe(200);
    expect(huge.json.confidence).toBeNull();
    // exp(0.5) is 1.65: a "confidence" of 165 % was recorded.
    fake.behavior = { ...fake.behavior, tokenLogprob: 0.5 };
    expect((await ocr()).json.confidence).toBeNull();
    // A hair above 0 is rounding in half precision: a sure token.
    fake.behavior = { ...fake.behavior, tokenLogprob: 0.004 };
    expect((await ocr()).json.confidence).toBe(1);
    fake.behavior = { ...fake.behavior, tokenLogprob: Math.log(0.9) };
    expect((await ocr()).json.confidence).toBeCloseTo(0.9, 10);
    clock.advance(1_000);
    app.monitor!.check(clock());
    const mean = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=ocr_confidence_mean`)).json()) as any
    ).series[0].points.at(-1)[1];
    expect(mean).toBeCloseTo(0.95, 2);
    expect(((await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR`)).json()) as any).lines).toEqual([]);
  });

  it('rejects what is not an image (400), too many bytes (413), and counts preprocessing failures', async () => {
    const { fake, app, clock } = await setup({}, { IMAGE_MAX_BYTES: '50000' });
    const text = await postJson(`${app.baseUrl}/api/ocr`, {
      image: dataUrl(Buffer.from('hello, not an image'), 'image/png'),
    });
    expect(text.status).toBe(400);
    expect(text.json.error).toMatchObject({ code: 'IMAGE_UNREADABLE', field: 'image' });
    const big = await sharp({
      create: {
        width: 1200,
        height: 1200,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 60 },
      },
    })
      .png()
      .toBuffer();
    const tooBig = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(big, 'image/png') });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.error.message).toContain('50000 bytes (IMAGE_MAX_BYTES)');
    const missing = await postJson(`${app.baseUrl}/api/ocr`, {});
    expect(missing.json.error.field).toBe('image');
    expect(fake.received).toHaveLength(0);
    await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await photo(64, 64)) });
    clock.advance(1000);
    app.monitor!.check(clock());
    const rate = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=ocr_preproc_failure_rate`)).json()) as any
    ).series[0].points.at(-1)[1];
    expect(rate).toBeCloseTo((2 / 3) * 100, 10);
    const warns = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?level=WARN&module=ocr`)).json()) as any).lines;
    expect(warns).toHaveLength(2);
    expect(warns.map((w: any) => w.event)).toEqual(['Image preproc failed', 'Image preproc failed']);
    expect(tooBig.json.error.code).toBe('IMAGE_TOO_LARGE');
    expect(JSON.stringify(warns)).not.toContain(big.toString('base64').slice(0, 40));
  });

  it('counts upstream failures per minute and logs them with the image hash', async () => {
    const { app, clock } = await setup({ errorRate: 1, failStatus: 503 });
    const res = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await photo(320, 240)) });
    expect(res.status).toBe(503);
    clock.advance(60_000 - 1);
    app.monitor!.check(clock());
    const perMinute = (
      (await (await fetch(`${app.baseUrl}/api/monitor/series?metric=ocr_error_count`)).json()) as any
    ).series[0].points.at(-1)[1];
    expect(perMinute).toBeCloseTo(1, 1);
    const err = await vi.waitFor(async () => {
      const line = ((await (await fetch(`${app.baseUrl}/api/monitor/logs?level=ERROR`)).json()) as any).lines[0];
      expect(line).toBeDefined();
      return line;
    });
    expect(err).toMatchObject({ module: 'ocr', event: 'Model server error' });
    expect(err.params).toMatchObject({
      endpoint: '/api/ocr',
      status: 503,
      dimensions: '320x240',
      request_id: res.headers.get('x-request-id'),
    });
    expect(err.params.image_hash).toMatch(/^[0-9a-f]{16}$/);
  });
});
