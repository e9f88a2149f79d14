// Real image files for the tests, made by sharp: a photo-like JPEG (chalk on a blackboard,
// as in the tutorial's incident), cut at a share of its bytes, a pixel bomb.
import sharp from 'sharp';

/** A blackboard photo: dark green board, lines of chalk "text", a lighter top margin. */
export async function blackboardPhoto(
  width: number,
  height: number,
  opts: { progressive?: boolean } = {},
): Promise<Buffer> {
  const lines = Array.from({ length: 12 }, (_, i) => {
    const y = Math.round(height * (0.15 + i * 0.065));
    return `<rect x="${Math.round(width * 0.08)}" y="${y}" width="${Math.round(width * (0.5 + ((i * 37) % 40) / 100))}" height="${Math.max(2, Math.round(height * 0.012))}" fill="#e8e8d8"/>`;
  }).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2f4a3a"/><stop offset="1" stop-color="#1c3326"/></linearGradient></defs>` +
    `<rect width="100%" height="100%" fill="url(#g)"/>${lines}</svg>`;
  return sharp(Buffer.from(svg))
    .jpeg({ quality: 85, progressive: opts.progressive ?? false })
    .toBuffer();
}

/** The first `share` of a file's bytes: an upload cut off midway. */
export function truncated(file: Buffer, share: number): Buffer {
  return file.subarray(0, Math.floor(file.length * share));
}

/** A PNG that is small on the wire and enormous decoded: 15000×15000 of one colour (~0.7 MB). */
export async function pixelBomb(side = 15_000): Promise<Buffer> {
  return sharp({ create: { width: side, height: side, channels: 3, background: '#ffffff' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export const dataUrl = (buf: Buffer, mime = 'image/jpeg') => `data:${mime};base64,${buf.toString('base64')}`;
