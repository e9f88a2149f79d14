// Runs of NVML utilisation samples past a line: what sample-based rules ("> 98 % for more
// than 5 s") measure between two checks, carried across checks. Pure; the samples are the
// probe's (probes/nvml-records.ts), the judgement the alert engine's.
import { medianGapUs, type UtilSample } from '../probes/nvml-records.js';

export type { UtilSample };

/**
 * A run still holding at the last sample read: where it began, where it stands. Sample-based
 * rules ("> 98 % for more than 5 s") carry it from one check to the next, so a saturation
 * longer than the check interval is seen whole, at any interval.
 */
export interface OngoingRun {
  /** NVML timestamps, microseconds. */
  startUs: number;
  lastUs: number;
  /** The sampling period, so the first sample counts for its own period. */
  periodUs: number;
}

export interface RunResult {
  /** Longest run this check saw, in seconds, including a run carried in. */
  longestSeconds: number;
  /** The run holding at the last sample, to carry to the next check; null if none. */
  ongoing: OngoingRun | null;
}

/**
 * A run of samples s_a … s_b lasts (ts_b − ts_a) plus one sampling period. A carried run
 * continues when this check's first sample holds and follows the carried one within two
 * periods (a longer gap means samples were lost: the run starts again).
 */
export function sampleRuns(
  samples: readonly UtilSample[],
  holds: (v: number) => boolean,
  carried: OngoingRun | null,
): RunResult {
  const sorted = [...samples].sort((a, b) => a.ts - b.ts);
  if (sorted.length === 0) return { longestSeconds: 0, ongoing: carried };
  const periodUs = medianGapUs(sorted) ?? carried?.periodUs ?? 0;
  let best = 0;
  let startUs: number | null = null;
  let lastUs = 0;
  sorted.forEach((s, i) => {
    if (!holds(s.value)) {
      startUs = null;
      return;
    }
    if (startUs === null) {
      const continued =
        i === 0 &&
        carried !== null &&
        s.ts > carried.lastUs &&
        s.ts - carried.lastUs <= 2 * Math.max(periodUs, carried.periodUs);
      startUs = continued && carried ? carried.startUs : s.ts;
    }
    lastUs = s.ts;
    best = Math.max(best, lastUs - startUs + periodUs);
  });
  return { longestSeconds: best / 1e6, ongoing: startUs === null ? null : { startUs, lastUs, periodUs } };
}
