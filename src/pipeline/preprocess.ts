// Image preprocessing with sharp: read the header, check the file is whole, hash it (the
// hash, not the image, goes in logs), and resize images above the pixel budget following
// Qwen3-VL's rule of one visual token per 32×32 pixels: sides become multiples of 32 and
// the area at most maxPixels, aspect ratio kept. Nothing is upscaled; the model server does
// that itself. A broken image is the client's fault: an ImagePreprocError (4xx) that names
// what is wrong and carries what an operator needs to find the file again. The model
// server reads JPEG, PNG, WebP and GIF: other formats sharp reads (TIFF, AVIF/HEIF) are
// converted, and SVG, a drawing rather than pixels, is refused with what to send instead.
import { webcrypto } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../errors.js';
import {
  decodedRowShare,
  decoderReason,
  isComplete,
  jpegLayout,
  megapixels,
  pngLayout,
  pngRowShare,
  sniffFormat,
} from './image-check.js';

export const PATCH = 32;

// Every image is new: libvips' operation cache would only hold memory (50 MB by default).
sharp.cache(false);

/** What to do with an image that cannot be resized: refuse it (4xx), or send what can be sent. */
export type PreprocPolicy = 'refuse' | 'degrade';

export interface ImageBudget {
  maxPixels: number;
  /** Longest side allowed, in pixels; 0 for no limit beyond maxPixels. */
  maxSide?: number;
  /** Largest image decoded at all: bounds the memory one image can take. */
  maxInputPixels: number;
  onFailure: PreprocPolicy;
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
  /** Why the image went through the degraded path (IMAGE_ON_PREPROC_FAILURE=degrade). */
  degraded?: string;
}

/** What is known of an image that could not be prepared: the log line's evidence. */
export interface ImageFacts {
  /** Null when the image was refused before it was read whole (over the byte limit). */
  hash: string | null;
  bytes: number;
  format: string | null;
  width?: number;
  height?: number;
  target?: { width: number; height: number };
}

/** A 4xx about the client's image, with the facts the WARN line names. */
export class ImagePreprocError extends AppError {
  constructor(
    code: 'IMAGE_UNREADABLE' | 'IMAGE_TOO_LARGE' | 'IMAGE_FORMAT_UNSUPPORTED',
    field: string,
    readonly reason: string,
    readonly facts: ImageFacts,
  ) {
    super(code, `${field}: ${reason}`, { field });
  }
}

/**
 * Qwen's smart_resize, downscale-only: the largest size with both sides multiples of
 * 32 and at most maxPixels in area, keeping the aspect ratio. Pure, for tests.
 */
export function fitToBudget(
  width: number,
  height: number,
  maxPixels: number,
  maxSide = 0,
): { width: number; height: number } {
  const sideOk = maxSide <= 0 || Math.max(width, height) <= maxSide;
  if (width * height <= maxPixels && sideOk) return { width, height };
  const byArea = Math.sqrt((width * height) / maxPixels);
  const bySide = maxSide > 0 ? Math.max(width, height) / maxSide : 0;
  const beta = Math.max(byArea, bySide, 1);
  const w = Math.max(PATCH, Math.floor(width / beta / PATCH) * PATCH);
  const h = Math.max(PATCH, Math.floor(height / beta / PATCH) * PATCH);
  return { width: w, height: h };
}

/** The formats a model server reads as they are; anything else is converted first. */
const MIME: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};
/** The MIME type of a format sent as it is; undefined for one converted first. */
const mimeAsIs = (format: string): string | undefined => (Object.hasOwn(MIME, format) ? MIME[format] : undefined);

/**
 * Why SVG is refused rather than rasterised: it is a program for a renderer (XML, filters,
 * references, nested <use>), whose rendering time and memory its byte size and declared
 * size do not bound, and no screenshot or photo arrives as one.
 */
export const SVG_REFUSAL =
  'SVG is a drawing, not pixels: send it as PNG or JPEG (the model reads JPEG, PNG, WebP and GIF; TIFF and AVIF are converted)';

/** What a converted or resized image is sent as: lossless and transparent sources as PNG, photos as JPEG. */
function outputFormat(format: string, hasAlpha: boolean): 'png' | 'webp' | 'jpeg' {
  if (format === 'png' || format === 'webp') return format;
  return hasAlpha || format === 'tiff' ? 'png' : 'jpeg';
}

/** sha256 prefix, computed on libuv's pool (hashing 20 MB on the event loop takes ~40 ms). */
export async function imageHash(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes))
    .toString('hex')
    .slice(0, 16);
}

export async function prepareImage(bytes: Buffer, field: string, budget: ImageBudget): Promise<PreparedImage> {
  const sniffed = sniffFormat(bytes);
  const hash = await imageHash(bytes);
  const facts: ImageFacts = { hash, bytes: bytes.length, format: sniffed };
  const unreadable = (reason: string) => new ImagePreprocError('IMAGE_UNREADABLE', field, reason, facts);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw unreadable(decoderReason(sniffed, (err as Error).message));
  }
  const format = meta.format ?? sniffed ?? 'unknown';
  facts.format = format;
  if (format === 'svg') throw new ImagePreprocError('IMAGE_FORMAT_UNSUPPORTED', field, SVG_REFUSAL, facts);
  // EXIF orientation 5–8 swaps the sides as the model will see them.
  const swap = (meta.orientation ?? 1) >= 5;
  const ow = (swap ? meta.height : meta.width) ?? 0;
  const oh = (swap ? meta.width : meta.height) ?? 0;
  if (ow <= 0 || oh <= 0) throw unreadable(`the ${format.toUpperCase()} header gives no dimensions`);
  facts.width = ow;
  facts.height = oh;
  const target = fitToBudget(ow, oh, budget.maxPixels, budget.maxSide ?? 0);
  facts.target = target;
  if (ow * oh > budget.maxInputPixels) {
    throw new ImagePreprocError(
      'IMAGE_TOO_LARGE',
      field,
      `${ow}x${oh} is ${megapixels(ow, oh)}; images are decoded up to ${megapixels(budget.maxInputPixels, 1)} (IMAGE_MAX_INPUT_PIXELS)`,
      facts,
    );
  }
  const image = { hash, bytes: bytes.length, format, originalWidth: ow, originalHeight: oh };
  const resized = target.width !== ow || target.height !== oh;
  const out = outputFormat(format, meta.hasAlpha === true);
  const mime = mimeAsIs(format);

  if (!isComplete(bytes, format)) {
    const reason = await truncationReason(bytes, format, ow, oh, budget.maxInputPixels);
    if (budget.onFailure === 'refuse') throw unreadable(reason);
    // What arrived is decoded (the rest is the decoder's fill) and sent at the budget's size.
    try {
      return {
        ...image,
        ...(await resize(bytes, out, target, budget.maxInputPixels, true)),
        degraded: `${reason}; sent the part that arrived`,
      };
    } catch (err) {
      throw unreadable(
        `${reason}; not even that part could be decoded (${decoderReason(format, (err as Error).message)})`,
      );
    }
  }
  if (!resized && mime) return { ...image, ...asIs(bytes, mime, target) };
  try {
    // A TIFF or AVIF within budget is converted at its own size: not resized.
    return { ...image, ...(await resize(bytes, out, target, budget.maxInputPixels, false)), resized };
  } catch (err) {
    const what = resized
      ? `resizing ${ow}x${oh} to ${target.width}x${target.height}`
      : `converting ${format.toUpperCase()} to ${out.toUpperCase()}`;
    const reason = `${decoderReason(format, (err as Error).message)}; ${what} failed`;
    if (budget.onFailure === 'refuse' || !mime) throw unreadable(reason);
    // The model server resizes by itself: within the byte limit, the file can go as it came.
    return { ...image, ...asIs(bytes, mime, target), degraded: `${reason}; sent as it was (${ow}x${oh})` };
  }
}

type Encoded = Pick<PreparedImage, 'width' | 'height' | 'resized' | 'tokens' | 'dataUrl'>;

function tokensFor(size: { width: number; height: number }): number {
  return Math.ceil(size.width / PATCH) * Math.ceil(size.height / PATCH);
}

function asIs(bytes: Buffer, mime: string, target: { width: number; height: number }): Encoded {
  return {
    width: target.width,
    height: target.height,
    resized: false,
    tokens: tokensFor(target),
    dataUrl: `data:${mime};base64,${bytes.toString('base64')}`,
  };
}

/** Decodes, turns upright, scales to `target` (no-op at the same size) and encodes as `outFormat`. */
async function resize(
  bytes: Buffer,
  outFormat: 'png' | 'webp' | 'jpeg',
  target: { width: number; height: number },
  maxInputPixels: number,
  partial: boolean,
): Promise<Encoded> {
  // A partial decode tolerates what the decoder calls errors; a normal one not even warnings.
  const pipeline = sharp(bytes, { failOn: partial ? 'none' : 'warning', limitInputPixels: maxInputPixels })
    .rotate()
    .resize(target.width, target.height, { fit: 'fill' });
  const out = await (outFormat === 'png'
    ? pipeline.png()
    : outFormat === 'webp'
      ? pipeline.webp({ quality: 90 })
      : pipeline.jpeg({ quality: 90 })
  ).toBuffer();
  return {
    width: target.width,
    height: target.height,
    resized: true,
    tokens: tokensFor(target),
    dataUrl: `data:${MIME[outFormat]};base64,${out.toString('base64')}`,
  };
}

/** "truncated JPEG: data ends at about 61 % of the image (3264x2448)" */
async function truncationReason(
  bytes: Buffer,
  format: string,
  width: number,
  height: number,
  maxInputPixels: number,
): Promise<string> {
  const size = `${width}x${height}`;
  if (format === 'png') {
    const share = await pngRowShare(pngLayout(bytes));
    return share === null
      ? `truncated PNG: the file ends before its last chunk (${size})`
      : `truncated PNG: data ends at ${percent(share)} of the rows (${size})`;
  }
  if (jpegLayout(bytes).progressive)
    return `truncated JPEG: the file ends before its last progressive scan (${size}); the image is there but blurred`;
  try {
    // JPEG decodes at 1/8 scale straight from the file: a few milliseconds for a photo.
    const { data, info } = await sharp(bytes, { failOn: 'none', limitInputPixels: maxInputPixels })
      .resize({ width: Math.min(256, width) })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const share = decodedRowShare(data, info.width, info.height, info.channels);
    if (share < 0.995) return `truncated JPEG: data ends at about ${percent(share)} of the image (${size})`;
  } catch {
    // Not decodable even in part: the plain reason below says enough.
  }
  return `truncated JPEG: the file ends before its end-of-image marker (${size})`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}
