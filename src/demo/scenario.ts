// The tutorial's incident as a schedule the demo plays: students upload 3264×2448
// blackboard photos, OCR gets slow (P99 over 12 s), confident answers drop, some
// uploads arrive cut off, GPUs run at 95–98 %. `phaseAt` is pure; main.ts applies it.
import type { FakeBehavior } from './fake-upstream.js';
import type { GpuLoad } from './simulated-gpus.js';
import type { TrafficProfile } from './traffic.js';

export type Phase = 'normal' | 'incident';

export interface Scenario {
  /** Calm minutes before each incident. */
  normalMs: number;
  /** Minutes the incident lasts. */
  incidentMs: number;
}

/**
 * With --incident: four calm minutes, then three of incident, over and over. Four, because a
 * card's normal needs three calm minutes (TREND_RULE, MODEL_BASELINE) and an alert's pending
 * and recovery take some of them: with two, the first incident showed no change at all and
 * later ones often none ("no calm baseline yet").
 */
export const INCIDENT_LOOP: Scenario = { normalMs: 4 * 60_000, incidentMs: 3 * 60_000 };

export function phaseAt(elapsedMs: number, s: Scenario): Phase {
  const cycle = s.normalMs + s.incidentMs;
  return elapsedMs % cycle < s.normalMs ? 'normal' : 'incident';
}

export interface PhaseSettings {
  upstream: Partial<FakeBehavior>;
  gpus: GpuLoad;
  traffic: Partial<TrafficProfile>;
}

export const PHASES: Record<Phase, PhaseSettings> = {
  // About 0.65 s per answer, 95 % confident, one failure in two hundred: calm by the
  // cards' lines (OCR under 800 ms, errors under 1.5 %), so the incident is the only colour.
  normal: {
    upstream: {
      ttftMs: 250,
      spread: 0.3,
      tokenIntervalMs: 15,
      tokens: 24,
      errorRate: 0.005,
      tokenLogprob: Math.log(0.95),
    },
    gpus: { utilizationPercent: 38, memoryPercent: 46 },
    traffic: { ocrShare: 0.3, photos: false, cutOffShare: 0 },
  },
  // Each request slower (mean ~4.8 s, P99 > 12 s), confidence 0.38, some 500s, some uploads cut off.
  incident: {
    upstream: {
      ttftMs: 3_900,
      spread: 0.5,
      tokenIntervalMs: 25,
      tokens: 24,
      errorRate: 0.08,
      tokenLogprob: Math.log(0.38),
    },
    gpus: { utilizationPercent: 97, memoryPercent: 72 },
    traffic: { ocrShare: 0.7, photos: true, cutOffShare: 0.08 },
  },
};
