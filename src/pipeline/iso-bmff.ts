// The few boxes of an ISO BMFF file (MP4, MOV, M4V) that say what a video is, read from
// buffers without building anything per sample: ftyp (brands), moov (tracks, durations,
// sample counts from the headers of their tables) and, for a fragmented file, each moof's
// sample counts and durations. Pure functions; the file walk is in video-info.ts.

export interface BoxHeader {
  type: string;
  /** Offset of the box in the buffer (or file) it was read from. */
  start: number;
  headerSize: number;
  /** The whole box, header included. */
  size: number;
}

/**
 * The box header at `at`, or null when it is cut off or invalid. `room` is how many bytes
 * the box may take from `at` on (its parent's or the file's end): size 0 means "to there".
 */
export function boxHeader(buf: Buffer, at: number, room: number): BoxHeader | null {
  if (at + 8 > buf.length || room < 8) return null;
  let size = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let headerSize = 8;
  if (size === 1) {
    if (at + 16 > buf.length) return null;
    size = Number(buf.readBigUInt64BE(at + 8));
    headerSize = 16;
  } else if (size === 0) {
    size = room;
  }
  if (size < headerSize || size > room) return null;
  return { type, start: at, headerSize, size };
}

/** The boxes inside [start, end) of `buf`, in order; stops at the first malformed one. */
export function* childBoxes(buf: Buffer, start: number, end: number): Generator<BoxHeader> {
  let at = start;
  while (at + 8 <= end) {
    const h = boxHeader(buf, at, end - at);
    if (!h) return;
    yield h;
    at += h.size;
  }
}

/** The first child of `parent` of this type. */
function child(buf: Buffer, parent: BoxHeader, type: string): BoxHeader | undefined {
  for (const h of childBoxes(buf, parent.start + parent.headerSize, parent.start + parent.size))
    if (h.type === type) return h;
  return undefined;
}

/** A box's payload as its own buffer (a view, not a copy). */
const payload = (buf: Buffer, h: BoxHeader) => buf.subarray(h.start + h.headerSize, h.start + h.size);

export interface Brands {
  major: string;
  compatible: string[];
}

export function parseFtyp(ftyp: Buffer): Brands | null {
  const h = boxHeader(ftyp, 0, ftyp.length);
  if (h?.type !== 'ftyp') return null;
  const p = payload(ftyp, h);
  if (p.length < 8) return null;
  const compatible: string[] = [];
  for (let i = 8; i + 4 <= p.length; i += 4) compatible.push(p.toString('latin1', i, i + 4));
  return { major: p.toString('latin1', 0, 4), compatible };
}

export interface TrackFacts {
  id: number;
  /** mdhd: the track's time units per second and its length in them (0 when the muxer left it out). */
  timescale: number;
  duration: number;
  /** tkhd: the presentation size in pixels. */
  width: number;
  height: number;
  /** From the sample table (stsz) and, for a fragmented file, every fragment. */
  sampleCount: number;
  /** Sum of the samples' durations in the track's units (stts, then the fragments'). */
  samplesDuration: number;
  /** The stsd box, whole (its first entry says the codec). */
  stsd: Buffer | null;
  /** trex: a fragment's sample duration when neither it nor its tfhd says one. */
  defaultSampleDuration: number;
}

export interface MovieFacts {
  timescale: number;
  duration: number;
  fragmented: boolean;
  tracks: TrackFacts[];
}

/** 32-bit, or 64-bit for version 1 boxes; numbers past 2^53 are not durations anyone has. */
const uint = (p: Buffer, at: number, wide: boolean) => (wide ? Number(p.readBigUInt64BE(at)) : p.readUInt32BE(at));

/** What moov says; null when it is malformed (a field past its box's end). */
export function parseMoov(moov: Buffer): MovieFacts | null {
  try {
    const root = boxHeader(moov, 0, moov.length);
    if (root?.type !== 'moov') return null;
    const mvhd = child(moov, root, 'mvhd');
    if (!mvhd) return null;
    const m = payload(moov, mvhd);
    const v1 = m[0] === 1;
    const movie: MovieFacts = {
      timescale: m.readUInt32BE(v1 ? 20 : 12),
      duration: uint(m, v1 ? 24 : 16, v1),
      fragmented: child(moov, root, 'mvex') !== undefined,
      tracks: [],
    };
    const trexDurations = new Map<number, number>();
    const mvex = child(moov, root, 'mvex');
    if (mvex) {
      for (const h of childBoxes(moov, mvex.start + mvex.headerSize, mvex.start + mvex.size)) {
        if (h.type !== 'trex') continue;
        const t = payload(moov, h);
        trexDurations.set(t.readUInt32BE(4), t.readUInt32BE(12));
      }
    }
    for (const h of childBoxes(moov, root.start + root.headerSize, root.start + root.size)) {
      if (h.type !== 'trak') continue;
      const track = parseTrak(moov, h);
      if (!track) return null;
      track.defaultSampleDuration = trexDurations.get(track.id) ?? 0;
      movie.tracks.push(track);
    }
    return movie;
  } catch (err) {
    if (err instanceof RangeError) return null; // a field read past the end of its buffer
    throw err;
  }
}

function parseTrak(buf: Buffer, trak: BoxHeader): TrackFacts | null {
  const tkhdBox = child(buf, trak, 'tkhd');
  const mdia = child(buf, trak, 'mdia');
  const mdhdBox = mdia && child(buf, mdia, 'mdhd');
  if (!tkhdBox || !mdia || !mdhdBox) return null;
  const tkhd = payload(buf, tkhdBox);
  const t1 = tkhd[0] === 1;
  const mdhd = payload(buf, mdhdBox);
  const m1 = mdhd[0] === 1;
  const track: TrackFacts = {
    id: tkhd.readUInt32BE(t1 ? 20 : 12),
    timescale: mdhd.readUInt32BE(m1 ? 20 : 12),
    duration: uint(mdhd, m1 ? 24 : 16, m1),
    // 16.16 fixed point
    width: tkhd.readUInt32BE(t1 ? 88 : 76) / 65536,
    height: tkhd.readUInt32BE(t1 ? 92 : 80) / 65536,
    sampleCount: 0,
    samplesDuration: 0,
    stsd: null,
    defaultSampleDuration: 0,
  };
  const minf = child(buf, mdia, 'minf');
  const stbl = minf && child(buf, minf, 'stbl');
  if (!stbl) return track;
  const stsd = child(buf, stbl, 'stsd');
  if (stsd) track.stsd = buf.subarray(stsd.start, stsd.start + stsd.size);
  const sizes = child(buf, stbl, 'stsz') ?? child(buf, stbl, 'stz2');
  if (sizes) track.sampleCount = payload(buf, sizes).readUInt32BE(8);
  const sttsBox = child(buf, stbl, 'stts');
  if (sttsBox) {
    // (count, delta) pairs: as many as the box holds, whatever its entry count claims.
    const stts = payload(buf, sttsBox);
    const entries = Math.min(stts.readUInt32BE(4), Math.floor((stts.length - 8) / 8));
    for (let i = 0; i < entries; i++)
      track.samplesDuration += stts.readUInt32BE(8 + 8 * i) * stts.readUInt32BE(12 + 8 * i);
  }
  return track;
}

// tfhd and trun flags (ISO/IEC 14496-12, 8.8.7 and 8.8.8)
const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTS = 0x800;

/**
 * Adds a fragment's samples (count and durations) to the tracks they belong to. False when
 * the moof is malformed; the movie is then left as it was before this fragment.
 */
export function addFragment(movie: MovieFacts, moof: Buffer): boolean {
  const root = boxHeader(moof, 0, moof.length);
  if (root?.type !== 'moof') return false;
  const added: Array<[TrackFacts, number, number]> = [];
  try {
    for (const traf of childBoxes(moof, root.headerSize, root.size)) {
      if (traf.type !== 'traf') continue;
      const tfhdBox = child(moof, traf, 'tfhd');
      if (!tfhdBox) return false;
      const tfhd = payload(moof, tfhdBox);
      const flags = tfhd.readUInt32BE(0) & 0xffffff;
      const track = movie.tracks.find((t) => t.id === tfhd.readUInt32BE(4));
      if (!track) continue;
      let at = 8;
      if (flags & TFHD_BASE_DATA_OFFSET) at += 8;
      if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) at += 4;
      const defaultDuration = flags & TFHD_DEFAULT_DURATION ? tfhd.readUInt32BE(at) : track.defaultSampleDuration;
      for (const trunBox of childBoxes(moof, traf.start + traf.headerSize, traf.start + traf.size)) {
        if (trunBox.type !== 'trun') continue;
        const [count, duration] = trunSamples(payload(moof, trunBox), defaultDuration);
        added.push([track, count, duration]);
      }
    }
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
  for (const [track, count, duration] of added) {
    track.sampleCount += count;
    track.samplesDuration += duration;
  }
  return true;
}

/** A trun's sample count and the sum of its samples' durations. */
function trunSamples(trun: Buffer, defaultDuration: number): [number, number] {
  const flags = trun.readUInt32BE(0) & 0xffffff;
  const count = trun.readUInt32BE(4);
  if (!(flags & TRUN_DURATION)) return [count, count * defaultDuration];
  let at = 8;
  if (flags & TRUN_DATA_OFFSET) at += 4;
  if (flags & TRUN_FIRST_SAMPLE_FLAGS) at += 4;
  const stride = 4 * [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS].filter((f) => flags & f).length;
  // The durations the box really holds, whatever its count claims (RangeError past its end).
  if (at + count * stride > trun.length) throw new RangeError('trun: fewer samples than its count');
  let duration = 0;
  for (let i = 0; i < count; i++) duration += trun.readUInt32BE(at + i * stride);
  return [count, duration];
}
