// The alert instances between checks: each check evaluates the rules (evaluate.ts, pure),
// decides the notices (notice-policy.ts, pure) and keeps what both return. Nothing here
// changes a map or an instance once made: a check, an acknowledgement or a changed rule
// puts a new map in place of the old.
import type { SeriesStore } from '../metrics/series-store.js';
import { evaluate, instanceKey, type AndStates, type SampleSource, type StateChange, type States } from './evaluate.js';
import {
  applyMarks,
  decideNotices,
  emptyResendBook,
  type NoticeDecision,
  type Resend,
  type ResendBook,
} from './notice-policy.js';
import type { Rule } from './rule-schema.js';
import type { Silence } from './silence.js';

export interface CheckInput {
  now: number;
  rules: readonly Rule[];
  silences: readonly Silence[];
  /** Channels, by name, that want alerts re-sent. */
  resending: ReadonlyMap<string, Resend>;
}

export interface CheckOutcome {
  changes: StateChange[];
  decision: NoticeDecision;
  /** The rules of this check, by id. */
  rulesById: ReadonlyMap<string, Rule>;
}

export class AlertStates {
  private states: States = new Map();
  private andStates: AndStates = new Map();
  private book: ResendBook = emptyResendBook();

  constructor(
    private readonly sources: { store: SeriesStore; intervalMs: number; samples?: SampleSource | undefined },
  ) {}

  /** The instances now, by instanceKey. */
  get current(): States {
    return this.states;
  }

  check(input: CheckInput): CheckOutcome {
    const { now } = input;
    const evaluated = evaluate({
      rules: input.rules,
      store: this.sources.store,
      states: this.states,
      andStates: this.andStates,
      now,
      intervalMs: this.sources.intervalMs,
      samples: this.sources.samples,
    });
    const rulesById = new Map(input.rules.map((r) => [r.id, r]));
    const decision = decideNotices({
      now,
      changes: evaluated.changes,
      states: evaluated.states,
      rules: rulesById,
      silences: input.silences,
      resending: input.resending,
      book: this.book,
    });
    this.states = applyMarks(evaluated.states, decision.marks);
    this.andStates = evaluated.andStates;
    this.book = decision.book;
    return { changes: evaluated.changes, decision, rulesById };
  }

  /** A changed or deleted rule starts afresh. */
  forget(ruleId: string): void {
    if (![...this.states.values()].some((s) => s.ruleId === ruleId)) return;
    this.states = new Map([...this.states].filter(([, s]) => s.ruleId !== ruleId));
  }

  /** Marks a firing alert acknowledged; false when it is not firing. */
  acknowledge(ruleId: string, labels: Record<string, string>, by: string): boolean {
    const key = instanceKey(ruleId, labels);
    const inst = this.states.get(key);
    if (inst?.state !== 'firing') return false;
    this.states = new Map(this.states).set(key, { ...inst, acknowledgedBy: by });
    return true;
  }
}
