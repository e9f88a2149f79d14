// The Model Metrics view: per module (ocr, gui, video, chat) its key figures as cards,
// each with its lines (the rule's or the default), its change against a calm normal
// (MODEL_BASELINE), its age when no request has fed it lately, and a 5-minute sparkline;
// the stage means over the same requests, adding up to the total. A pure function of
// (store, now, lines, restless minutes), answered in one request per refresh.
import { z } from 'zod';
import { metricDef } from './catalogue.js';
import {
  changeAgainstNormal,
  changeSchema,
  NO_CHANGE,
  spansOf,
  trendRuleSchema,
  type Spans,
  type TrendRule,
} from './change.js';
import { stageBreakdownSchema, type StageBreakdown } from './model-stats.js';
import type { Labels, SeriesStore } from './series-store.js';
import { cardStatusSchema, sparkOf, sparkSchema } from './snapshot.js';
import { healthBy, linesFor, linesSchema, type LinesOf } from './thresholds.js';

/**
 * "Normal" for a model figure: the median of the calm minutes of the hour before the last
 * minute (a median is not moved by a few bad minutes; alerted minutes are not calm).
 */
export const MODEL_BASELINE: TrendRule = {
  recentMs: 60_000,
  baselineMs: 3_600_000,
  flatPercent: 5,
  baseline: 'median',
  minCalmMinutes: 3,
};

export const modelModuleSchema = z.enum(['ocr', 'gui', 'video', 'chat']);
export type ModelModule = z.infer<typeof modelModuleSchema>;
export const MODEL_MODULES: readonly ModelModule[] = modelModuleSchema.options;
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

export const modelCardSchema = z.object({
  metric: z.string(),
  labels: z.record(z.string(), z.string()),
  unit: z.string(),
  help: z.string(),
  value: z.number().nullable().describe('The newest value, even when stale (then `stale` and `ageMs` say how old)'),
  status: cardStatusSchema,
  at: z.number().nullable(),
  ageMs: z.number().nullable(),
  stale: z.boolean().describe('No point at the last check: no request fed it within its window'),
  ...changeSchema.shape,
  changePercent: z.number().nullable().describe('Signed percent change of the value shown against the normal shown'),
  baseline: z.number().nullable().describe('The calm normal the change is measured against'),
  lines: linesSchema
    .nullable()
    .describe('Its warning and critical lines, each with the rule that set it (null: the default)'),
  spark: sparkSchema,
});
export type ModelCard = z.infer<typeof modelCardSchema>;

export const moduleViewSchema = z.object({
  module: modelModuleSchema,
  layerModule: z.string().describe('The model-layer label (`vlm` for chat)'),
  cards: z.array(modelCardSchema),
  stages: stageBreakdownSchema
    .nullable()
    .describe('Stage means over the requests that ended in the window (they add up); null: none did'),
  errorsByCode: z
    .record(z.string(), z.number())
    .describe('Model requests not answered, per minute, by error code (the last check)'),
  sharePercent: z.number().nullable(),
});
export type ModuleView = z.infer<typeof moduleViewSchema>;

/** The Model Metrics view: per-module cards and stage means. */
export const modelSnapshotSchema = z.object({
  at: z.number(),
  windowMs: z.number(),
  baselineRule: trendRuleSchema,
  modules: z.array(moduleViewSchema),
});
export type ModelSnapshot = z.infer<typeof modelSnapshotSchema>;

interface ModelInput {
  store: SeriesStore;
  now: number;
  intervalMs: number;
  windowMs: number;
  /** Each series' lines (rules and defaults); the catalogue's defaults alone when absent. */
  lines?: LinesOf;
  /** When an alert watching each metric was pending or firing, over the last hour. */
  unrest?: ReadonlyMap<string, Spans> | undefined;
}

/**
 * Alerts on any figure of a module make its minutes restless for all of its cards: an OCR
 * alert on confidence marks an incident for the OCR duration too.
 */
function familyOf(module: ModelModule): string[] {
  return [
    ...new Set([
      ...FIGURES[module].map((f) => f.metric),
      'inference_duration_ms',
      'request_stage_ms',
      'model_error_count',
    ]),
  ];
}

function card(input: ModelInput, module: ModelModule, f: Figure): ModelCard {
  const def = metricDef(f.metric);
  const labels = f.labels ?? {};
  const points =
    input.store.ring(f.metric, labels)?.since(input.now - MODEL_BASELINE.recentMs - MODEL_BASELINE.baselineMs) ?? [];
  const last = points.at(-1);
  const lines = input.lines ? input.lines(f.metric, labels) : linesFor(f.metric, labels, []);
  const base = {
    metric: f.metric,
    labels,
    unit: def?.unit ?? '',
    help: def?.help ?? '',
    lines,
    spark: sparkOf(points, input.now),
  };
  if (!last) return { ...base, value: null, status: 'unavailable', at: null, ageMs: null, stale: false, ...NO_CHANGE };
  const ageMs = input.now - last.t;
  // Half an interval of slack: the point of the check that just ran is fresh.
  const stale = ageMs > input.intervalMs * 1.5;
  const change = stale
    ? NO_CHANGE
    : changeAgainstNormal({
        points,
        unit: base.unit,
        rule: MODEL_BASELINE,
        unrest: spansOf(input.unrest, familyOf(module)),
        lines,
        historyStart: input.store.historyStart,
      });
  return { ...base, value: last.v, status: healthBy(last.v, lines), at: last.t, ageMs, stale, ...change };
}

function fresh(input: ModelInput, metric: string, labels: Labels): number | null {
  const p = input.store.latest(metric, labels);
  return p && p.t >= input.now - input.intervalMs * 1.5 ? p.v : null;
}

/** The stage means over the same requests at the last check; null when none ended in the window. */
function stagesOf(input: ModelInput, module: string): StageBreakdown | null {
  const stage = (s: string) => fresh(input, 'request_stage_ms', { module, stage: s });
  const total = stage('total');
  const requests = fresh(input, 'model_requests_ended', { module });
  if (total === null || !requests) return null;
  return {
    requests,
    preprocess: stage('preprocess') ?? 0,
    inference: stage('inference') ?? 0,
    postprocess: stage('postprocess') ?? 0,
    other: stage('other') ?? 0,
    total,
  };
}

export function buildModelSnapshot(input: ModelInput): ModelSnapshot {
  const modules = MODEL_MODULES.map((module): ModuleView => {
    const layerModule = LAYER_MODULE[module];
    const errorsByCode: Record<string, number> = {};
    for (const s of input.store.find('model_error_count', { module: layerModule })) {
      const v = fresh(input, 'model_error_count', s.labels);
      if (v && s.labels.code) errorsByCode[s.labels.code] = v;
    }
    return {
      module,
      layerModule,
      cards: FIGURES[module].filter((f) => metricDef(f.metric)).map((f) => card(input, module, f)),
      stages: stagesOf(input, layerModule),
      errorsByCode,
      sharePercent: fresh(input, 'module_share_percent', { module: layerModule }),
    };
  });
  return { at: input.now, windowMs: input.windowMs, baselineRule: MODEL_BASELINE, modules };
}
