import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFile, MP4BoxBuffer, type Movie } from 'mp4box';
import { afterAll, describe, expect, it } from 'vitest';
import { box, mp4Buffer, mp4Layout } from '../../src/demo/mp4-file.js';
import { MOOV_MAX_BYTES, readVideoFileInfo } from '../../src/pipeline/video-info.js';
import { mp4 } from './videos.js';

const dir = mkdtempSync(join(tmpdir(), 'video-info-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fileOf = (bytes: Buffer) => {
  const path = join(dir, `${n++}.mp4`);
  writeFileSync(path, bytes);
  return path;
};

/** What mp4box says of the whole file in memory: how this was read before. */
function mp4boxWhole(bytes: Buffer) {
  let movie: Movie | undefined;
  const file = createFile();
  file.onReady = (m: Movie) => {
    movie = m;
  };
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(new Uint8Array(bytes).buffer, 0));
  file.flush();
  const t = movie!.videoTracks[0]!;
  const durationSeconds = (t.duration > 0 ? t.duration : t.samples_duration) / t.timescale;
  return {
    durationSeconds,
    width: t.track_width,
    height: t.track_height,
    frameCount: t.nb_samples,
    sourceFps: t.nb_samples / durationSeconds,
    codec: t.codec,
    mime: movie!.mime,
  };
}

describe('reading a video file by its boxes', () => {
  it('says what mp4box said of the whole file: plain (moov last or first) and fragmented', async () => {
    const files = [
      mp4Buffer({ seconds: 7, fps: 25, width: 640, height: 360, payloadBytes: 5_000, moov: 'last' }),
      mp4Buffer({ seconds: 3, fps: 60, width: 320, height: 240, payloadBytes: 5_000, moov: 'first' }),
      mp4(10),
    ];
    for (const bytes of files) {
      const read = await readVideoFileInfo(fileOf(bytes));
      expect(read).toEqual({ info: mp4boxWhole(bytes) });
    }
    expect(await readVideoFileInfo(fileOf(files[2]!))).toMatchObject({
      info: { durationSeconds: 10, frameCount: 300, codec: 'avc1.64001f' },
    });
  });

  it('skips the frames: a file of 3 GiB (a sparse one) is read by its ftyp, mdat header and moov', async () => {
    const shape = { seconds: 60, fps: 30, width: 1920, height: 1080, payloadBytes: 1000, moov: 'last' as const };
    const { before, after } = mp4Layout(shape);
    const mdatBytes = 3 * 2 ** 30;
    // ftyp, then an mdat whose size takes 64 bits, then the moov.
    const ftyp = before.subarray(0, before.readUInt32BE(0));
    const mdatHead = Buffer.alloc(16);
    mdatHead.writeUInt32BE(1, 0);
    mdatHead.write('mdat', 4, 'latin1');
    mdatHead.writeBigUInt64BE(BigInt(mdatBytes), 8);
    const path = fileOf(Buffer.concat([ftyp, mdatHead]));
    truncateSync(path, ftyp.length + mdatBytes);
    appendFileSync(path, after);
    expect(await readVideoFileInfo(path)).toMatchObject({
      info: { durationSeconds: 60, width: 1920, height: 1080, frameCount: 1800, sourceFps: 30 },
    });
  });

  it('names what is wrong with a file that is not a readable MP4', async () => {
    expect(await readVideoFileInfo(fileOf(Buffer.from('\x1aE\xdf\xa3 a WebM file, not an MP4')))).toEqual({
      problem: 'no moov box',
    });
    const hugeMoov = Buffer.alloc(8);
    hugeMoov.writeUInt32BE(MOOV_MAX_BYTES + 8, 0);
    hugeMoov.write('moov', 4, 'latin1');
    const path = fileOf(hugeMoov);
    truncateSync(path, MOOV_MAX_BYTES + 8);
    expect(await readVideoFileInfo(path)).toEqual({
      problem: `its moov box is ${MOOV_MAX_BYTES + 8} bytes; at most ${MOOV_MAX_BYTES} are read`,
    });
    expect(await readVideoFileInfo(fileOf(box('moov', box('free'))))).toEqual({ problem: 'its moov box is malformed' });
  });
});
