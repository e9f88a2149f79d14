// The notice policy on its own (a pure function, a stepped clock): one notice per alert
// and check; repeats; silences hold back; and the keep-alives Alertmanager expects,
// following Prometheus' rules/alerting.go: a firing alert re-sent when
// LastSentAt + resendDelay is before now (1 m), a resolved one re-sent for 15 minutes.
import { describe, expect, it } from 'vitest';
import { instanceKey, type AlertInstance, type StateChange, type States } from '../../src/alerts/evaluate.js';
import {
  applyMarks,
  decideNotices,
  emptyResendBook,
  type NoticeInput,
  type ResendBook,
} from '../../src/alerts/notice-policy.js';
import { ruleInputSchema, type Rule } from '../../src/alerts/rule-schema.js';
import { silenceInputSchema, type Silence } from '../../src/alerts/silence.js';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const rule: Rule = {
  id: 'r1',
  ...ruleInputSchema.parse({
    name: 'GPU hot',
    metric: 'gpu_temperature_celsius',
    op: '>',
    threshold: 85,
    consecutiveChecks: 1,
    channels: ['console', 'am'],
    repeatInterval: '1h',
  }),
};
const rules = new Map([[rule.id, rule]]);
const resending = new Map([['am', { everyMs: 60_000, resolvedRetentionMs: 15 * 60_000 }]]);
const labels = { gpu: '0' };
const key = instanceKey(rule.id, labels);

function firingInst(since: number): AlertInstance {
  return {
    ruleId: rule.id,
    labels,
    state: 'firing',
    breaches: 1,
    breachSince: since,
    firingSince: since,
    lastBreachAt: since,
    value: 91,
    breachPoints: [[since, 91]],
    lastNotifiedAt: null,
    suppressed: false,
  };
}

/** Runs the policy over checks every 10 s, applying its marks as the manager does; what went where, per check. */
function run(checks: Array<{ at: number; state: 'firing' | 'inactive' }>, silences: Silence[] = []) {
  let states: States = new Map();
  let book: ResendBook = emptyResendBook();
  let prev: 'firing' | 'inactive' = 'inactive';
  const sent: Array<{ at: number; status: string; channels: readonly string[]; resend: boolean; resolvedAt?: number }> =
    [];
  let held = 0;
  for (const c of checks) {
    const changes: StateChange[] = [];
    if (c.state !== prev) changes.push({ ruleId: rule.id, labels, from: prev, to: c.state, at: c.at, value: 91 });
    const inst = states.get(key) ?? firingInst(c.at);
    states = new Map([
      [
        key,
        {
          ...inst,
          state: c.state,
          firingSince: c.state === 'firing' ? (inst.state === 'firing' ? inst.firingSince : c.at) : inst.firingSince,
        },
      ],
    ]);
    const input: NoticeInput = { now: c.at, changes, states, rules, silences, resending, book };
    const d = decideNotices(input);
    book = d.book;
    states = applyMarks(states, d.marks);
    held += d.heldBack.length;
    for (const n of d.notices)
      sent.push({
        at: (c.at - T0) / 1000,
        status: n.status,
        channels: n.channels,
        resend: n.resend,
        ...(n.resolvedAt ? { resolvedAt: (n.resolvedAt - T0) / 1000 } : {}),
      });
    prev = c.state;
  }
  return { sent, held };
}

const every10s = (seconds: number, state: (s: number) => 'firing' | 'inactive') =>
  Array.from({ length: seconds / 10 + 1 }, (_, i) => ({ at: T0 + i * 10_000, state: state(i * 10) }));

describe('the notice policy', () => {
  it('sends a firing alert to every channel once, then keeps it alive in Alertmanager every resend delay', () => {
    const { sent } = run(every10s(180, () => 'firing'));
    expect(sent).toEqual([
      { at: 0, status: 'firing', channels: ['console', 'am'], resend: false },
      // 0 + 60 s is not before 60 s: Prometheus re-sends at the next evaluation after it.
      { at: 70, status: 'firing', channels: ['am'], resend: true },
      { at: 140, status: 'firing', channels: ['am'], resend: true },
    ]);
  });

  it('sends the resolve to every channel, then again to Alertmanager for 15 minutes with the same end', () => {
    const { sent } = run(every10s(20 * 60, (s) => (s < 30 ? 'firing' : 'inactive')));
    expect(sent[0]).toMatchObject({ at: 0, status: 'firing', resend: false });
    expect(sent[1]).toEqual({ at: 30, status: 'resolved', channels: ['console', 'am'], resend: false, resolvedAt: 30 });
    const again = sent.slice(2);
    expect(
      again.every((n) => n.status === 'resolved' && n.resend && n.resolvedAt === 30 && n.channels.join() === 'am'),
    ).toBe(true);
    expect(again.map((n) => n.at)).toEqual([100, 170, 240, 310, 380, 450, 520, 590, 660, 730, 800, 870]);
  });

  it('holds a silenced alert back everywhere, Alertmanager too, and sends it once the silence ends', () => {
    const silence: Silence = {
      id: 's1',
      createdAt: T0,
      ...silenceInputSchema.parse({
        kind: 'once',
        startsAt: new Date(T0).toISOString(),
        endsAt: new Date(T0 + 95_000).toISOString(),
      }),
    };
    const { sent, held } = run(
      every10s(170, () => 'firing'),
      [silence],
    );
    expect(held).toBe(1);
    expect(sent).toEqual([
      { at: 100, status: 'firing', channels: ['console', 'am'], resend: false },
      { at: 170, status: 'firing', channels: ['am'], resend: true },
    ]);
  });

  it('sends one notice per alert and check, though it fired again just as its repeat was due', () => {
    // Fired, resolved, and fired again more than repeatInterval (1 h) after the first notice.
    const checks = [
      { at: T0, state: 'firing' as const },
      { at: T0 + 10_000, state: 'inactive' as const },
      { at: T0 + 3_700_000, state: 'firing' as const },
    ];
    const { sent } = run(checks);
    expect(sent.filter((n) => n.at === 3700)).toEqual([
      { at: 3700, status: 'firing', channels: ['console', 'am'], resend: false },
    ]);
  });
});
