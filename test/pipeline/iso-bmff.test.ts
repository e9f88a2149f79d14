import { describe, expect, it } from 'vitest';
import { box, fullBox, mp4Buffer } from '../../src/demo/mp4-file.js';
import { addFragment, boxHeader, childBoxes, parseFtyp, parseMoov } from '../../src/pipeline/iso-bmff.js';

const u32 = (...values: number[]) => Buffer.concat(values.map((v) => Buffer.from([v >>> 24, v >>> 16, v >>> 8, v])));

/** The moov of a file made by mp4-file.ts. */
function moovOf(file: Buffer): Buffer {
  for (const h of childBoxes(file, 0, file.length))
    if (h.type === 'moov') return file.subarray(h.start, h.start + h.size);
  throw new Error('no moov');
}

const shape = { seconds: 4, fps: 25, width: 640, height: 360, payloadBytes: 4000, moov: 'last' as const };

describe('ISO BMFF boxes', () => {
  it('reads 32-bit, 64-bit and to-the-end sizes, and refuses sizes that cannot be', () => {
    const small = box('free', Buffer.alloc(4));
    expect(boxHeader(small, 0, small.length)).toEqual({ type: 'free', start: 0, headerSize: 8, size: 12 });
    const large = Buffer.concat([u32(1), Buffer.from('mdat'), u32(1, 0)]); // 4 GiB, declared in 64 bits
    expect(boxHeader(large, 0, 2 ** 33)).toMatchObject({ type: 'mdat', headerSize: 16, size: 2 ** 32 });
    const toEnd = Buffer.concat([u32(0), Buffer.from('mdat')]);
    expect(boxHeader(toEnd, 0, 5000)).toMatchObject({ size: 5000 });
    expect(boxHeader(Buffer.concat([u32(4), Buffer.from('free')]), 0, 100)).toBeNull(); // smaller than its header
    expect(boxHeader(small, 0, 10)).toBeNull(); // larger than its parent
    expect(boxHeader(small.subarray(0, 6), 0, 100)).toBeNull(); // cut off
  });

  it('reads the brands, tracks, durations and sample counts of a plain file, whichever end its moov is at', () => {
    for (const moov of ['last', 'first'] as const) {
      const file = mp4Buffer({ ...shape, moov });
      expect(parseFtyp(file.subarray(0, 32))).toEqual({ major: 'isom', compatible: ['isom', 'iso2', 'avc1', 'mp41'] });
      const movie = parseMoov(moovOf(file))!;
      expect(movie).toMatchObject({ timescale: 1000, duration: 4000, fragmented: false });
      expect(movie.tracks).toHaveLength(1);
      expect(movie.tracks[0]).toMatchObject({
        id: 1,
        timescale: 25_000,
        duration: 100_000,
        width: 640,
        height: 360,
        sampleCount: 100,
        samplesDuration: 100_000,
      });
      expect(movie.tracks[0]!.stsd!.toString('latin1', 4, 8)).toBe('stsd');
    }
  });

  it('says null for a moov cut short or missing its header, never throws', () => {
    const moov = moovOf(mp4Buffer(shape));
    const cut = Buffer.from(moov.subarray(0, 60));
    cut.writeUInt32BE(60, 0);
    expect(parseMoov(cut)).toBeNull();
    expect(parseMoov(box('moov', box('free')))).toBeNull();
    expect(parseMoov(Buffer.from('not a box at all'))).toBeNull();
  });

  it("adds each fragment's samples to its track: durations from the trun, the tfhd or the trex", () => {
    const trex = fullBox('trex', 0, 0, u32(1, 1, 40, 0, 0)); // default duration 40
    const base = moovOf(mp4Buffer(shape));
    const movie = parseMoov(box('moov', base.subarray(8), box('mvex', trex)))!;
    expect(movie.fragmented).toBe(true);
    const before = { ...movie.tracks[0]! };
    // trun with per-sample durations (0x100) and sizes (0x200): 3 samples of 10, 20, 30.
    const perSample = box(
      'moof',
      box('traf', fullBox('tfhd', 0, 0, u32(1)), fullBox('trun', 0, 0x301, u32(3, 0, 10, 1, 20, 1, 30, 1))),
    );
    expect(addFragment(movie, perSample)).toBe(true);
    // tfhd default duration (0x08): 5 samples of 7.
    const tfhdDefault = box('moof', box('traf', fullBox('tfhd', 0, 0x08, u32(1, 7)), fullBox('trun', 0, 0, u32(5))));
    expect(addFragment(movie, tfhdDefault)).toBe(true);
    // Neither: the trex's 40, for 2 samples.
    const trexDefault = box('moof', box('traf', fullBox('tfhd', 0, 0, u32(1)), fullBox('trun', 0, 0, u32(2))));
    expect(addFragment(movie, trexDefault)).toBe(true);
    expect(movie.tracks[0]!.sampleCount).toBe(before.sampleCount + 3 + 5 + 2);
    expect(movie.tracks[0]!.samplesDuration).toBe(before.samplesDuration + 60 + 35 + 80);
  });

  it('refuses a fragment whose trun claims more samples than it holds, and leaves the movie as it was', () => {
    const movie = parseMoov(moovOf(mp4Buffer(shape)))!;
    const before = { ...movie.tracks[0]! };
    const lying = box(
      'moof',
      box('traf', fullBox('tfhd', 0, 0, u32(1)), fullBox('trun', 0, 0x100, u32(1_000_000, 10, 20))),
    );
    expect(addFragment(movie, lying)).toBe(false);
    expect(movie.tracks[0]).toEqual(before);
  });
});
