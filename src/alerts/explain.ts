// "Test rule": replays a rule over the data the Monitor already holds (up to the last
// hour of checks) and says whether it would be firing now, and why. Pure.
import { z } from 'zod';
import { SERIES_RETENTION_MS, SeriesStore } from '../metrics/series-store.js';
import { evaluate, ruleTimings, type AndStates, type States } from './evaluate.js';
import type { Rule } from './rule-schema.js';

/** "Would it fire now, and why": the answer of the test routes. */
export const ruleExplanationSchema = z.object({
  wouldFire: z.boolean(),
  checksReplayed: z.number().int().describe('Checks of the last hour replayed'),
  instances: z.array(
    z.object({
      labels: z.record(z.string(), z.string()),
      state: z.enum(['inactive', 'pending', 'firing']),
      value: z.number().nullable(),
      breaches: z.number().int(),
      reason: z.string(),
    }),
  ),
});
export type RuleExplanation = z.infer<typeof ruleExplanationSchema>;

export function explainRule(rule: Rule, store: SeriesStore, now: number, intervalMs: number): RuleExplanation {
  if (rule.perRequest) {
    return {
      wouldFire: false,
      checksReplayed: 0,
      instances: [
        {
          labels: {},
          state: 'inactive',
          value: null,
          breaches: 0,
          reason: 'per-request rules fire on each matching request, not on checks',
        },
      ],
    };
  }
  const metrics = [rule.metric, ...(rule.and ? [rule.and.metric] : [])];
  const points: Array<{ metric: string; labels: Record<string, string>; t: number; v: number }> = [];
  for (const m of metrics)
    for (const s of store.find(m))
      for (const p of s.ring.since(now - SERIES_RETENTION_MS))
        points.push({ metric: m, labels: { ...s.labels }, t: p.t, v: p.v });
  points.sort((a, b) => a.t - b.t);
  const checks = [...new Set(points.map((p) => p.t))];
  const replay = new SeriesStore({ intervalMs });
  let states: States = new Map();
  let andStates: AndStates = new Map();
  let i = 0;
  for (const t of checks) {
    for (let p = points[i]; p !== undefined && p.t <= t; p = points[++i]) replay.record(p.metric, p.labels, p.t, p.v);
    ({ states, andStates } = evaluate({ rules: [rule], store: replay, states, andStates, now: t, intervalMs }));
  }
  const { forMs } = ruleTimings(rule);
  const need =
    rule.for && forMs !== null
      ? `for ${rule.for} (${Math.ceil(forMs / intervalMs) + 1} checks)`
      : `${rule.consecutiveChecks ?? 1} consecutive check(s)`;
  const instances = [...states.values()].map((s) => {
    const v = s.value === null ? 'no data' : String(Math.round(s.value * 1000) / 1000);
    const reason =
      s.state === 'firing'
        ? `${rule.metric} ${v} ${rule.op} ${rule.threshold}${rule.and ? ` and ${rule.and.metric} ${rule.and.op} ${rule.and.threshold}` : ''}, held ${need}: firing`
        : s.state === 'pending'
          ? `breaching for ${s.breaches} check(s); fires after ${need}`
          : `${rule.metric} is ${v}: not ${rule.op} ${rule.threshold}`;
    return { labels: { ...s.labels }, state: s.state, value: s.value, breaches: s.breaches, reason };
  });
  if (instances.length === 0)
    instances.push({
      labels: {},
      state: 'inactive',
      value: null,
      breaches: 0,
      reason: `no data for ${rule.metric}${Object.keys(rule.labels).length ? ` with ${JSON.stringify(rule.labels)}` : ''} in the last hour`,
    });
  return { wouldFire: instances.some((x) => x.state === 'firing'), checksReplayed: checks.length, instances };
}
