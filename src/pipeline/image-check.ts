// Pure checks on an image's bytes, so that a failure is explained in an operator's words
// ("truncated JPEG: data ends at about 61 % of the image") rather than a decoder's
// ("VipsJpeg: premature end of JPEG image"). No pixel decoding happens here.
import { createInflate } from 'node:zlib';

/** The format a file's first bytes claim, or null for none we know. */
export function sniffFormat(b: Buffer): string | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return 'gif';
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp') {
    const brand = b.toString('latin1', 8, 12);
    return brand.startsWith('avi') ? 'avif' : /^(heic|heix|mif1|msf1)$/.test(brand) ? 'heif' : 'mp4';
  }
  if (b.length >= 4 && (b.readUInt32BE(0) === 0x49492a00 || b.readUInt32BE(0) === 0x4d4d002a)) return 'tiff';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 5 && b.toString('latin1', 0, 5) === '%PDF-') return 'pdf';
  return null;
}

interface JpegLayout {
  /** Offset of the first start-of-scan marker, -1 when the file ends before it. */
  scanStart: number;
  progressive: boolean;
}

/** Walks a JPEG's marker segments up to the first scan. */
export function jpegLayout(b: Buffer): JpegLayout {
  let i = 2;
  let progressive = false;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return { scanStart: -1, progressive };
    const marker = b.readUInt8(i + 1);
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xda) return { scanStart: i, progressive };
    // SOF2, SOF6, SOF10, SOF14: progressive frames.
    if (marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce) progressive = true;
    i += 2 + b.readUInt16BE(i + 2);
  }
  return { scanStart: -1, progressive };
}

export interface PngLayout {
  complete: boolean;
  width: number;
  height: number;
  /** Bytes per row of filtered data, plus its filter byte; 0 when interlaced (rows vary). */
  rowBytes: number;
  idat: Buffer[];
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Walks a PNG's chunks: its header, its image data, and whether IEND arrived. */
export function pngLayout(b: Buffer): PngLayout {
  const out: PngLayout = { complete: false, width: 0, height: 0, rowBytes: 0, idat: [] };
  let i = 8;
  while (i + 8 <= b.length) {
    const len = b.readUInt32BE(i);
    const type = b.toString('latin1', i + 4, i + 8);
    const data = b.subarray(i + 8, Math.min(b.length, i + 8 + len));
    if (type === 'IHDR' && data.length >= 13) {
      out.width = data.readUInt32BE(0);
      out.height = data.readUInt32BE(4);
      const bits = data.readUInt8(8) * (PNG_CHANNELS[data.readUInt8(9)] ?? 0);
      out.rowBytes = data[12] === 0 ? Math.ceil((out.width * bits) / 8) + 1 : 0;
    } else if (type === 'IDAT') {
      out.idat.push(data);
    } else if (type === 'IEND') {
      out.complete = true;
      return out;
    }
    i += 12 + len;
  }
  return out;
}

/**
 * Whether a file ends where its format says it should: a JPEG's end-of-image marker after
 * its scans, a PNG's IEND chunk. Formats we cannot check this way count as complete (the
 * decoder is the judge then).
 */
export function isComplete(b: Buffer, format: string): boolean {
  if (format === 'jpeg') {
    const { scanStart } = jpegLayout(b);
    if (scanStart < 0) return false;
    // Entropy-coded data never holds an unescaped FF D9, so the last one ends the image.
    return b.lastIndexOf(EOI) > Math.max(scanStart, b.lastIndexOf(SOS));
  }
  if (format === 'png') return pngLayout(b).complete;
  return true;
}
const EOI = Buffer.from([0xff, 0xd9]);
const SOS = Buffer.from([0xff, 0xda]);

/**
 * Share of a baseline JPEG's rows that a truncated file still holds, from a decode of it
 * (raw pixels, any size): a decoder out of data repeats the last block's colour to the
 * end, so the picture ends in identical rows. An image whose own bottom is flat reads a
 * little high; never low.
 */
export function decodedRowShare(raw: Uint8Array, width: number, height: number, channels: number): number {
  const row = width * channels;
  const sameAsLast = (r: number) => {
    const a = r * row;
    const z = (height - 1) * row;
    for (let x = 0; x < row; x++) if (Math.abs((raw[a + x] ?? 0) - (raw[z + x] ?? 0)) > 2) return false;
    return true;
  };
  let r = height - 1;
  while (r > 0 && sameAsLast(r - 1)) r--;
  return r / height;
}

/** Turns a decoder's message into a short reason a person can act on. */
export function decoderReason(format: string | null, message: string): string {
  const name = (format ?? 'image').toUpperCase();
  if (/unsupported image format/i.test(message))
    return 'not an image: the data is not JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF';
  const detail = message
    .replace(/^Input (buffer|file) has corrupt header:\s*/i, '')
    .replace(/^(VipsJpeg|VipsForeignLoad\w*|\w+load(_buffer)?|webp|gifload|heifload|tiff2vips):\s*/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (/corrupt header/i.test(message)) return `corrupt ${name} header (${detail})`;
  if (/premature end/i.test(detail)) return `truncated ${name}: ${detail}`;
  return `corrupt ${name} data (${detail})`;
}

/** "8000x8000 is 64.0 megapixels" */
export function megapixels(width: number, height: number): string {
  return `${((width * height) / 1e6).toFixed(1)} megapixels`;
}

/**
 * Share of a truncated, non-interlaced PNG's rows that its image data still holds: the
 * data that arrived is inflated (off the main thread, counted, not kept) and divided by
 * what the header says all rows take. Null when the header does not allow it.
 */
export async function pngRowShare(layout: PngLayout): Promise<number | null> {
  if (layout.rowBytes === 0 || layout.height === 0 || layout.idat.length === 0) return null;
  const inflater = createInflate();
  let produced = 0;
  inflater.on('data', (chunk: Buffer) => {
    produced += chunk.length;
  });
  await new Promise<void>((resolve) => {
    // A truncated stream ends in an "unexpected end of file" error: what came out counts.
    inflater.once('error', () => resolve());
    inflater.once('end', () => resolve());
    for (const d of layout.idat) inflater.write(d);
    inflater.end();
  });
  return Math.min(1, Math.floor(produced / layout.rowBytes) / layout.height);
}
