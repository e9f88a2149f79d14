// Video fixtures: real MP4 containers written by mp4box, for the tests that read them.
import { createFile } from 'mp4box';

/**
 * A fragmented MP4 as mp4box writes it (moov, then a moof and an mdat per frame): a
 * 1280×720 H.264 track at 30 fps, `seconds` long.
 */
export function mp4(seconds: number): Buffer {
  const f = createFile();
  const id = f.addTrack({
    timescale: 30_000,
    width: 1280,
    height: 720,
    type: 'avc1',
    avcDecoderConfigRecord: new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0, 0]).buffer,
  });
  for (let i = 0; i < seconds * 30; i++)
    f.addSample(id, new Uint8Array(64), { duration: 1_000, is_sync: i % 30 === 0 });
  return Buffer.from(f.getBuffer().buffer as ArrayBuffer);
}
