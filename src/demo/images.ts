// Images for the demo's traffic, made by sharp: a blackboard photo like the tutorial's
// students upload (3264×2448 JPEG), a smaller one, and an upload cut off midway.
import sharp from 'sharp';

/** A photo-like JPEG: a dark green board with lines of chalk "text". */
export async function blackboardPhoto(width: number, height: number): Promise<Buffer> {
  const lines = Array.from({ length: 12 }, (_, i) => {
    const y = Math.round(height * (0.15 + i * 0.065));
    return `<rect x="${Math.round(width * 0.08)}" y="${y}" width="${Math.round(width * (0.5 + ((i * 37) % 40) / 100))}" height="${Math.max(2, Math.round(height * 0.012))}" fill="#e8e8d8"/>`;
  }).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#24402f"/>${lines}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** The first `share` of a file's bytes: an upload that stopped midway. */
export const truncated = (file: Buffer, share: number): Buffer => file.subarray(0, Math.floor(file.length * share));

export const dataUrl = (buf: Buffer, mime = 'image/jpeg') => `data:${mime};base64,${buf.toString('base64')}`;
