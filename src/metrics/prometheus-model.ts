// The model layer on /metrics: stage durations, input tokens, OCR confidence and video
// speed as histograms; GUI step outcomes, video frames, preprocessed and degraded images
// and errors by code as counters. Read at scrape time from ModelTotals (running totals
// since start); the Monitor's windowed figures are these over its window (the table in
// docs/PROMETHEUS.md gives the PromQL for each).
import client from 'prom-client';
import { IMAGE_MODULES, MODULES, STAGES, type ModuleName, type Stage } from './model-stats.js';
import type { ModelTotals } from './model-totals.js';
import { PREFIX } from './prometheus-names.js';
import { histogramMetric, type HistogramMetric } from './prometheus-histogram.js';
import type { CumulativeHistogram } from './service-stats.js';

type Labelled = [Record<string, string>, CumulativeHistogram];

/** Registers the model layer's counters; returns its histograms, read at each scrape. */
export function registerModelMetrics(
  registry: client.Registry,
  totals: ModelTotals<ModuleName, Stage>,
): Array<() => HistogramMetric> {
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    collect: (inc: (labels: Record<string, string>, n: number) => void) => void,
  ) =>
    new client.Counter({
      name: PREFIX + name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        collect((labels, n) => this.inc(labels, n));
      },
    });

  counter(
    'gui_steps_total',
    'GUI steps by outcome: valid (an action in bounds, in time) or invalid. (Monitor: gui_step_success_rate)',
    ['outcome'],
    (inc) => {
      inc({ outcome: 'valid' }, totals.guiSteps.valid);
      inc({ outcome: 'invalid' }, totals.guiSteps.invalid);
    },
  );
  counter(
    'gui_step_execution_failures_total',
    'Valid GUI steps whose execution the client reported as failed (POST /api/gui/feedback).',
    [],
    (inc) => inc({}, totals.guiSteps.executionFailed),
  );
  counter(
    'gui_step_duration_seconds_total',
    'Time spent in GUI steps; over gui_steps_total it is the mean step duration. (Monitor: gui_step_avg_duration)',
    [],
    (inc) => inc({}, totals.guiSteps.seconds),
  );
  counter('video_frames_total', 'Video frames given to the model.', [], (inc) => inc({}, totals.videoFrames));
  counter(
    'images_preprocessed_total',
    'Images (video: frames) fetched and prepared for the model, by module and outcome (ok, failed). (Monitor: <module>_preproc_failure_rate)',
    ['module', 'outcome'],
    (inc) => {
      for (const m of IMAGE_MODULES) {
        inc({ module: m, outcome: 'ok' }, totals.images[m].ok);
        inc({ module: m, outcome: 'failed' }, totals.images[m].failed);
      }
    },
  );
  counter(
    'images_degraded_total',
    'Images sent through the degraded path (IMAGE_ON_PREPROC_FAILURE=degrade), by module. (Monitor: <module>_degraded_total)',
    ['module'],
    (inc) => {
      for (const m of IMAGE_MODULES) inc({ module: m }, totals.images[m].degraded);
    },
  );
  counter(
    'model_errors_total',
    'Model requests not answered, by module and error code; each module with the usual codes from the start, at 0. (Monitor: model_error_count, ocr_error_count)',
    ['module', 'code'],
    (inc) => {
      for (const m of MODULES) for (const [code, slot] of totals.errors[m]) inc({ module: m, code }, slot.n);
    },
  );

  return [
    histogramMetric(
      `${PREFIX}inference_duration_seconds`,
      'Duration of a pipeline stage (preprocess, inference, postprocess, total), by module. (Monitor: inference_duration_ms)',
      function* () {
        for (const module of MODULES)
          for (const stage of STAGES) yield [{ module, stage }, totals.stageSeconds[module][stage]] satisfies Labelled;
      },
    ),
    histogramMetric(
      `${PREFIX}input_tokens`,
      'Input tokens of a request (from the upstream usage, else estimated), by module. (Monitor: input_token_count)',
      function* () {
        for (const module of MODULES) yield [{ module }, totals.inputTokens[module]] satisfies Labelled;
      },
    ),
    histogramMetric(
      `${PREFIX}ocr_confidence_ratio`,
      'Mean token probability of an OCR answer, 0–1 (upstreams that return logprobs). (Monitor: ocr_confidence_mean)',
      () => [[{}, totals.ocrConfidence]],
    ),
    histogramMetric(
      `${PREFIX}video_frames_per_second`,
      'Video frames understood per second of inference, per request. (Monitor: video_frames_per_second)',
      () => [[{}, totals.videoFramesPerSecond]],
    ),
  ];
}
