// The Model Metrics view: per module (ocr, gui, video, chat) its key figures as cards,
// each with its change against normal (MODEL_BASELINE), its age when no request has
// fed it lately, and a 5-minute sparkline; the stage means that add up to the total.
// A pure function of (store, now), answered in one request per refresh.
import { metricDef, type Health, type Thresholds } from './catalogue.js';
import { healthOf } from './catalogue.js';
import type { Labels, SeriesStore } from './series-store.js';
import { changeOf, sparkOf, type Spark, type Trend, type TrendRule } from './snapshot.js';

/**
 * "Normal" for a model figure: the median of the hour before the last minute (a few
 * bad minutes do not move a median), against the mean of the last minute.
 */
export const MODEL_BASELINE: TrendRule = {
  recentMs: 60_000,
  baselineMs: 3_600_000,
  flatPercent: 5,
  baseline: 'median',
};

export type ModelModule = 'ocr' | 'gui' | 'video' | 'chat';
export const MODEL_MODULES: readonly ModelModule[] = ['ocr', 'gui', 'video', 'chat'];
/** The model-layer label of each module (chat is the `vlm` module). */
const LAYER_MODULE: Record<ModelModule, string> = { ocr: 'ocr', gui: 'gui', video: 'video', chat: 'vlm' };

interface Figure {
  metric: string;
  labels?: Labels;
}

/** Each module's figures, the tutorial's names first. */
const FIGURES: Record<ModelModule, Figure[]> = {
  ocr: [
    { metric: 'ocr_avg_duration' },
    { metric: 'ocr_error_count' },
    { metric: 'ocr_confidence_mean' },
    { metric: 'ocr_preproc_failure_rate' },
    { metric: 'input_token_count', labels: { module: 'ocr' } },
  ],
  gui: [
    { metric: 'gui_step_success_rate' },
    { metric: 'gui_step_avg_duration' },
    { metric: 'gui_preproc_failure_rate' },
    { metric: 'input_token_count', labels: { module: 'gui' } },
  ],
  video: [
    { metric: 'video_frames_per_second' },
    { metric: 'inference_duration_ms', labels: { module: 'video', stage: 'total' } },
    { metric: 'video_preproc_failure_rate' },
    { metric: 'input_token_count', labels: { module: 'video' } },
  ],
  chat: [
    { metric: 'inference_duration_ms', labels: { module: 'vlm', stage: 'total' } },
    { metric: 'ttft_ms', labels: { endpoint: '/v1/chat/completions' } },
    { metric: 'tokens_per_second', labels: { endpoint: '/v1/chat/completions' } },
    { metric: 'input_token_count', labels: { module: 'vlm' } },
  ],
};

export interface ModelCard {
  metric: string;
  labels: Labels;
  unit: string;
  help: string;
  /** The newest value, even when stale (then `stale` and `ageMs` say how old). */
  value: number | null;
  status: Health | 'unavailable';
  at: number | null;
  ageMs: number | null;
  /** No point at the last check: no request fed it within its window. */
  stale: boolean;
  trend: Trend | null;
  changePercent: number | null;
  /** The normal value the change is measured against. */
  baseline: number | null;
  thresholds: Thresholds | null;
  spark: Spark;
}

export interface StageMeans {
  preprocess: number | null;
  inference: number | null;
  postprocess: number | null;
  total: number | null;
}

export interface ModuleView {
  module: ModelModule;
  /** The model-layer label (`vlm` for chat). */
  layerModule: string;
  cards: ModelCard[];
  stages: StageMeans;
  /** Model requests not answered, per minute, by error code (the last check). */
  errorsByCode: Record<string, number>;
  sharePercent: number | null;
}

export interface ModelSnapshot {
  at: number;
  windowMs: number;
  baselineRule: TrendRule;
  modules: ModuleView[];
}

interface ModelInput {
  store: SeriesStore;
  now: number;
  intervalMs: number;
  windowMs: number;
}

function card(input: ModelInput, f: Figure): ModelCard {
  const def = metricDef(f.metric);
  const labels = f.labels ?? {};
  const points =
    input.store.ring(f.metric, labels)?.since(input.now - MODEL_BASELINE.recentMs - MODEL_BASELINE.baselineMs) ?? [];
  const last = points.at(-1);
  const base = {
    metric: f.metric,
    labels,
    unit: def?.unit ?? '',
    help: def?.help ?? '',
    thresholds: def?.thresholds ?? null,
    spark: sparkOf(points, input.now),
  };
  if (!last) {
    return {
      ...base,
      value: null,
      status: 'unavailable',
      at: null,
      ageMs: null,
      stale: false,
      trend: null,
      changePercent: null,
      baseline: null,
    };
  }
  const ageMs = input.now - last.t;
  // Half an interval of slack: the point of the check that just ran is fresh.
  const stale = ageMs > input.intervalMs * 1.5;
  const { trend, changePercent, baseline } = stale
    ? { trend: null, changePercent: null, baseline: null }
    : changeOf(points, MODEL_BASELINE);
  return {
    ...base,
    value: last.v,
    status: healthOf(last.v, def?.thresholds),
    at: last.t,
    ageMs,
    stale,
    trend,
    changePercent,
    baseline,
  };
}

function fresh(input: ModelInput, metric: string, labels: Labels): number | null {
  const p = input.store.latest(metric, labels);
  return p && p.t >= input.now - input.intervalMs * 1.5 ? p.v : null;
}

export function buildModelSnapshot(input: ModelInput): ModelSnapshot {
  const modules = MODEL_MODULES.map((module): ModuleView => {
    const layerModule = LAYER_MODULE[module];
    const stage = (s: keyof StageMeans) => fresh(input, 'inference_duration_ms', { module: layerModule, stage: s });
    const errorsByCode: Record<string, number> = {};
    for (const s of input.store.find('model_error_count', { module: layerModule })) {
      const v = fresh(input, 'model_error_count', s.labels);
      if (v && s.labels.code) errorsByCode[s.labels.code] = v;
    }
    return {
      module,
      layerModule,
      cards: FIGURES[module].filter((f) => metricDef(f.metric)).map((f) => card(input, f)),
      stages: {
        preprocess: stage('preprocess'),
        inference: stage('inference'),
        postprocess: stage('postprocess'),
        total: stage('total'),
      },
      errorsByCode,
      sharePercent: fresh(input, 'module_share_percent', { module: layerModule }),
    };
  });
  return { at: input.now, windowMs: input.windowMs, baselineRule: MODEL_BASELINE, modules };
}
