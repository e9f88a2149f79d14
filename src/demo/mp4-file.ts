// A valid MP4 of any size, written box by box (ISO BMFF: ftyp, a big mdat, moov with one
// H.264 track and its sample table): for the tests and the upload benchmark, which need
// a file the server really parses, at sizes no fixture should be checked in at.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface Mp4Shape {
  seconds: number;
  fps: number;
  width: number;
  height: number;
  /** Bytes of frame data in the mdat (spread over the samples); the file is this plus ~4 bytes a frame. */
  payloadBytes: number;
  /** Where the moov goes: after the mdat (cameras, ffmpeg's default) or before it ("faststart"). */
  moov: 'last' | 'first';
}

/** A box: a 32-bit size, a four-character type, the payload. */
export function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** A full box: a box whose payload starts with a version byte and 24 bits of flags. */
export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v >>> 0, 4 * i);
  return b;
};
const u16 = (...values: number[]) => {
  const b = Buffer.alloc(2 * values.length);
  for (const [i, v] of values.entries()) b.writeUInt16BE(v & 0xffff, 2 * i);
  return b;
};
const UNITY_MATRIX = u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000);

/** The ftyp and moov of a file with `mdatPayloadAt` as the offset of the first frame's bytes. */
function headerBoxes(s: Mp4Shape, mdatPayloadAt: number): { ftyp: Buffer; moov: Buffer } {
  const frames = Math.max(1, Math.round(s.seconds * s.fps));
  const timescale = Math.round(s.fps * 1000);
  const delta = 1000;
  const sizes = u32(...Array.from({ length: frames }, (_, i) => sampleSize(s.payloadBytes, frames, i)));
  const avcC = box('avcC', Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0]));
  const avc1 = box(
    'avc1',
    Buffer.alloc(6),
    u16(1, 0, 0),
    u32(0, 0, 0),
    u16(s.width, s.height),
    u32(0x00480000, 0x00480000, 0),
    u16(1),
    Buffer.alloc(32),
    u16(0x18, 0xffff),
    avcC,
  );
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), avc1),
    fullBox('stts', 0, 0, u32(1, frames, delta)),
    fullBox('stsc', 0, 0, u32(1, 1, frames, 1)),
    fullBox('stsz', 0, 0, u32(0, frames), sizes),
    fullBox('stco', 0, 0, u32(1, mdatPayloadAt)),
  );
  const minf = box(
    'minf',
    fullBox('vmhd', 0, 1, u16(0, 0, 0, 0)),
    box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))),
    stbl,
  );
  const mdia = box(
    'mdia',
    fullBox('mdhd', 0, 0, u32(0, 0, timescale, frames * delta), u16(0x55c4, 0)),
    fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide'), u32(0, 0, 0), Buffer.from('VideoHandler\0')),
    minf,
  );
  const durationMs = Math.round((frames * 1000) / s.fps);
  const tkhd = fullBox(
    'tkhd',
    0,
    3,
    u32(0, 0, 1, 0, durationMs, 0, 0),
    u16(0, 0, 0, 0),
    UNITY_MATRIX,
    u32(s.width * 0x10000, s.height * 0x10000),
  );
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0, 0, 1000, durationMs, 0x10000),
    u16(0x100, 0),
    u32(0, 0),
    UNITY_MATRIX,
    u32(0, 0, 0, 0, 0, 0, 2),
  );
  const ftyp = box('ftyp', Buffer.from('isom'), u32(512), Buffer.from('isomiso2avc1mp41'));
  return { ftyp, moov: box('moov', mvhd, box('trak', tkhd, mdia)) };
}

function sampleSize(payload: number, frames: number, i: number): number {
  const each = Math.floor(payload / frames);
  return i === frames - 1 ? payload - each * (frames - 1) : each;
}

/** The parts of the file in order; the mdat's payload (`payloadBytes` of it) is left to the writer. */
export function mp4Layout(s: Mp4Shape): { before: Buffer; mdatPayloadBytes: number; after: Buffer } {
  const mdatHead = u32(8 + s.payloadBytes);
  const mdat = Buffer.concat([mdatHead, Buffer.from('mdat')]);
  if (s.moov === 'last') {
    const { ftyp } = headerBoxes(s, 0);
    const { moov } = headerBoxes(s, ftyp.length + 8);
    return { before: Buffer.concat([ftyp, mdat]), mdatPayloadBytes: s.payloadBytes, after: moov };
  }
  const first = headerBoxes(s, 0);
  const { ftyp, moov } = headerBoxes(s, first.ftyp.length + first.moov.length + 8);
  return { before: Buffer.concat([ftyp, moov, mdat]), mdatPayloadBytes: s.payloadBytes, after: Buffer.alloc(0) };
}

/** A small MP4 in memory (frame data: a repeating byte pattern). */
export function mp4Buffer(s: Mp4Shape): Buffer {
  const { before, mdatPayloadBytes, after } = mp4Layout(s);
  const payload = Buffer.alloc(mdatPayloadBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  return Buffer.concat([before, payload, after]);
}

/** Writes the MP4 to `path` in 1 MiB pieces (never the whole file in memory); returns its size. */
export async function writeMp4File(path: string, s: Mp4Shape): Promise<number> {
  const { before, mdatPayloadBytes, after } = mp4Layout(s);
  const out = createWriteStream(path);
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  const write = async (b: Buffer) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(before);
  for (let left = mdatPayloadBytes; left > 0; left -= block.length)
    await write(block.subarray(0, Math.min(left, block.length)));
  await write(after);
  out.end();
  await once(out, 'finish');
  return before.length + mdatPayloadBytes + after.length;
}
