// How long the GPUs were busy over a span, from the utilisation the checks recorded: per
// GPU, its mean utilisation over the span times the span, added over GPUs. It can never
// pass GPUs × span, which is what per-client GPU time is shared out of.
import type { SeriesStore } from './series-store.js';

/**
 * GPU-seconds busy in [fromMs, toMs]: NVML's own sample mean between checks where the GPU
 * reports it, else the utilisation read at each check. Null when no GPU was read then.
 */
export function gpuBusySeconds(store: SeriesStore, fromMs: number, toMs: number): number | null {
  const spanS = (toMs - fromMs) / 1_000;
  let busy = 0;
  let gpus = 0;
  for (const s of store.find('gpu_utilization_percent')) {
    const labels = { gpu: s.labels.gpu ?? '' };
    const sampled = store.ring('gpu_utilization_mean_percent', labels)?.since(fromMs) ?? [];
    const points = sampled.length ? sampled : s.ring.since(fromMs);
    const inSpan = points.filter((p) => p.t <= toMs);
    const first = inSpan[0];
    const last = inSpan.at(-1);
    if (!first || !last) continue;
    const meanPercent = inSpan.reduce((a, p) => a + p.v, 0) / inSpan.length;
    // Only the time the readings cover: a GPU read for one minute of five was busy at most a minute.
    const stepS = inSpan.length > 1 ? (last.t - first.t) / (inSpan.length - 1) / 1_000 : 0;
    const coveredS = Math.min(spanS, (toMs - first.t) / 1_000 + stepS);
    busy += (Math.min(100, Math.max(0, meanPercent)) / 100) * coveredS;
    gpus++;
  }
  return gpus ? busy : null;
}
