// Once per check: model-layer windows become series points. Stage durations are means
// (means add up; medians would not): per stage over the requests that ran it
// (inference_duration_ms), and over the same requests, so that they add up exactly
// (request_stage_ms, with model_requests_ended saying how many).
import type { SeriesStore } from './series-store.js';
import { IMAGE_MODULES, MODULES, perModule, STAGES, type ModelStats } from './model-stats.js';

export function collectModelSeries(stats: ModelStats, store: SeriesStore, windowMs: number, now: number): void {
  // Each module's share of the model requests ended in the window: counted from the stage
  // bar's own requests, so the share and the "N requests" under it are one count (a share
  // from per-minute buckets covered 2 s after each full minute: GUI 0 % over 9 requests).
  const ended = perModule(() => 0);
  for (const module of MODULES) {
    for (const stage of STAGES) {
      const s = stats.stages.get(`${module}:${stage}`)?.summarize(windowMs, now);
      if (s && s.mean !== null) store.record('inference_duration_ms', { module, stage }, now, s.mean);
    }
    const breakdown = stats.requestStages.get(module)?.summarize(windowMs, now);
    ended[module] = breakdown?.requests ?? 0;
    store.record('model_requests_ended', { module }, now, ended[module]);
    if (breakdown) {
      for (const stage of ['preprocess', 'inference', 'postprocess', 'other', 'total'] as const)
        store.record('request_stage_ms', { module, stage }, now, breakdown[stage]);
    }
    const tokens = stats.inputTokens[module].summarize(windowMs, now);
    if (tokens.mean !== null) store.record('input_token_count', { module }, now, tokens.mean);
  }

  const all = MODULES.reduce((n, m) => n + ended[m], 0);
  if (all > 0)
    for (const m of MODULES) store.record('module_share_percent', { module: m }, now, (ended[m] / all) * 100);

  const ocrTotal = stats.stages.get('ocr:total')?.summarize(windowMs, now);
  if (ocrTotal && ocrTotal.mean !== null) store.record('ocr_avg_duration', {}, now, ocrTotal.mean);
  for (const module of IMAGE_MODULES) {
    const pre = stats.preprocess[module].summarize(windowMs, now);
    if (pre.count > 0) store.record(`${module}_preproc_failure_rate`, {}, now, (pre.status5xx / pre.count) * 100);
    store.record(`${module}_degraded_total`, {}, now, stats.degradedTotal[module]);
  }
  // Failures by code, per minute; a code seen once keeps its series (at 0) while it is quiet.
  for (const [key, w] of stats.failures) {
    const [module, code] = key.split(':') as [string, string];
    const s = w.summarize(windowMs, now);
    store.record('model_error_count', { module, code }, now, s.count / (s.coveredMs / 60_000));
  }

  const conf = stats.ocrConfidence.summarize(windowMs, now);
  if (conf.mean !== null) store.record('ocr_confidence_mean', {}, now, conf.mean);
  const ocr = stats.ocrOutcomes.summarize(windowMs, now);
  store.record('ocr_error_count', {}, now, ocr.status5xx / (ocr.coveredMs / 60_000));

  const gui = stats.guiSteps.summarize(windowMs, now);
  if (gui.count > 0) {
    const failedExecutions = stats.guiExecutionFailures.summarize(windowMs, now).count;
    const succeeded = Math.max(0, gui.status2xx - failedExecutions);
    store.record('gui_step_success_rate', {}, now, (succeeded / gui.count) * 100);
    if (gui.mean !== null) store.record('gui_step_avg_duration', {}, now, gui.mean);
  }
  const video = stats.videoFps.summarize(windowMs, now);
  if (video.mean !== null) store.record('video_frames_per_second', {}, now, video.mean);
}
