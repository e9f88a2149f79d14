// The PromQL that computes a Monitor metric from what /metrics exports: gauges read as
// they are, windowed figures (rates, quantiles, means, shares) over the Monitor's own
// window from the counters and histograms. Pure; the rules export builds on it.
import { metricDef } from '../metrics/catalogue.js';
import { IMAGE_MODULES } from '../metrics/model-stats.js';
import { EXPORTED_READINGS } from '../metrics/prometheus-readings.js';
import { PREFIX, prometheusName } from '../metrics/prometheus-names.js';
import { ALL_MODEL_ENDPOINTS } from '../metrics/service-collector.js';

export interface PromqlContext {
  /** The Monitor's sliding window, as a PromQL range ("1m"). */
  window: string;
  /** What endpoint="*" stands for: the model endpoints' route patterns. */
  modelEndpoints: readonly string[];
  /** Whether /metrics has a route's latency and size histograms (model endpoints, METRICS_HISTOGRAM_ROUTES). */
  histogramEndpoint: (endpoint: string) => boolean;
}

export type MetricQuery =
  | {
      /** The expression, in Prometheus units. */
      expr: string;
      /** Monitor unit → Prometheus unit (a threshold of 90 % is 0.9). */
      scale: number;
      /** Labels the expression's series carry (the node's, NODE, always). */
      labels: string[];
      /** Labels to add to the alert that the expression cannot carry (endpoint="*"). */
      extraLabels: Record<string, string>;
    }
  | { unsupported: string };

/** A lone UTF-16 surrogate: not a character, so not in any UTF-8 file (U+FFFD stands in). */
const LONE_SURROGATE = /\p{Cs}/gu;
/** Text as UTF-8 can carry it. */
export const wellFormedText = (s: string) => s.replace(LONE_SURROGATE, '\uFFFD');
/**
 * A PromQL string literal: JSON's escapes (\" \\ \n \uXXXX…) are Go's, which PromQL reads,
 * so a label value can never end the string and add to the query.
 */
export const promString = (s: string) => JSON.stringify(wellFormedText(s));
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function selector(matchers: Array<[string, '=' | '=~', string]>): string {
  return matchers.length ? `{${matchers.map(([k, op, v]) => `${k}${op}${promString(v)}`).join(',')}}` : '';
}

/** The rule's label matchers, endpoint="*" turned into the model endpoints. */
function matchersOf(labels: Record<string, string>, ctx: PromqlContext): Array<[string, '=' | '=~', string]> {
  return Object.entries(labels).map(([k, v]) =>
    k === 'endpoint' && v === ALL_MODEL_ENDPOINTS ? [k, '=~', ctx.modelEndpoints.map(reEscape).join('|')] : [k, '=', v],
  );
}

/**
 * The node's own labels, kept by every aggregation: the node's alerts carry its `job` and
 * `instance` (docs/SCALE-OUT.md), and an exported rule's alert must carry the same, or
 * Alertmanager holds two alerts for one (a `sum by (instance)` dropped `job`).
 */
const NODE: readonly string[] = ['job', 'instance'];

const rate = (series: string, sel: string, w: string) => `rate(${series}${sel}[${w}])`;
const sumBy = (by: readonly string[], inner: string) => `sum by (${by.join(', ')}) (${inner})`;

/** Mean of a histogram over the window: rate of its sum over rate of its count. */
function histogramMean(name: string, sel: string, by: readonly string[], w: string): string {
  return `${sumBy(by, rate(`${name}_sum`, sel, w))} / ${sumBy(by, rate(`${name}_count`, sel, w))}`;
}

const UNSUPPORTED: Record<string, string> = {
  tokens_per_second:
    'tokens per second is measured per stream from the upstream usage; /metrics has token totals, not generation time',
  upstream_prefix_cache_hit_rate_percent:
    "not re-exported: use the engine's own /metrics (rate(vllm:prefix_cache_hits_total[1m]) / rate(vllm:prefix_cache_queries_total[1m]))",
  upstream_mm_cache_hit_rate_percent:
    "not re-exported: use the engine's own /metrics (vllm:mm_cache_hits_total over vllm:mm_cache_queries_total)",
  upstream_preemptions: "not re-exported: use the engine's own /metrics (increase(vllm:num_preemptions_total[1m]))",
  request_stage_ms:
    'the Monitor\'s breakdown over the same requests; in PromQL, sum(rate(qwen3vl_inference_duration_seconds_sum{stage="…"}[1m])) over sum(rate(qwen3vl_inference_duration_seconds_count{stage="total"}[1m])) comes close',
};

/** The query for `metric` restricted to `labels`, or why there is none. */
export function metricQuery(metric: string, labels: Record<string, string>, ctx: PromqlContext): MetricQuery {
  const def = metricDef(metric);
  if (!def) return { unsupported: `${metric} is not in the catalogue` };
  const why = UNSUPPORTED[metric];
  if (why) return { unsupported: why };
  const w = ctx.window;
  const matchers = matchersOf(labels, ctx);
  const sel = selector(matchers);
  const allModel = labels.endpoint === ALL_MODEL_ENDPOINTS;
  const extraLabels: Record<string, string> = allModel ? { endpoint: ALL_MODEL_ENDPOINTS } : {};

  if (EXPORTED_READINGS.has(metric)) {
    const { name, scale } = prometheusName(metric);
    // A GPU's board labels (uuid, model_name: for joins with DCGM) are not the Monitor's: left
    // out, so the alert carries the label set the node's own alert carries (one group).
    const expr = def.labels.includes('gpu') ? `max without(uuid, model_name) (${name}${sel})` : `${name}${sel}`;
    return { expr, scale, labels: [...NODE, ...def.labels], extraLabels };
  }

  // Service layer: per endpoint (and method), or every model endpoint together.
  const byEndpoint = allModel ? [...NODE] : [...NODE, 'endpoint', 'method'];
  const requests = `${PREFIX}http_requests_total`;
  const duration = `${PREFIX}http_request_duration_seconds`;
  const service = (expr: string, scale: number): MetricQuery => ({ expr, scale, labels: byEndpoint, extraLabels });
  const untimed =
    labels.endpoint !== undefined && !allModel && !ctx.histogramEndpoint(labels.endpoint)
      ? `/metrics has no latency or size histogram for ${labels.endpoint}: add the route to METRICS_HISTOGRAM_ROUTES`
      : undefined;
  const quantile = /^latency_ms_p(\d+)$/.exec(metric);
  if (untimed && (quantile || metric === 'latency_ms_avg' || metric === 'response_bytes'))
    return { unsupported: untimed };
  if (quantile)
    return service(
      `histogram_quantile(0.${quantile[1]}, ${sumBy([...byEndpoint, 'le'], rate(`${duration}_bucket`, sel, w))})`,
      0.001,
    );
  const statusClass = /^http_status_(\dxx)$/.exec(metric)?.[1];
  // A status class not seen yet has no series: count it as 0 where there is traffic.
  const orZero = (expr: string) => `(${expr} or ${sumBy(byEndpoint, rate(requests, sel, w))} * 0)`;
  if (statusClass !== undefined)
    return service(
      orZero(
        sumBy(byEndpoint, `increase(${requests}${selector([...matchers, ['status_class', '=', statusClass]])}[${w}])`),
      ),
      1,
    );
  switch (metric) {
    case 'requests_per_second':
      return service(sumBy(byEndpoint, rate(requests, sel, w)), 1);
    // The tutorial's error rate counts 4xx and 5xx; the 5xx share is the server's failures alone.
    case 'error_rate_percent':
      return service(
        `${orZero(sumBy(byEndpoint, rate(requests, selector([...matchers, ['status_class', '=~', '4xx|5xx']]), w)))} / ${sumBy(byEndpoint, rate(requests, sel, w))}`,
        0.01,
      );
    case 'error_rate_5xx_percent':
      return service(
        `${orZero(sumBy(byEndpoint, rate(requests, selector([...matchers, ['status_class', '=', '5xx']]), w)))} / ${sumBy(byEndpoint, rate(requests, sel, w))}`,
        0.01,
      );
    case 'latency_ms_avg':
      return service(histogramMean(duration, sel, byEndpoint, w), 0.001);
    case 'response_bytes':
      return service(histogramMean(`${PREFIX}http_response_size_bytes`, sel, byEndpoint, w), 1);
    case 'active_connections':
    case 'model_requests_in_flight':
    case 'model_streams_in_flight':
    case 'model_requests_waiting_upstream':
      return { expr: `${PREFIX}${metric}`, scale: 1, labels: [...NODE], extraLabels: {} };
    case 'websocket_active_connections':
      return { expr: `${PREFIX}websocket_active_connections`, scale: 1, labels: [...NODE], extraLabels: {} };
    case 'ttft_ms': // the Monitor's figure is the median over the window
      return {
        expr: `histogram_quantile(0.5, ${sumBy([...NODE, 'le'], rate(`${PREFIX}chat_time_to_first_token_seconds_bucket`, '', w))})`,
        scale: 0.001,
        labels: [...NODE],
        extraLabels: { endpoint: '/v1/chat/completions' },
      };
  }

  // Model layer.
  const model = (expr: string, scale: number, by: string[] = [...NODE]): MetricQuery => ({
    expr,
    scale,
    labels: by,
    extraLabels,
  });
  const stages = `${PREFIX}inference_duration_seconds`;
  const preproc = /^(ocr|gui|video)_preproc_failure_rate$/.exec(metric)?.[1];
  if (preproc !== undefined) {
    return model(
      `${sumBy(
        [...NODE],
        rate(
          `${PREFIX}images_preprocessed_total`,
          selector([
            ['module', '=', preproc],
            ['outcome', '=', 'failed'],
          ]),
          w,
        ),
      )} / ${sumBy(NODE, rate(`${PREFIX}images_preprocessed_total`, selector([['module', '=', preproc]]), w))}`,
      0.01,
    );
  }
  const degraded = /^(ocr|gui|video)_degraded_total$/.exec(metric)?.[1];
  if (degraded !== undefined && (IMAGE_MODULES as readonly string[]).includes(degraded))
    return model(`${PREFIX}images_degraded_total${selector([['module', '=', degraded]])}`, 1);
  switch (metric) {
    case 'inference_duration_ms':
      return model(histogramMean(stages, sel, [...NODE, 'module', 'stage'], w), 0.001, ['instance', 'module', 'stage']);
    case 'ocr_avg_duration':
      return model(
        histogramMean(
          stages,
          selector([
            ['module', '=', 'ocr'],
            ['stage', '=', 'total'],
          ]),
          [...NODE],
          w,
        ),
        0.001,
      );
    case 'model_requests_ended':
      return model(
        sumBy(
          [...NODE, 'module'],
          `increase(${stages}_count${selector([...matchers, ['stage', '=', 'total']])}[${w}])`,
        ),
        1,
        [...NODE, 'module'],
      );
    case 'input_token_count':
      return model(histogramMean(`${PREFIX}input_tokens`, sel, [...NODE, 'module'], w), 1, [...NODE, 'module']);
    case 'ocr_confidence_mean':
      return model(histogramMean(`${PREFIX}ocr_confidence_ratio`, '', NODE, w), 1);
    case 'video_frames_per_second':
      return model(histogramMean(`${PREFIX}video_frames_per_second`, '', NODE, w), 1);
    case 'ocr_error_count': // per minute; 0 on a node that has had no OCR error yet
      return model(
        `(${sumBy(NODE, rate(`${PREFIX}model_errors_total`, selector([['module', '=', 'ocr']]), w))} or ${sumBy(NODE, `${PREFIX}monitor_series`)} * 0) * 60`,
        1,
      );
    case 'model_error_count':
      return model(`${sumBy([...NODE, 'module', 'code'], rate(`${PREFIX}model_errors_total`, sel, w))} * 60`, 1, [
        'instance',
        'module',
        'code',
      ]);
    case 'gui_step_success_rate': {
      // Valid steps less those the client reported failed, over all steps (as the Monitor).
      const increase = (series: string) => sumBy(NODE, `increase(${PREFIX}${series}[${w}])`);
      return model(
        `clamp_min(${increase('gui_steps_total{outcome="valid"}')} - ${increase('gui_step_execution_failures_total')}, 0) / ${increase('gui_steps_total')}`,
        0.01,
      );
    }
    case 'gui_step_avg_duration':
      return model(
        `${sumBy(NODE, rate(`${PREFIX}gui_step_duration_seconds_total`, '', w))} / ${sumBy(NODE, rate(`${PREFIX}gui_steps_total`, '', w))}`,
        0.001,
      );
    case 'module_share_percent': {
      const count = (s: string) => rate(`${stages}_count`, s, w);
      return model(
        `${sumBy([...NODE, 'module'], count(selector([...matchers, ['stage', '=', 'total']])))} / on(${NODE.join(', ')}) group_left ${sumBy(NODE, count(selector([['stage', '=', 'total']])))}`,
        0.01,
        [...NODE, 'module'],
      );
    }
  }
  return { unsupported: `${metric} has no series on /metrics` };
}
