// When each metric's alerts were restless (pending or firing), read from the alert history
// and the current states: what the Monitor leaves out of a card's "normal". Pure; the app
// wires it into the Monitor (app-parts.ts), so metrics never import alerts.
import type { AlertInstance } from './evaluate.js';
import type { HistoryEntry } from './history.js';
import type { Rule } from './rule-schema.js';

const RESTLESS = new Set(['pending', 'firing']);

const keyOf = (ruleId: string, labels: Readonly<Record<string, string>> | undefined) =>
  `${ruleId}|${Object.entries(labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;

/**
 * [start, end) spans per metric watched (a rule's metric and its `and` metric) within
 * [since, now]. An alert already restless at `since` starts there; one still restless now
 * ends at `now`. Per-request rules raise one-off alerts, not states: they make no span.
 */
export function unrestByMetric(
  history: readonly HistoryEntry[],
  rules: readonly Rule[],
  active: ReadonlyArray<Pick<AlertInstance, 'ruleId' | 'labels' | 'state'>>,
  since: number,
  now: number,
): Map<string, Array<[number, number]>> {
  const byId = new Map(rules.filter((r) => !r.perRequest).map((r) => [r.id, r]));
  const changes = new Map<string, { rule: Rule; list: HistoryEntry[] }>();
  for (const h of history) {
    if (h.kind !== 'state' || !h.ruleId || h.at < since || h.at > now) continue;
    const rule = byId.get(h.ruleId);
    if (!rule) continue;
    const k = keyOf(h.ruleId, h.labels);
    const seen = changes.get(k);
    if (seen) seen.list.push(h);
    else changes.set(k, { rule, list: [h] });
  }
  const out = new Map<string, Array<[number, number]>>();
  const add = (rule: Rule, span: [number, number]) => {
    for (const metric of rule.and ? [rule.metric, rule.and.metric] : [rule.metric]) {
      const list = out.get(metric);
      if (list) list.push(span);
      else out.set(metric, [span]);
    }
  };
  for (const { rule, list } of changes.values()) {
    list.sort((a, b) => a.at - b.at);
    const first = list[0];
    let start: number | null = first?.from !== undefined && RESTLESS.has(first.from) ? since : null;
    for (const h of list) {
      const restless = h.to !== undefined && RESTLESS.has(h.to);
      if (restless && start === null) start = h.at;
      else if (!restless && start !== null) {
        add(rule, [start, h.at]);
        start = null;
      }
    }
    if (start !== null) add(rule, [start, now]);
  }
  // Restless since before the history reaches back, and unchanged since.
  for (const a of active) {
    const rule = byId.get(a.ruleId);
    if (!rule || !RESTLESS.has(a.state) || changes.has(keyOf(a.ruleId, a.labels))) continue;
    add(rule, [since, now]);
  }
  return out;
}
