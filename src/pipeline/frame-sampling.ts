// Qwen3-VL's video sampling: frames at a fixed rate (2 per second by default), at least
// minFrames and at most maxFrames. Pure functions, so the rule is tested on its own.

export interface VideoSampling {
  fps: number;
  minFrames: number;
  maxFrames: number;
}

/** Frames the model should see from a video of this length. */
export function framesForDuration(durationSeconds: number, s: VideoSampling, available = Infinity): number {
  const wanted = Math.round(durationSeconds * s.fps);
  return Math.max(Math.min(s.minFrames, available), Math.min(Math.max(wanted, s.minFrames), s.maxFrames, available));
}

/**
 * Which of `count` frames, extracted at `sourceFps`, to keep: resampled to s.fps, then
 * thinned evenly to at most s.maxFrames. Returns the kept indices, in order.
 */
export function pickFrames(count: number, sourceFps: number, s: VideoSampling): number[] {
  const step = sourceFps > s.fps ? sourceFps / s.fps : 1;
  let kept: number[] = [];
  for (let x = 0; Math.round(x) < count; x += step) kept.push(Math.round(x));
  if (kept.length > s.maxFrames) {
    const thinned: number[] = [];
    for (let i = 0; i < s.maxFrames; i++) {
      const frame = kept[Math.floor((i * kept.length) / s.maxFrames)];
      if (frame !== undefined) thinned.push(frame);
    }
    kept = thinned;
  }
  return kept;
}
