// The metric catalogue: every name a user can chart or write a rule on, with its unit,
// help text, labels and the default health thresholds the Monitor's cards colour by.
// Names match the tutorial users already have (docs/PROMETHEUS.md lists them as exported).

import { pastLine } from '../value-range.js';

/** The three layers, in the order the UI groups metrics. */
export const LAYERS = ['resource', 'service', 'model'] as const;
export type Layer = (typeof LAYERS)[number];

/** How a value compares with a line: '>=' puts a value that reaches the line past it, '>' only one beyond it. */
export type Comparison = '>' | '>=' | '<' | '<=';

/**
 * A metric's default health lines: the tutorial's where it gives one. A line may be absent
 * (null): OCR confidence has a warning line (the log's WARN) and no critical one. The
 * Monitor's cards use these unless an enabled alert rule watching the metric sets a line
 * (thresholds.ts): one number per line, wherever it is shown.
 */
export interface Thresholds {
  /** 'above': higher is worse (latency); 'below': lower is worse (success rate). */
  direction: 'above' | 'below';
  warn: number | null;
  crit: number | null;
  warnOp: Comparison;
  critOp: Comparison;
}

export interface MetricDef {
  name: string;
  layer: Layer;
  unit: string;
  help: string;
  labels: readonly string[];
  thresholds?: Thresholds;
}

/** Higher is worse; a value that reaches a line is past it unless the op says '>'. */
const above = (
  warn: number | null,
  crit: number | null,
  warnOp: '>' | '>=' = '>=',
  critOp: '>' | '>=' = '>=',
): Thresholds => ({
  direction: 'above',
  warn,
  crit,
  warnOp,
  critOp,
});
const below = (
  warn: number | null,
  crit: number | null,
  warnOp: '<' | '<=' = '<=',
  critOp: '<' | '<=' = '<=',
): Thresholds => ({
  direction: 'below',
  warn,
  crit,
  warnOp,
  critOp,
});

const defs: MetricDef[] = [
  // Resource layer (probes; label gpu = NVML index, or <host>/<index> from a DCGM exporter)
  {
    name: 'gpu_available',
    layer: 'resource',
    unit: 'bool',
    labels: ['gpu'],
    help: "1 when the GPU answers NVML (or is on its host's DCGM exporter page), 0 when it is lost or its host stops answering.",
  },
  {
    name: 'gpu_memory_used_mib',
    layer: 'resource',
    unit: 'MiB',
    labels: ['gpu'],
    help: 'GPU memory in use, as nvidia-smi shows it.',
  },
  { name: 'gpu_memory_total_mib', layer: 'resource', unit: 'MiB', labels: ['gpu'], help: 'Total GPU memory.' },
  {
    name: 'gpu_memory_utilization_percent',
    layer: 'resource',
    unit: '%',
    labels: ['gpu'],
    help: 'GPU memory used as a share of total.',
    // The tutorial: below 85 % is stable, 85–92 % a warning, above 92 % critical.
    thresholds: above(85, 92, '>=', '>'),
  },
  {
    name: 'gpu_utilization_percent',
    layer: 'resource',
    unit: '%',
    labels: ['gpu'],
    help: 'Share of time a kernel ran on the GPU during the last sample period.',
    thresholds: above(90, 98),
  },
  {
    name: 'gpu_utilization_peak_percent',
    layer: 'resource',
    unit: '%',
    labels: ['gpu'],
    help: "Highest of NVML's own utilisation samples since the previous check.",
  },
  {
    name: 'gpu_utilization_mean_percent',
    layer: 'resource',
    unit: '%',
    labels: ['gpu'],
    help: "Mean of NVML's own utilisation samples since the previous check.",
  },
  {
    name: 'gpu_temperature_celsius',
    layer: 'resource',
    unit: '°C',
    labels: ['gpu'],
    help: 'GPU core temperature.',
    thresholds: above(80, 90),
  },
  { name: 'gpu_power_watts', layer: 'resource', unit: 'W', labels: ['gpu'], help: 'GPU power draw.' },
  { name: 'gpu_power_limit_watts', layer: 'resource', unit: 'W', labels: ['gpu'], help: 'Enforced GPU power limit.' },
  {
    name: 'gpu_utilization_high_seconds',
    layer: 'resource',
    unit: 's',
    labels: ['gpu'],
    help: "Seconds since the previous check that NVML's own samples spent at or above 95 % utilisation.",
  },
  {
    name: 'gpu_memory_bandwidth_utilization_percent',
    layer: 'resource',
    unit: '%',
    labels: ['gpu'],
    help: 'Share of time GPU memory was being read or written during the last sample period.',
  },
  { name: 'gpu_sm_clock_mhz', layer: 'resource', unit: 'MHz', labels: ['gpu'], help: 'SM clock.' },
  { name: 'gpu_memory_clock_mhz', layer: 'resource', unit: 'MHz', labels: ['gpu'], help: 'Memory clock.' },
  {
    name: 'gpu_fan_percent',
    layer: 'resource',
    unit: '%',
    labels: ['gpu'],
    help: 'Fan speed as a share of its maximum (absent on passively cooled boards).',
  },
  {
    name: 'gpu_ecc_uncorrected_volatile',
    layer: 'resource',
    unit: 'errors',
    labels: ['gpu'],
    help: 'Uncorrected ECC errors since the driver loaded.',
    thresholds: above(1, 1),
  },
  { name: 'gpu_pcie_tx_kibps', layer: 'resource', unit: 'KiB/s', labels: ['gpu'], help: 'PCIe transmit throughput.' },
  { name: 'gpu_pcie_rx_kibps', layer: 'resource', unit: 'KiB/s', labels: ['gpu'], help: 'PCIe receive throughput.' },
  {
    name: 'cpu_load_percent',
    layer: 'resource',
    unit: '%',
    labels: [],
    help: 'Share of CPU time not idle since the previous check, over all cores.',
    thresholds: above(80, 95),
  },
  {
    name: 'memory_utilization_percent',
    layer: 'resource',
    unit: '%',
    labels: [],
    help: 'Host memory in use (total minus MemAvailable) as a share of total.',
    thresholds: above(85, 95),
  },
  {
    name: 'disk_io_wait_percent',
    layer: 'resource',
    unit: '%',
    labels: [],
    help: 'Share of CPU time spent waiting for disk IO since the previous check.',
    thresholds: above(10, 30),
  },
  {
    name: 'memory_used_mib',
    layer: 'resource',
    unit: 'MiB',
    labels: [],
    help: 'Memory in use (host, or the container when it has a memory limit).',
  },
  {
    name: 'memory_total_mib',
    layer: 'resource',
    unit: 'MiB',
    labels: [],
    help: 'Memory available to the server (host total, or the container limit).',
  },
  {
    name: 'io_pressure_some_avg10',
    layer: 'resource',
    unit: '%',
    labels: [],
    help: 'Share of the last 10 s some task waited on IO (Linux PSI).',
  },
  { name: 'load_average_1m', layer: 'resource', unit: 'tasks', labels: [], help: '1-minute load average.' },
  { name: 'load_average_5m', layer: 'resource', unit: 'tasks', labels: [], help: '5-minute load average.' },
  { name: 'load_average_15m', layer: 'resource', unit: 'tasks', labels: [], help: '15-minute load average.' },
  {
    // The goal for /healthz under load is a P99 under 100 ms: a stall that long is already
    // felt by every request in flight. At 1 s a load balancer's health check (commonly a
    // 1 s timeout) fails and every client sees the server frozen.
    name: 'event_loop_delay_max_ms',
    layer: 'resource',
    unit: 'ms',
    labels: [],
    help: "Longest the server's event loop was held since the previous check: no request was served and the Monitor saw nothing meanwhile.",
    thresholds: above(100, 1_000),
  },
  {
    name: 'event_loop_delay_p99_ms',
    layer: 'resource',
    unit: 'ms',
    labels: [],
    help: "99th percentile of the event loop's delays since the previous check (sampled every 20 ms).",
  },

  // Service layer (request hooks; label endpoint = route pattern)
  {
    name: 'requests_per_second',
    layer: 'service',
    unit: 'req/s',
    labels: ['endpoint'],
    help: 'Requests finished per second over the sliding window.',
  },
  {
    name: 'latency_ms_avg',
    layer: 'service',
    unit: 'ms',
    labels: ['endpoint'],
    help: 'Mean response time over the sliding window.',
    thresholds: above(2_000, 5_000),
  },
  {
    name: 'latency_ms_p50',
    layer: 'service',
    unit: 'ms',
    labels: ['endpoint'],
    help: 'Median response time over the sliding window (DDSketch, ≤ 1 % relative error).',
    thresholds: above(2_000, 5_000),
  },
  {
    name: 'latency_ms_p95',
    layer: 'service',
    unit: 'ms',
    labels: ['endpoint'],
    help: '95th percentile response time over the sliding window.',
    // The tutorial's anomaly signal is P95 above 5 s; the preset that alarms on it is a warning.
    thresholds: above(5_000, 10_000, '>'),
  },
  {
    name: 'latency_ms_p99',
    layer: 'service',
    unit: 'ms',
    labels: ['endpoint'],
    help: '99th percentile response time over the sliding window.',
    thresholds: above(10_000, 20_000),
  },
  {
    name: 'http_status_2xx',
    layer: 'service',
    unit: 'requests',
    labels: ['endpoint'],
    help: 'Requests answered 2xx in the sliding window.',
  },
  {
    name: 'http_status_4xx',
    layer: 'service',
    unit: 'requests',
    labels: ['endpoint'],
    help: 'Requests answered 4xx in the sliding window.',
  },
  {
    name: 'http_status_5xx',
    layer: 'service',
    unit: 'requests',
    labels: ['endpoint'],
    help: 'Requests answered 5xx in the sliding window.',
  },
  {
    name: 'response_bytes',
    layer: 'service',
    unit: 'bytes',
    labels: ['endpoint'],
    help: "Mean size of the answers' bodies over the sliding window (Content-Length, or the bytes a stream sent).",
  },
  {
    // The tutorial's error rate: 4xx and 5xx alike ("0.8 %(4xx/5xx占比)"), normal below
    // 1.5 %, the alarm above 5 % for a minute.
    name: 'error_rate_percent',
    layer: 'service',
    unit: '%',
    labels: ['endpoint'],
    help: 'Share of requests answered 4xx or 5xx in the sliding window (client closed requests count as 4xx).',
    thresholds: above(1.5, 5, '>=', '>'),
  },
  {
    name: 'error_rate_5xx_percent',
    layer: 'service',
    unit: '%',
    labels: ['endpoint'],
    help: "Share of requests answered 5xx in the sliding window: the server's own failures.",
  },
  {
    // The tutorial's "users connected now": at most 30 is normal, above 40 the alarm.
    name: 'active_connections',
    layer: 'service',
    unit: 'connections',
    labels: [],
    help: 'Users connected now, at the check: model requests in flight (open streams included) and WebSockets (one per Monitor tab). An idle keep-alive socket is no user.',
    thresholds: above(30, 40, '>', '>'),
  },
  {
    name: 'model_streams_in_flight',
    layer: 'service',
    unit: 'requests',
    labels: [],
    help: 'Streamed model answers (server-sent events) being sent at the check; part of model_requests_in_flight.',
  },
  {
    name: 'model_requests_in_flight',
    layer: 'service',
    unit: 'requests',
    labels: [],
    help: 'Model requests (chat, GUI, OCR, video) received and not yet answered, at the check.',
  },
  {
    name: 'model_requests_waiting_upstream',
    layer: 'service',
    unit: 'requests',
    labels: [],
    help: 'Model requests waiting for a connection to the model server at the check (all UPSTREAM_MAX_CONNECTIONS busy); part of model_requests_in_flight.',
  },
  {
    name: 'websocket_active_connections',
    layer: 'service',
    unit: 'connections',
    labels: [],
    help: 'Open WebSocket connections, counted by the WebSocket server.',
  },
  {
    name: 'ttft_ms',
    layer: 'service',
    unit: 'ms',
    labels: ['endpoint'],
    help: 'Time to first token of streamed chat (median over the window).',
    thresholds: above(2_000, 5_000),
  },
  {
    name: 'tokens_per_second',
    layer: 'service',
    unit: 'tokens/s',
    labels: ['endpoint'],
    help: 'Completion tokens per second after the first token, from the upstream usage (median over the window).',
  },

  // Model layer (pipeline events; label module = vlm | gui | ocr | video)
  {
    name: 'inference_duration_ms',
    layer: 'model',
    unit: 'ms',
    labels: ['module', 'stage'],
    help: 'Duration of a pipeline stage (preprocess, inference, postprocess, total).',
  },
  {
    name: 'request_stage_ms',
    layer: 'model',
    unit: 'ms',
    labels: ['module', 'stage'],
    help: 'Where a model request\'s time went: each stage\'s mean over the same requests, those that ended in the window (a stage a request never reached counts 0; stage="other" is the rest of its time: waiting, validation, sending). The stages add up to stage="total".',
  },
  {
    name: 'model_requests_ended',
    layer: 'model',
    unit: 'requests',
    labels: ['module'],
    help: 'Model requests that ended in the window, answered or not: the requests request_stage_ms is a mean over.',
  },
  {
    name: 'gui_step_success_rate',
    layer: 'model',
    unit: '%',
    labels: [],
    help: 'Share of GUI steps that produced a valid action in time.',
    thresholds: below(90, 85),
  },
  {
    name: 'gui_step_avg_duration',
    layer: 'model',
    unit: 'ms',
    labels: [],
    help: 'Mean duration of a GUI step.',
    thresholds: above(3_000, 6_000),
  },
  {
    name: 'ocr_confidence_mean',
    layer: 'model',
    unit: 'ratio',
    labels: [],
    help: 'Mean token probability of OCR answers (only from upstreams that return logprobs).',
    // The line the log's "Low-confidence OCR" WARN uses (OCR_CONFIDENCE_THRESHOLD, 0.6 by
    // default) and the tutorial's OCR alarm: a warning; there is no critical line.
    thresholds: below(0.6, null, '<'),
  },
  {
    name: 'ocr_error_count',
    layer: 'model',
    unit: 'per minute',
    labels: [],
    help: 'OCR requests that failed, per minute.',
    // The tutorial's OCR alarm: more than 5 failed OCR requests a minute.
    thresholds: above(5, null, '>'),
  },
  {
    name: 'ocr_avg_duration',
    layer: 'model',
    unit: 'ms',
    labels: [],
    help: 'Mean duration of an OCR request, from arrival to answer.',
    thresholds: above(800, 2_000),
  },
  {
    name: 'ocr_preproc_failure_rate',
    layer: 'model',
    unit: '%',
    labels: [],
    help: 'Share of OCR images that could not be fetched or prepared (unreadable, truncated, too large).',
    thresholds: above(3, 10),
  },
  {
    name: 'gui_preproc_failure_rate',
    layer: 'model',
    unit: '%',
    labels: [],
    help: 'Share of GUI screenshots that could not be fetched or prepared.',
    thresholds: above(3, 10),
  },
  {
    name: 'video_preproc_failure_rate',
    layer: 'model',
    unit: '%',
    labels: [],
    help: 'Share of video frames that could not be fetched or prepared.',
    thresholds: above(3, 10),
  },
  {
    name: 'ocr_degraded_total',
    layer: 'model',
    unit: 'images',
    labels: [],
    help: 'OCR images sent through the degraded path since start (IMAGE_ON_PREPROC_FAILURE=degrade).',
  },
  {
    name: 'gui_degraded_total',
    layer: 'model',
    unit: 'images',
    labels: [],
    help: 'GUI screenshots sent through the degraded path since start.',
  },
  {
    name: 'video_degraded_total',
    layer: 'model',
    unit: 'images',
    labels: [],
    help: 'Video frames sent through the degraded path since start.',
  },
  {
    name: 'model_error_count',
    layer: 'model',
    unit: 'per minute',
    labels: ['module', 'code'],
    help: 'Model requests not answered, per minute, by module and error code (UPSTREAM_OOM, CONTEXT_TOO_LONG, IMAGE_UNREADABLE, CLIENT_CLOSED, …).',
  },
  {
    name: 'video_frames_per_second',
    layer: 'model',
    unit: 'frames/s',
    labels: [],
    help: 'Video frames understood per second of inference.',
  },
  {
    name: 'module_share_percent',
    layer: 'model',
    unit: '%',
    labels: ['module'],
    help: "Each module's share of model requests over the sliding window.",
  },
  {
    name: 'upstream_up',
    layer: 'model',
    unit: 'bool',
    labels: [],
    help: 'Whether the model server answered GET /models at the last check (1) or not (0).',
  },
  {
    name: 'upstream_requests_running',
    layer: 'model',
    unit: 'requests',
    labels: ['engine'],
    help: "Requests one engine of the model server is running (vLLM/SGLang /metrics; label engine: vLLM's data-parallel engine or SGLang's rank).",
  },
  {
    name: 'upstream_requests_waiting',
    layer: 'model',
    unit: 'requests',
    labels: ['engine'],
    help: 'Requests queued in one engine of the model server.',
  },
  {
    name: 'upstream_kv_cache_usage_percent',
    layer: 'model',
    unit: '%',
    labels: ['engine'],
    help: 'KV-cache usage of one engine of the model server. Engines are never added up: the Model Metrics summary shows the fullest engine.',
    thresholds: above(90, 98),
  },
  {
    name: 'upstream_prefix_cache_hit_rate_percent',
    layer: 'model',
    unit: '%',
    labels: ['engine'],
    help: 'Prefix-cache hit rate of one engine since the previous check (or as the engine reports it).',
  },
  {
    name: 'upstream_mm_cache_hit_rate_percent',
    layer: 'model',
    unit: '%',
    labels: ['engine'],
    help: 'Multimodal-cache hit rate of one engine since the previous check.',
  },
  {
    name: 'upstream_preemptions',
    layer: 'model',
    unit: 'preemptions',
    labels: ['engine'],
    help: 'Requests one engine preempted since the previous check.',
  },
  {
    name: 'input_token_count',
    layer: 'model',
    unit: 'tokens',
    labels: ['module'],
    help: 'Input tokens of a request (from the upstream usage, else estimated).',
  },
];

export const catalogue: ReadonlyMap<string, MetricDef> = new Map(defs.map((d) => [d.name, d]));

export function metricDef(name: string): MetricDef | undefined {
  return catalogue.get(name);
}

export type Health = 'ok' | 'warn' | 'crit';

/** Whether `v` is past a line under `op`. */
export { pastLine };

/** Colours a value by the metric's thresholds; metrics without thresholds are always ok. */
export function healthOf(value: number, t: Thresholds | undefined): Health {
  if (!t) return 'ok';
  if (t.crit !== null && pastLine(value, t.critOp, t.crit)) return 'crit';
  if (t.warn !== null && pastLine(value, t.warnOp, t.warn)) return 'warn';
  return 'ok';
}
