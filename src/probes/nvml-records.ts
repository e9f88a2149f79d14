// Pure decoding of NVML's buffers: utilisation samples and running-process records.
// Kept apart from the binding so tests can feed them bytes directly.
import { z } from 'zod';
import { SAMPLE_BYTES } from './nvml-binding.js';

export interface UtilSample {
  /** Microseconds, NVML's CPU timestamp. */
  ts: number;
  value: number;
}

/** nvmlSample_t[]: u64 timestamp, then the value (unsigned int for utilisation). */
export function decodeSamples(buf: Buffer, count: number): UtilSample[] {
  const out: UtilSample[] = [];
  for (let i = 0; i < count; i++) {
    const off = i * SAMPLE_BYTES;
    out.push({ ts: Number(buf.readBigUInt64LE(off)), value: buf.readUInt32LE(off + 8) });
  }
  return out;
}

/** The median gap between samples sorted by time (µs); undefined with fewer than two. */
export function medianGapUs(sorted: readonly UtilSample[]): number | undefined {
  const gaps: number[] = [];
  let before: UtilSample | undefined;
  for (const s of sorted) {
    if (before) gaps.push(s.ts - before.ts);
    before = s;
  }
  return gaps.sort((a, b) => a - b)[gaps.length >> 1];
}

/** NVML's utilisation samples since the previous check, summed up. */
export const sampleSummarySchema = z.object({
  count: z.number(),
  peakPercent: z.number(),
  meanPercent: z.number(),
  secondsAbove: z.number().describe('Seconds the samples spent at or above `thresholdPercent`'),
  thresholdPercent: z.number(),
  lastTs: z.number().describe("Newest timestamp seen (µs, NVML's CPU clock): the cursor for the next call"),
});
export type SampleSummary = z.infer<typeof sampleSummarySchema>;

/**
 * Peak, mean and time above a threshold of the samples since the previous check. Each
 * sample stands for the time since the one before it (NVML averages over that period);
 * the first stands for the time since `prevTs`, or the median gap when there is none.
 */
export function summarizeSamples(
  samples: readonly UtilSample[],
  prevTs: number,
  thresholdPercent: number,
): SampleSummary | null {
  const sorted = [...samples].sort((a, b) => a.ts - b.ts);
  const last = sorted.at(-1);
  if (!last) return null;
  const medianGap = medianGapUs(sorted) ?? 0;
  let peak = 0;
  let sum = 0;
  let aboveUs = 0;
  let prev = prevTs;
  for (const s of sorted) {
    // A first sample far after the cursor (the poller was paused) counts one period, not the pause.
    const gap = prev > 0 && s.ts - prev <= Math.max(medianGap * 4, 1_000_000) ? s.ts - prev : medianGap;
    peak = Math.max(peak, s.value);
    sum += s.value;
    if (s.value >= thresholdPercent) aboveUs += gap;
    prev = s.ts;
  }
  return {
    count: sorted.length,
    peakPercent: peak,
    meanPercent: sum / sorted.length,
    secondsAbove: aboveUs / 1e6,
    thresholdPercent,
    lastTs: last.ts,
  };
}

export const processRecordSchema = z.object({
  pid: z.number(),
  usedMemoryBytes: z
    .number()
    .nullable()
    .describe('null when NVML cannot tell (NVML_VALUE_NOT_AVAILABLE, e.g. on Windows WDDM)'),
});
export type ProcessRecord = z.infer<typeof processRecordSchema>;

/** Layouts of nvmlProcessInfo records the driver may write for the _v3 call. */
export const PROCESS_STRIDES = [24, 32] as const;
export type ProcessStride = (typeof PROCESS_STRIDES)[number];

const NOT_AVAILABLE = 0xffffffffffffffffn;
const PID_MAX = 4_194_304; // Linux's largest pid_max

export function decodeProcesses(buf: Buffer, count: number, stride: number): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  for (let i = 0; i < count; i++) {
    const off = i * stride;
    if (off + 16 > buf.length) break;
    const mem = buf.readBigUInt64LE(off + 8);
    out.push({ pid: buf.readUInt32LE(off), usedMemoryBytes: mem === NOT_AVAILABLE ? null : Number(mem) });
  }
  return out;
}

function plausible(records: readonly ProcessRecord[], totalMemoryBytes: number): boolean {
  return records.every(
    (r) => r.pid > 0 && r.pid <= PID_MAX && (r.usedMemoryBytes === null || r.usedMemoryBytes <= totalMemoryBytes),
  );
}

/**
 * The record stride of nvmlDeviceGetComputeRunningProcesses_v3 changed between driver
 * releases (24 bytes; 32 once usedGpuCcProtectedMemory was added) without a new
 * function version. Read with the preferred stride (from the symbols present); if the
 * records are not plausible, try the other. With one record both read the same.
 */
export function chooseStride(
  buf: Buffer,
  count: number,
  preferred: ProcessStride,
  totalMemoryBytes: number,
): { stride: ProcessStride; records: ProcessRecord[] } {
  const first = decodeProcesses(buf, count, preferred);
  if (count <= 1 || plausible(first, totalMemoryBytes)) return { stride: preferred, records: first };
  const other: ProcessStride = preferred === 24 ? 32 : 24;
  const second = decodeProcesses(buf, count, other);
  return plausible(second, totalMemoryBytes)
    ? { stride: other, records: second }
    : { stride: preferred, records: first };
}
