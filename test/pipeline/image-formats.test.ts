// What the model server is sent for each format a client may upload: JPEG, PNG, WebP and
// GIF as they are (within budget); TIFF and AVIF converted to PNG or JPEG, the pixels
// kept; SVG refused with what to send instead. Real files, made by sharp.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { type ImageBudget, prepareImage, SVG_REFUSAL } from '../../src/pipeline/preprocess.js';
import { blackboardPhoto } from './images.js';

const budget: ImageBudget = { maxPixels: 1_000_000, maxInputPixels: 50_000_000, onFailure: 'refuse' };

/** The MIME type and the decoded facts of what would go to the model server. */
async function sent(dataUrl: string) {
  const m = /^data:([^;]+);base64,/.exec(dataUrl);
  const bytes = Buffer.from(dataUrl.slice(m![0].length), 'base64');
  const meta = await sharp(bytes).metadata();
  return { mime: m![1], format: meta.format, width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha };
}

const transparent = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } });

describe('image formats', () => {
  it('sends JPEG, PNG, WebP and GIF within budget as they came', async () => {
    const photo = await blackboardPhoto(640, 480);
    const files = {
      'image/jpeg': photo,
      'image/png': await sharp(photo).png().toBuffer(),
      'image/webp': await sharp(photo).webp().toBuffer(),
      'image/gif': await sharp(photo).gif().toBuffer(),
    };
    for (const [mime, bytes] of Object.entries(files)) {
      const p = await prepareImage(bytes, 'image', budget);
      expect(p.dataUrl).toBe(`data:${mime};base64,${bytes.toString('base64')}`);
      expect(p.resized).toBe(false);
    }
  });

  it('converts TIFF to PNG and AVIF to JPEG at their own size, never application/octet-stream', async () => {
    const photo = await blackboardPhoto(640, 480);
    const tiff = await prepareImage(await sharp(photo).tiff().toBuffer(), 'image', budget);
    expect(tiff).toMatchObject({ format: 'tiff', width: 640, height: 480, resized: false });
    expect(await sent(tiff.dataUrl)).toMatchObject({ mime: 'image/png', format: 'png', width: 640, height: 480 });
    const avif = await prepareImage(await sharp(photo).avif().toBuffer(), 'image', budget);
    expect(avif).toMatchObject({ format: 'heif', width: 640, height: 480, resized: false });
    expect(await sent(avif.dataUrl)).toMatchObject({ mime: 'image/jpeg', format: 'jpeg', width: 640, height: 480 });
  });

  it('keeps transparency as PNG, and resizes a large TIFF to the budget', async () => {
    const avif = await prepareImage(await transparent(320, 200).avif().toBuffer(), 'image', budget);
    expect(await sent(avif.dataUrl)).toMatchObject({ mime: 'image/png', hasAlpha: true });
    const big = await prepareImage(
      await sharp(await blackboardPhoto(3264, 2448))
        .tiff()
        .toBuffer(),
      'image',
      budget,
    );
    expect(big).toMatchObject({ originalWidth: 3264, originalHeight: 2448, resized: true });
    expect(big.width * big.height).toBeLessThanOrEqual(budget.maxPixels);
    expect(await sent(big.dataUrl)).toMatchObject({ mime: 'image/png', width: big.width, height: big.height });
  });

  it('refuses SVG with 415, saying what to send', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>',
    );
    const err = await prepareImage(svg, 'image', budget).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      code: 'IMAGE_FORMAT_UNSUPPORTED',
      statusCode: 415,
      field: 'image',
      message: `image: ${SVG_REFUSAL}`,
      facts: { format: 'svg', bytes: svg.length },
    });
  });
});
