// The label set of one alert as it leaves this node, for every receiver that routes on
// labels (the Alertmanager channel, the Alertmanager-format webhook) and for the rules the
// Prometheus export writes: the same alert from the node and from Prometheus carries the
// same names, so Alertmanager can group and inhibit across the two.
import type { Sender } from '../metrics/prometheus-identity.js';

export type { Sender };

/**
 * The label naming the Monitor rule an alert comes from: two rules may share a name, and
 * alerts of one name and labels would be one series to Prometheus (promtool flags them).
 */
export const RULE_ID_LABEL = 'monitor_rule_id';

/** What routing needs to know of an alert. */
export interface LabelledAlert {
  ruleId: string;
  ruleName: string;
  severity: string;
  labels: Record<string, string>;
}

/**
 * The series' labels, then `extra` (a channel's own, like Prometheus' external_labels),
 * then ours: alertname, severity, instance, job and the rule id are what Alertmanager
 * routes on and cannot be overridden by a series or a channel. `clean` turns a series'
 * label name into a valid one where a receiver needs that. The same rule's alert from
 * Prometheus (the export) carries the same set when the node is scraped under its
 * MONITOR_JOB with its MONITOR_INSTANCE as `instance` (docs/SCALE-OUT.md).
 */
export function alertLabels(
  a: LabelledAlert,
  sender: Sender,
  extra: Record<string, string> = {},
  clean: (name: string) => string = (name) => name,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.labels)) if (v !== '') labels[clean(k)] = v;
  return Object.assign(labels, extra, {
    alertname: a.ruleName,
    severity: a.severity,
    instance: sender.instance,
    job: sender.job,
    [RULE_ID_LABEL]: a.ruleId,
  });
}
