import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  decoderReason,
  isComplete,
  jpegLayout,
  pngLayout,
  pngRowShare,
  sniffFormat,
} from '../../src/pipeline/image-check.js';
import { detectLanguage } from '../../src/pipeline/script-language.js';
import { blackboardPhoto } from './images.js';

describe('what an image file says about itself', () => {
  it('knows formats by their first bytes, not by what the client called them', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .webp()
      .toBuffer();
    expect(sniffFormat(await blackboardPhoto(64, 48))).toBe('jpeg');
    expect(sniffFormat(png)).toBe('png');
    expect(sniffFormat(webp)).toBe('webp');
    expect(sniffFormat(Buffer.from('GIF89a....'))).toBe('gif');
    expect(sniffFormat(Buffer.from('%PDF-1.7\n'))).toBe('pdf');
    expect(sniffFormat(Buffer.from('hello, not an image'))).toBeNull();
  });

  it('tells a whole JPEG or PNG from a truncated one without decoding it', async () => {
    const jpeg = await blackboardPhoto(640, 480);
    expect(isComplete(jpeg, 'jpeg')).toBe(true);
    expect(isComplete(jpeg.subarray(0, jpeg.length - 1), 'jpeg')).toBe(false);
    expect(isComplete(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'jpeg')).toBe(false);
    // Bytes appended after the end-of-image marker (some cameras do) are no truncation.
    expect(isComplete(Buffer.concat([jpeg, Buffer.from('trailer')]), 'jpeg')).toBe(true);
    expect(jpegLayout(jpeg).progressive).toBe(false);
    expect(jpegLayout(await sharp(jpeg).jpeg({ progressive: true }).toBuffer()).progressive).toBe(true);

    const png = await sharp(jpeg).png().toBuffer();
    expect(isComplete(png, 'png')).toBe(true);
    expect(isComplete(png.subarray(0, png.length - 12), 'png')).toBe(false);
    expect(pngLayout(png)).toMatchObject({ complete: true, width: 640, height: 480, rowBytes: 640 * 3 + 1 });
  });

  it('measures how many rows of a truncated PNG arrived', async () => {
    // Noise compresses evenly, so a cut at 40 % of the data is close to 40 % of the rows.
    const png = await sharp({
      create: {
        width: 300,
        height: 200,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 50 },
      },
    })
      .png({ compressionLevel: 6 })
      .toBuffer();
    expect(await pngRowShare(pngLayout(png))).toBe(1);
    const share = await pngRowShare(pngLayout(png.subarray(0, Math.floor(png.length * 0.4))));
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.5);
  });

  it("turns libvips's words into a reason a person can act on", () => {
    expect(decoderReason(null, 'Input buffer contains unsupported image format')).toBe(
      'not an image: the data is not JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF',
    );
    expect(decoderReason('jpeg', 'Input buffer has corrupt header: VipsJpeg: premature end of JPEG image')).toBe(
      'corrupt JPEG header (premature end of JPEG image)',
    );
    expect(decoderReason('jpeg', 'VipsJpeg: Corrupt JPEG data: premature end of data segment')).toBe(
      'truncated JPEG: Corrupt JPEG data: premature end of data segment',
    );
    expect(decoderReason('png', 'pngload_buffer: libspng read error')).toBe('corrupt PNG data (libspng read error)');
  });
});

describe('the language of an OCR answer (lang= in its log line)', () => {
  it('follows the script most letters are in', () => {
    expect(detectLanguage('登录 Username Password 用户名和密码')).toBe('zh');
    expect(detectLanguage('ログイン画面の説明')).toBe('ja');
    expect(detectLanguage('로그인 버튼')).toBe('ko');
    expect(detectLanguage('Read all the text')).toBe('latin');
    expect(detectLanguage('Привет')).toBe('ru');
    expect(detectLanguage('12 + 34 = 46')).toBeNull();
  });
});
