// What a video is, read from its container with mp4box (MP4, MOV, M4V: ISO BMFF):
// duration, size, frame count, frame rate. No decoding; other containers say so.
import { createFile, MP4BoxBuffer, type Movie } from 'mp4box';

export interface VideoInfo {
  durationSeconds: number;
  width: number;
  height: number;
  frameCount: number;
  sourceFps: number;
  codec: string;
  mime: string;
}

/** Parses the container; null when the bytes are not an ISO BMFF file with a video track. */
export function readVideoInfo(bytes: Buffer): VideoInfo | null {
  let movie: Movie | undefined;
  let failed = false;
  const file = createFile();
  file.onReady = (info: Movie) => {
    movie = info;
  };
  file.onError = () => {
    failed = true;
  };
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, 0));
    file.flush();
  } catch {
    return null;
  }
  if (failed || !movie || !movie.hasMoov) return null;
  const track = movie.videoTracks[0];
  if (!track) return null;
  // Some muxers leave the header duration at 0; the sample table always adds up.
  const trackUnits = track.duration > 0 ? track.duration : track.samples_duration;
  const trackSeconds = track.timescale > 0 ? trackUnits / track.timescale : 0;
  const durationSeconds = trackSeconds > 0 ? trackSeconds : movie.timescale > 0 ? movie.duration / movie.timescale : 0;
  return {
    durationSeconds,
    width: track.track_width,
    height: track.track_height,
    frameCount: track.nb_samples,
    sourceFps: durationSeconds > 0 ? track.nb_samples / durationSeconds : 0,
    codec: track.codec,
    mime: movie.mime,
  };
}
