// Per-request rules ("input tokens > 8000"): each matching request raises its own alert,
// with its context, kept in the history with its request and written as a log line at the
// rule's severity. Such an alert has no state to acknowledge: it is over once raised, and
// an operator dismisses its notice instead (every tab closes it).
import type { EventLog } from '../log/event-log.js';
import type { RequestEvent } from '../metrics/model-stats.js';
import { alertPayload, type ContextSources } from './alert-context.js';
import type { DispatchItem } from './dispatch.js';
import { compare, type AlertInstance } from './evaluate.js';
import type { AlertHistory } from './history.js';
import type { Rule } from './rule-schema.js';

/** Per-request notices an operator can dismiss: the newest 200, so a burst of long requests stays bounded. */
const DISMISSABLE_REQUEST_NOTICES = 200;

export interface RequestAlertsOptions {
  rules: () => readonly Rule[];
  context: ContextSources;
  history: AlertHistory;
  log: EventLog;
  clock: () => number;
  dispatch: (items: readonly DispatchItem[]) => void;
  broadcastAck: (ack: {
    ruleId: string;
    labels: Record<string, string>;
    requestId: string;
    by: string;
    at: number;
  }) => void;
}

export class RequestAlerts {
  /** Per-request notices on screen, by `ruleId|requestId`, oldest first (bounded). */
  private readonly notices = new Map<string, Record<string, string>>();

  constructor(private readonly opts: RequestAlertsOptions) {}

  /**
   * Called on the request's path, so only the comparison happens there; building the
   * context (log queries, top clients) waits for the next turn of the event loop.
   */
  onRequestEvent(e: RequestEvent): void {
    const hits = this.opts
      .rules()
      .filter((r) => r.enabled && r.perRequest && compare(e.inputTokens, r.op, r.threshold));
    if (hits.length) setImmediate(() => this.raise(hits, e));
  }

  /** Whether a rule raises one notice per request (dismissed, not acknowledged). */
  isPerRequest(ruleId: string): boolean {
    return this.opts.rules().some((r) => r.id === ruleId && r.perRequest);
  }

  private raise(hits: readonly Rule[], e: RequestEvent): void {
    const { history, log } = this.opts;
    for (const rule of hits) {
      const v = e.inputTokens;
      const inst: AlertInstance = {
        ruleId: rule.id,
        labels: { module: e.module },
        state: 'firing',
        breaches: 1,
        breachSince: e.t,
        firingSince: e.t,
        lastBreachAt: e.t,
        value: v,
        breachPoints: [[e.t, v]],
        lastNotifiedAt: null,
        suppressed: false,
      };
      const payload = alertPayload(this.opts.context, rule, inst, 'firing', this.opts.clock());
      payload.context.request = {
        requestId: e.requestId ?? null,
        client: e.client ?? null,
        module: e.module,
        inputTokens: v,
        source: e.source ?? null,
      };
      history.push({
        at: e.t,
        kind: 'state',
        ruleId: rule.id,
        severity: rule.severity,
        labels: { module: e.module },
        from: 'inactive',
        to: 'firing',
        value: v,
        ...(e.requestId ? { requestId: e.requestId } : {}),
        ...(e.client ? { client: e.client } : {}),
      });
      const params = {
        rule: rule.name,
        metric: rule.metric,
        value: v,
        threshold: `${rule.op} ${rule.threshold}`,
        module: e.module,
        request_id: e.requestId ?? null,
        client: e.client ?? null,
      };
      // Info lines are never sampled away.
      if (rule.severity === 'critical') log.error('alert', 'Per-request alert', params);
      else if (rule.severity === 'warning') log.warn('alert', 'Per-request alert', params);
      else log.info('alert', 'Per-request alert', params, { always: true });
      if (e.requestId) this.remember(`${rule.id}|${e.requestId}`, inst.labels);
      this.opts.dispatch([{ channels: rule.channels, resend: false, payload }]);
    }
  }

  private remember(key: string, labels: Record<string, string>): void {
    this.notices.delete(key);
    this.notices.set(key, labels);
    if (this.notices.size > DISMISSABLE_REQUEST_NOTICES) {
      const oldest = this.notices.keys().next();
      if (!oldest.done) this.notices.delete(oldest.value);
    }
  }

  /**
   * A per-request notice dismissed from a Monitor tab: every tab closes it. False when no
   * such notice is on screen (dismissed already, or older than the last 200).
   */
  dismiss(ruleId: string, requestId: string, by: string): boolean {
    const key = `${ruleId}|${requestId}`;
    const labels = this.notices.get(key);
    if (!labels) return false;
    this.notices.delete(key);
    const at = this.opts.clock();
    this.opts.history.push({
      at,
      kind: 'state',
      ruleId,
      labels: { ...labels },
      from: 'firing',
      to: 'inactive',
      requestId,
      detail: `dismissed by ${by}`,
    });
    this.opts.broadcastAck({ ruleId, labels, requestId, by, at });
    return true;
  }
}
