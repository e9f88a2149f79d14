// Which notices go out after a check, and to which channels: a pure function of the
// check's state changes, the alert states, the rules, the silences and what was sent
// before. One notice per alert and check: when it fires, when it resolves, again every
// repeatInterval while it fires, and once when a silence that held it back ends; a
// silenced notice is held back (recorded, not sent). Channels that expire alerts not
// re-sent (Alertmanager) also get every firing alert again each resend delay, and a
// resolved one for a while after (Prometheus rules/alerting.go: needsSending, and
// resolvedRetention).
import { instanceKey, ruleTimings, type AlertInstance, type StateChange, type States } from './evaluate.js';
import type { Rule } from './rule-schema.js';
import { silencedBy, type Silence } from './silence.js';

export interface Resend {
  everyMs: number;
  resolvedRetentionMs: number;
}

export interface Notice {
  rule: Rule;
  inst: AlertInstance;
  status: 'firing' | 'resolved';
  channels: readonly string[];
  /** Sent again only because its receivers expect it (recorded in the history only if it fails). */
  resend: boolean;
  /** A resolved alert: when it ended. */
  resolvedAt?: number;
}

export interface HeldBack {
  rule: Rule;
  inst: AlertInstance;
  status: 'firing' | 'resolved';
  silence: Silence;
}

/** What to set on an alert instance once its notice is dispatched (or held back). */
export interface InstanceMark {
  key: string;
  lastNotifiedAt: number | null;
  suppressed: boolean;
}

interface ResolvedEntry {
  ruleId: string;
  inst: AlertInstance;
  resolvedAt: number;
  sentAt: number;
}

/** What the re-sending channels were last sent, by alert instance. */
export interface ResendBook {
  readonly firing: ReadonlyMap<string, number>;
  readonly resolved: ReadonlyMap<string, ResolvedEntry>;
}

export const emptyResendBook = (): ResendBook => ({ firing: new Map(), resolved: new Map() });

/** Resolved alerts re-sent at most (the oldest are dropped first). */
const MAX_RESOLVED = 1_000;

export interface NoticeInput {
  now: number;
  changes: readonly StateChange[];
  /** The states after this check's evaluation. */
  states: States;
  rules: ReadonlyMap<string, Rule>;
  silences: readonly Silence[];
  /** Channels, by name, that want alerts re-sent. */
  resending: ReadonlyMap<string, Resend>;
  book: ResendBook;
}

export interface NoticeDecision {
  notices: Notice[];
  heldBack: HeldBack[];
  marks: InstanceMark[];
  book: ResendBook;
}

type Candidate = { rule: Rule; inst: AlertInstance; status: 'firing' | 'resolved' };

export function decideNotices(input: NoticeInput): NoticeDecision {
  const { now, states, rules, silences, resending } = input;
  const silenceOf = (rule: Rule, inst: AlertInstance) =>
    silencedBy(silences, { ruleId: rule.id, severity: rule.severity, labels: inst.labels }, now);

  // What changed, what repeats, what a silence held back and no longer does: one each.
  const candidates = new Map<string, Candidate>();
  for (const c of input.changes) {
    const rule = rules.get(c.ruleId);
    if (!rule) continue;
    const key = instanceKey(c.ruleId, c.labels);
    const inst = states.get(key) ?? {
      ruleId: c.ruleId,
      labels: c.labels,
      state: c.to,
      breaches: 0,
      breachSince: null,
      firingSince: null,
      lastBreachAt: null,
      value: c.value,
      breachPoints: [],
      lastNotifiedAt: null,
      suppressed: false,
    };
    if (c.to === 'firing') candidates.set(key, { rule, inst, status: 'firing' });
    else if (c.from === 'firing') candidates.set(key, { rule, inst, status: 'resolved' });
  }
  for (const [key, inst] of states) {
    const rule = rules.get(inst.ruleId);
    if (!rule || inst.state !== 'firing' || candidates.has(key)) continue;
    const repeatDue = inst.lastNotifiedAt !== null && now - inst.lastNotifiedAt >= ruleTimings(rule).repeatMs;
    const silenceEnded = inst.suppressed && !silenceOf(rule, inst);
    if (repeatDue || silenceEnded) candidates.set(key, { rule, inst, status: 'firing' });
  }

  const notices: Notice[] = [];
  const heldBack: HeldBack[] = [];
  const marks: InstanceMark[] = [];
  const noticed = new Set<string>();
  for (const [key, { rule, inst, status }] of candidates) {
    const silence = silenceOf(rule, inst);
    if (silence) {
      heldBack.push({ rule, inst, status, silence });
      marks.push({ key, lastNotifiedAt: inst.lastNotifiedAt, suppressed: status === 'firing' });
      continue;
    }
    notices.push({
      rule,
      inst,
      status,
      channels: rule.channels,
      resend: false,
      ...(status === 'resolved' ? { resolvedAt: now } : {}),
    });
    marks.push({ key, lastNotifiedAt: status === 'firing' ? now : inst.lastNotifiedAt, suppressed: false });
    noticed.add(key);
  }

  // Re-sending channels: keep-alives for firing alerts, and resolves again for a while.
  const firing = new Map(input.book.firing);
  const resolved = new Map(input.book.resolved);
  const resendingOf = (rule: Rule) => rule.channels.filter((ch) => resending.has(ch));
  const everyMs = (channels: readonly string[]) =>
    Math.min(...channels.map((ch) => resending.get(ch)?.everyMs ?? Number.POSITIVE_INFINITY));
  const retentionMs = (channels: readonly string[]) =>
    Math.max(...channels.map((ch) => resending.get(ch)?.resolvedRetentionMs ?? 0));
  for (const n of [...notices]) {
    const channels = resendingOf(n.rule);
    if (!channels.length) continue;
    const key = instanceKey(n.rule.id, n.inst.labels);
    if (n.status === 'firing') {
      firing.set(key, now);
      resolved.delete(key);
    } else {
      firing.delete(key);
      resolved.set(key, {
        ruleId: n.rule.id,
        inst: { ...n.inst, labels: { ...n.inst.labels } },
        resolvedAt: now,
        sentAt: now,
      });
    }
  }
  for (const [key, inst] of states) {
    const rule = rules.get(inst.ruleId);
    if (!rule || inst.state !== 'firing' || noticed.has(key) || candidates.has(key)) continue;
    const channels = resendingOf(rule);
    if (!channels.length || silenceOf(rule, inst)) continue;
    const last = firing.get(key);
    // Prometheus: LastSentAt.Add(resendDelay).Before(ts).
    if (last === undefined || last + everyMs(channels) < now) {
      notices.push({ rule, inst, status: 'firing', channels, resend: true });
      firing.set(key, now);
    }
  }
  for (const key of [...firing.keys()]) if (states.get(key)?.state !== 'firing') firing.delete(key);
  for (const [key, r] of resolved) {
    const rule = rules.get(r.ruleId);
    const channels = rule ? resendingOf(rule) : [];
    const activeAgain = states.get(key)?.state === 'firing' || states.get(key)?.state === 'pending';
    if (!rule || !channels.length || activeAgain || now - r.resolvedAt > retentionMs(channels)) {
      resolved.delete(key);
      continue;
    }
    if (r.sentAt + everyMs(channels) < now) {
      notices.push({ rule, inst: r.inst, status: 'resolved', channels, resend: true, resolvedAt: r.resolvedAt });
      resolved.set(key, { ...r, sentAt: now });
    }
  }
  for (const key of resolved.keys()) {
    if (resolved.size <= MAX_RESOLVED) break;
    resolved.delete(key);
  }
  return { notices, heldBack, marks, book: { firing, resolved } };
}

/** The states with the decision's marks set: a new map of new instances, the given ones untouched. */
export function applyMarks(states: States, marks: readonly InstanceMark[]): States {
  if (!marks.length) return states;
  const next = new Map(states);
  for (const m of marks) {
    const inst = states.get(m.key);
    if (inst) next.set(m.key, { ...inst, lastNotifiedAt: m.lastNotifiedAt, suppressed: m.suppressed });
  }
  return next;
}
