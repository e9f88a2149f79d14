// What a video is (MP4, MOV, M4V: ISO BMFF): duration, size, frame count, frame rate,
// codec. Read from its file without loading it: the top-level boxes are walked by their
// headers, and only ftyp, moov and (fragmented files) each moof are read and parsed
// (iso-bmff.ts); mdat, the frames themselves, is skipped. mp4box parses one box only, the
// first sample description, for the codec string. No decoding; other containers say so.
import { open, type FileHandle } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ISOFile, MP4BoxBuffer, MultiBufferStream, VisualSampleEntry, type SampleEntry } from 'mp4box';
import { addFragment, boxHeader, parseFtyp, parseMoov, type Brands, type MovieFacts } from './iso-bmff.js';

export interface VideoInfo {
  durationSeconds: number;
  width: number;
  height: number;
  frameCount: number;
  sourceFps: number;
  codec: string;
  mime: string;
}

/**
 * Budgets of the walk, so that no file makes it slow or big. A moov holds the sample
 * tables: a 3-hour, 60 fps video's is about 11 MiB. A moof (one fragment) is kilobytes.
 * Real files have a handful of top-level boxes, fragmented ones two per fragment (a
 * fragment per frame of an hour at 60 fps is 432 000).
 */
export const MOOV_MAX_BYTES = 32 * 1024 * 1024;
const FTYP_MAX_BYTES = 4096;
const MOOF_MAX_BYTES = 4 * 1024 * 1024;
const MAX_TOP_LEVEL_BOXES = 1_000_000;
/** Box headers parsed between two turns of the event loop. */
const BOXES_PER_TURN = 2048;
const WINDOW_BYTES = 1024 * 1024;

export type VideoInfoResult = { info: VideoInfo } | { problem: string };

/** Reads the container of the file at `path`; a problem names what is wrong with it. */
export async function readVideoFileInfo(path: string): Promise<VideoInfoResult> {
  const file = await open(path, 'r');
  try {
    const window = new ReadWindow(file, (await file.stat()).size);
    return await walk(window);
  } finally {
    await file.close();
  }
}

async function walk(file: ReadWindow): Promise<VideoInfoResult> {
  let brands: Brands | null = null;
  let movie: MovieFacts | null = null;
  let at = 0;
  for (let boxes = 1; at + 8 <= file.size; boxes++) {
    if (boxes > MAX_TOP_LEVEL_BOXES) return { problem: `more than ${MAX_TOP_LEVEL_BOXES} top-level boxes` };
    if (boxes % BOXES_PER_TURN === 0) await nextTurn();
    const h = boxHeader(await file.bytes(at, 16), 0, file.size - at);
    if (!h) break; // trailing garbage or a cut-off file: what was read so far decides
    const room = (max: number, what: string) =>
      h.size > max ? `its ${what} box is ${h.size} bytes; at most ${max} are read` : null;
    if (h.type === 'ftyp' && !brands) {
      const tooBig = room(FTYP_MAX_BYTES, 'ftyp');
      if (tooBig) return { problem: tooBig };
      brands = parseFtyp(await file.bytes(at, h.size));
    } else if (h.type === 'moov' && !movie) {
      const tooBig = room(MOOV_MAX_BYTES, 'moov');
      if (tooBig) return { problem: tooBig };
      movie = parseMoov(await file.bytes(at, h.size));
      if (!movie) return { problem: 'its moov box is malformed' };
    } else if (h.type === 'moof' && movie?.fragmented) {
      const tooBig = room(MOOF_MAX_BYTES, 'moof');
      if (tooBig) return { problem: tooBig };
      if (!addFragment(movie, await file.bytes(at, h.size)))
        return { problem: `its fragment at byte ${at} is malformed` };
    }
    // A plain file is known once ftyp and moov are read; a fragmented one after its last moof.
    if (brands && movie && !movie.fragmented) break;
    at += h.size;
  }
  if (!movie) return { problem: 'no moov box' };
  return describe(movie, brands);
}

/** The VideoInfo of the first video track, in the words mp4box used for the same file. */
export function describe(movie: MovieFacts, brands: Brands | null): VideoInfoResult {
  const codecs: string[] = [];
  let video: { track: MovieFacts['tracks'][number]; codec: string } | null = null;
  for (const track of movie.tracks) {
    const entry = track.stsd ? firstSampleEntry(track.stsd) : null;
    const codec = entry?.getCodec() ?? '';
    codecs.push(codec);
    if (!video && entry instanceof VisualSampleEntry) video = { track, codec };
  }
  if (!video) return { problem: 'no video track' };
  const { track } = video;
  // Some muxers leave the header duration at 0; the sample table always adds up.
  const trackUnits = track.duration > 0 ? track.duration : track.samplesDuration;
  const trackSeconds = track.timescale > 0 ? trackUnits / track.timescale : 0;
  const durationSeconds = trackSeconds > 0 ? trackSeconds : movie.timescale > 0 ? movie.duration / movie.timescale : 0;
  return {
    info: {
      durationSeconds,
      width: track.width,
      height: track.height,
      frameCount: track.sampleCount,
      sourceFps: durationSeconds > 0 ? track.sampleCount / durationSeconds : 0,
      codec: video.codec,
      mime: `video/mp4; codecs="${codecs.join(',')}"; profiles="${(brands?.compatible ?? []).join(',')}"`,
    },
  };
}

/** The first entry of an stsd box, parsed by mp4box (which knows every codec's string). */
function firstSampleEntry(stsd: Buffer): SampleEntry | null {
  const ab = new ArrayBuffer(stsd.length);
  new Uint8Array(ab).set(stsd);
  const iso = new ISOFile(new MultiBufferStream(MP4BoxBuffer.fromArrayBuffer(ab, 0)));
  try {
    iso.parse();
  } catch {
    return null;
  }
  return iso.getBox('stsd')?.entries[0] ?? null;
}

/** Reads from a file through a 1 MiB window, so that walking small boxes is not a read each. */
class ReadWindow {
  private start = 0;
  private data = Buffer.alloc(0);
  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  /** `length` bytes from `at` (fewer at the end of the file). */
  async bytes(at: number, length: number): Promise<Buffer> {
    const end = Math.min(at + length, this.size);
    if (at >= this.start && end <= this.start + this.data.length)
      return this.data.subarray(at - this.start, end - this.start);
    const want = Math.max(end - at, Math.min(WINDOW_BYTES, this.size - at));
    const buf = Buffer.alloc(want);
    const { bytesRead } = await this.file.read(buf, 0, want, at);
    if (want > WINDOW_BYTES) return buf.subarray(0, Math.min(bytesRead, end - at)); // a big box: not kept
    this.start = at;
    this.data = buf.subarray(0, bytesRead);
    return this.data.subarray(0, Math.min(bytesRead, end - at));
  }
}
