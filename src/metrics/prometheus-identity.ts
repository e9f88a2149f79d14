// What this node calls itself in the alerts it sends (MONITOR_INSTANCE, MONITOR_JOB), as a
// series of /metrics: Prometheus can then compare it with the `instance` and `job` it gives
// the node's series, and the exported rules warn when the two disagree (prometheus-rules.ts
// `selfCheck`): the node's own alerts and Prometheus' would then be two groups for one problem.
import client from 'prom-client';
import { PREFIX } from './prometheus-names.js';

/** Who a node is in alerts and to Prometheus: its `instance` and `job` labels. */
export interface Sender {
  instance: string;
  job: string;
}

export const IDENTITY_METRIC = `${PREFIX}monitor_info`;

export function registerIdentity(registry: client.Registry, sender: Sender): void {
  const info = new client.Gauge({
    name: IDENTITY_METRIC,
    help: 'What this node calls itself in the alerts it sends: monitor_instance (MONITOR_INSTANCE) and monitor_job (MONITOR_JOB). Always 1.',
    labelNames: ['monitor_instance', 'monitor_job'],
    registers: [registry],
  });
  info.set({ monitor_instance: sender.instance, monitor_job: sender.job }, 1);
}
