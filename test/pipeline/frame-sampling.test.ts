import { describe, expect, it } from 'vitest';
import { framesForDuration, pickFrames } from '../../src/pipeline/frame-sampling.js';

const qwen = { fps: 2, minFrames: 4, maxFrames: 768 };

describe("Qwen3-VL's video sampling", () => {
  it('takes 2 frames a second, at least 4 and at most 768', () => {
    expect(framesForDuration(10, qwen)).toBe(20);
    expect(framesForDuration(1, qwen)).toBe(4);
    expect(framesForDuration(3600, qwen)).toBe(768);
    expect(framesForDuration(10, qwen, 3)).toBe(3); // a 3-frame clip has only 3
  });
  it('resamples extracted frames to 2 fps, then thins evenly to the cap', () => {
    expect(pickFrames(20, 10, qwen)).toEqual([0, 5, 10, 15]);
    expect(pickFrames(6, 2, qwen)).toEqual([0, 1, 2, 3, 4, 5]);
    const many = pickFrames(2000, 2, qwen);
    expect(many).toHaveLength(768);
    expect(many[0]).toBe(0);
    expect(many.at(-1)).toBeGreaterThan(1990);
    expect(new Set(many).size).toBe(768);
  });
});
