// Ready-made rules, importable with one click. Importing is idempotent: a preset's rule
// id is `preset:<id>`, so importing twice leaves one rule.
import { metricDef } from '../metrics/catalogue.js';
import type { RuleInput } from './rule-schema.js';

/** The event loop's "critical" stall, as the host strip colours it: one number for both. */
const LOOP_BLOCKED_MS = metricDef('event_loop_delay_max_ms')?.thresholds?.crit ?? 1_000;

export interface Preset {
  id: string;
  description: string;
  rule: RuleInput;
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'gpu-memory-pressure',
    description: 'GPU memory above 90 % for 3 consecutive checks (resolves below 85 %).',
    rule: {
      name: 'GPU memory sustained pressure',
      metric: 'gpu_memory_utilization_percent',
      op: '>',
      threshold: 90,
      consecutiveChecks: 3,
      recoverThreshold: 85,
      severity: 'warning',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'gpu-memory-critical',
    description: "GPU memory above 92 %, the tutorial's alarm: the next allocation may fail.",
    rule: {
      name: 'GPU memory critical',
      metric: 'gpu_memory_utilization_percent',
      op: '>',
      threshold: 92,
      severity: 'critical',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'gpu-utilization-saturated',
    description: "GPU utilisation above 98 % for more than 5 s in a row, seen in NVML's samples between checks.",
    rule: {
      name: 'GPU saturated',
      metric: 'gpu_utilization_percent',
      op: '>',
      threshold: 98,
      sampleSeconds: 5,
      severity: 'critical',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'gui-stability',
    description: 'GUI step success below 85 % for 2 minutes while steps take over 3 s.',
    rule: {
      name: 'GUI stability guard',
      metric: 'gui_step_success_rate',
      op: '<',
      threshold: 85,
      for: '2m',
      and: { metric: 'gui_step_avg_duration', op: '>', threshold: 3000 },
      severity: 'warning',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'ocr-degradation',
    description: 'OCR confidence below 0.6 while more than 5 OCR requests a minute fail.',
    rule: {
      name: 'OCR service degradation',
      metric: 'ocr_confidence_mean',
      op: '<',
      threshold: 0.6,
      and: { metric: 'ocr_error_count', op: '>', threshold: 5 },
      severity: 'warning',
      channels: ['console', 'webhook'],
      boostLogMinutes: 10,
    },
  },
  {
    id: 'long-context',
    description: 'A request with more than 192 000 input tokens (Qwen3-VL handles 256 K).',
    rule: {
      name: 'Long-context risk',
      metric: 'input_token_count',
      op: '>',
      threshold: 192_000,
      perRequest: true,
      severity: 'info',
      channels: ['console'],
    },
  },
  {
    id: 'error-rate',
    description: 'More than 5 % of model requests answered 5xx over a minute (resolves below 3 %).',
    rule: {
      name: 'Model endpoints 5xx error rate',
      metric: 'error_rate_5xx_percent',
      labels: { endpoint: '*' },
      op: '>',
      threshold: 5,
      for: '1m',
      // A rate near its line crosses it both ways every few checks: without a gap between
      // firing and resolving, 7 % then 4.7 % sent FIRING and RESOLVED ten seconds apart.
      recoverThreshold: 3,
      severity: 'critical',
      channels: ['console', 'webhook'],
      boostLogMinutes: 10,
    },
  },
  {
    id: 'p95-latency',
    description: 'P95 latency of the model endpoints above 5 s for 3 checks (resolves below 4 s).',
    rule: {
      name: 'P95 latency high',
      metric: 'latency_ms_p95',
      labels: { endpoint: '*' },
      op: '>',
      threshold: 5000,
      consecutiveChecks: 3,
      recoverThreshold: 4000,
      severity: 'warning',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'gpu-lost',
    description: 'A GPU stopped answering NVML (GPU_IS_LOST).',
    rule: {
      name: 'GPU lost',
      metric: 'gpu_available',
      op: '<',
      threshold: 1,
      severity: 'critical',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'upstream-unreachable',
    description: 'The model server did not answer for 3 checks.',
    rule: {
      name: 'Model server unreachable',
      metric: 'upstream_up',
      op: '<',
      threshold: 1,
      consecutiveChecks: 3,
      severity: 'critical',
      channels: ['console', 'webhook'],
    },
  },
  {
    id: 'ocr-preprocessing',
    description: 'More than 3 % of OCR images fail preprocessing (resolves below 2 %).',
    rule: {
      name: 'OCR preprocessing failures',
      metric: 'ocr_preproc_failure_rate',
      op: '>',
      threshold: 3,
      consecutiveChecks: 2,
      recoverThreshold: 2,
      severity: 'warning',
      channels: ['console'],
    },
  },
  {
    id: 'event-loop-blocked',
    description: `The server's event loop was held longer than ${LOOP_BLOCKED_MS / 1_000} s: no request was served and the Monitor saw nothing meanwhile.`,
    rule: {
      name: 'Server blocked',
      metric: 'event_loop_delay_max_ms',
      op: '>=',
      threshold: LOOP_BLOCKED_MS,
      severity: 'warning',
      channels: ['console'],
    },
  },
];
