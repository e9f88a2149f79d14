// Image preprocessing with sharp: decode, read dimensions, hash (the hash, not the image,
// goes in logs), and resize images above the pixel budget following Qwen3-VL's rule of
// one visual token per 32×32 pixels: sides become multiples of 32 and the area at most
// maxPixels, aspect ratio kept. Nothing is upscaled; the model server does that itself.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../errors.js';

export const PATCH = 32;

export interface ImageBudget {
  maxPixels: number;
  /** Longest side allowed, in pixels; 0 for no limit beyond maxPixels. */
  maxSide?: number;
}

export interface PreparedImage {
  /** sha256 of the bytes the client sent, first 16 hex digits. */
  hash: string;
  bytes: number;
  format: string;
  width: number;
  height: number;
  originalWidth: number;
  originalHeight: number;
  resized: boolean;
  /** Visual tokens the model will spend on it (32×32 pixels each). */
  tokens: number;
  /** What to send upstream. */
  dataUrl: string;
}

/**
 * Qwen's smart_resize, downscale-only: the largest size with both sides multiples of
 * 32 and at most maxPixels in area, keeping the aspect ratio. Pure, for tests.
 */
export function fitToBudget(width: number, height: number, maxPixels: number, maxSide = 0): { width: number; height: number } {
  const sideOk = maxSide <= 0 || Math.max(width, height) <= maxSide;
  if (width * height <= maxPixels && sideOk) return { width, height };
  const byArea = Math.sqrt((width * height) / maxPixels);
  const bySide = maxSide > 0 ? Math.max(width, height) / maxSide : 0;
  const beta = Math.max(byArea, bySide, 1);
  const w = Math.max(PATCH, Math.floor(width / beta / PATCH) * PATCH);
  const h = Math.max(PATCH, Math.floor(height / beta / PATCH) * PATCH);
  return { width: w, height: h };
}

const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

export async function prepareImage(bytes: Buffer, field: string, budget: ImageBudget): Promise<PreparedImage> {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new AppError('BAD_REQUEST', `${field}: not an image sharp can read (${(err as Error).message})`, { field });
  }
  const format = meta.format ?? 'unknown';
  // EXIF orientation 5–8 swaps the sides as the model will see them.
  const swap = (meta.orientation ?? 1) >= 5;
  const ow = (swap ? meta.height : meta.width) ?? 0;
  const oh = (swap ? meta.width : meta.height) ?? 0;
  if (ow <= 0 || oh <= 0) throw new AppError('BAD_REQUEST', `${field}: the image has no dimensions`, { field });
  const target = fitToBudget(ow, oh, budget.maxPixels, budget.maxSide ?? 0);
  const resized = target.width !== ow || target.height !== oh;
  let out = bytes;
  let outFormat = format;
  if (resized) {
    const pipeline = sharp(bytes).rotate().resize(target.width, target.height, { fit: 'fill' });
    outFormat = format === 'png' || format === 'webp' ? format : 'jpeg';
    out = await (outFormat === 'png' ? pipeline.png() : outFormat === 'webp' ? pipeline.webp({ quality: 90 }) : pipeline.jpeg({ quality: 90 })).toBuffer();
  }
  const mime = MIME[outFormat] ?? 'application/octet-stream';
  return {
    hash,
    bytes: bytes.length,
    format,
    width: target.width,
    height: target.height,
    originalWidth: ow,
    originalHeight: oh,
    resized,
    tokens: Math.ceil(target.width / PATCH) * Math.ceil(target.height / PATCH),
    dataUrl: `data:${mime};base64,${out.toString('base64')}`,
  };
}
