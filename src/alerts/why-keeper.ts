// When "why is it firing" is worked out: once when an alert starts (pending), again at most
// once a minute while it lasts, and for a bounded number of alerts per check, so that a
// storm of alerts starting together costs a few checks' time spread out, not one long
// pause. What it found is kept per alert until the alert ends.
import type { EventLog } from '../log/event-log.js';
import type { ClientStats } from '../metrics/client-stats.js';
import type { ModuleName } from '../metrics/model-stats.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { moduleOf } from './alert-context.js';
import type { States } from './evaluate.js';
import type { Rule } from './rule-schema.js';
import { explainWhy, type Why } from './why.js';

const REFRESH_MS = 60_000;
/** Alerts worked out per check at most; the rest wait for the next check. */
const PER_CHECK = 4;
const MODEL_MODULES: ReadonlySet<string> = new Set(['vlm', 'gui', 'ocr', 'video']);

export interface WhySources {
  store: SeriesStore;
  intervalMs: number;
  log: EventLog;
  clients: ClientStats | null;
  /** The model endpoints' routes now (ServiceStats): other endpoints' series are no cause. */
  modelEndpoints: () => readonly string[];
}

export class WhyKeeper {
  private readonly byAlert = new Map<string, Why>();

  constructor(private readonly sources: WhySources) {}

  /** After a check: work out what is missing or a minute old; forget alerts that ended. */
  update(states: States, rules: ReadonlyMap<string, Rule>, now: number): void {
    let budget = PER_CHECK;
    for (const [key, s] of states) {
      if (s.state === 'inactive' || s.breachSince === null) continue;
      const had = this.byAlert.get(key);
      if (had && had.since === s.breachSince && now - had.computedAt < REFRESH_MS) continue;
      const rule = rules.get(s.ruleId);
      if (!rule || budget-- <= 0) continue;
      const module = moduleOf(rule, s.labels);
      const clients = this.sources.clients;
      this.byAlert.set(
        key,
        explainWhy({
          store: this.sources.store,
          log: this.sources.log.newestFirst(),
          clientTotals:
            clients && module && MODEL_MODULES.has(module)
              ? (what, end, windowMs) => clients.moduleTotals(module as ModuleName, what, end, windowMs)
              : null,
          own: { metric: rule.metric, labels: s.labels },
          modelEndpoints: new Set(this.sources.modelEndpoints()),
          module,
          since: s.breachSince,
          now,
          intervalMs: this.sources.intervalMs,
        }),
      );
    }
    for (const key of this.byAlert.keys()) {
      const s = states.get(key);
      if (!s || s.state === 'inactive') this.byAlert.delete(key);
    }
  }

  get(key: string): Why | undefined {
    return this.byAlert.get(key);
  }
}
