import { describe, expect, it } from 'vitest';
import { AlertStates } from '../../src/alerts/alert-states.js';
import { evaluate, type States } from '../../src/alerts/evaluate.js';
import { applyMarks } from '../../src/alerts/notice-policy.js';
import { ruleInputSchema, type Rule } from '../../src/alerts/rule-schema.js';
import { silenceInputSchema, type Silence } from '../../src/alerts/silence.js';
import { SeriesStore } from '../../src/metrics/series-store.js';

const I = 30_000;
const t0 = 1_800_000_000_000;
const rule: Rule = {
  id: 'gpu-mem',
  ...ruleInputSchema.parse({
    name: 'GPU memory high',
    metric: 'gpu_memory_utilization_percent',
    op: '>',
    threshold: 90,
    consecutiveChecks: 2,
    repeatInterval: '1m',
  }),
};

/** Every instance frozen: code that changes one after the check throws (ES modules are strict). */
function frozen(states: States): Array<[string, string]> {
  for (const inst of states.values()) Object.freeze(inst);
  return [...states].map(([k, v]) => [k, JSON.stringify(v)]);
}

describe('the alert states between checks', () => {
  it('are never changed once a check made them: a notice, a repeat, an acknowledgement and a changed rule make new ones', () => {
    const store = new SeriesStore({ intervalMs: I });
    const states = new AlertStates({ store, intervalMs: I });
    const silences: Silence[] = [];
    const seen: Array<{ map: States; was: Array<[string, string]> }> = [];
    const notices: string[] = [];
    for (let k = 0; k < 6; k++) {
      const now = t0 + k * I;
      store.record('gpu_memory_utilization_percent', { gpu: '0' }, now, 95);
      store.record('gpu_memory_utilization_percent', { gpu: '1' }, now, 40);
      const { decision } = states.check({ now, rules: [rule], silences, resending: new Map() });
      notices.push(...decision.notices.map((n) => `${k}:${n.inst.labels.gpu}:${n.status}`));
      seen.push({ map: states.current, was: frozen(states.current) });
      if (k === 3) {
        expect(states.acknowledge('gpu-mem', { gpu: '0' }, 'ops')).toBe(true);
        expect(states.acknowledge('gpu-mem', { gpu: '1' }, 'ops')).toBe(false);
        seen.push({ map: states.current, was: frozen(states.current) });
      }
    }
    // The marks took effect: fired at the 2nd check, repeated every minute, not at every check.
    expect(notices).toEqual(['1:0:firing', '3:0:firing', '5:0:firing']);
    expect(states.current.get('gpu-mem|gpu=0')).toMatchObject({ acknowledgedBy: 'ops', lastNotifiedAt: t0 + 5 * I });
    states.forget('gpu-mem');
    expect(states.current.size).toBe(0);
    for (const { map, was } of seen) expect([...map].map(([k, v]) => [k, JSON.stringify(v)])).toEqual(was);
    // A silence held the notice back: marked suppressed, in a new map again.
    const silence: Silence = {
      id: 's1',
      createdAt: t0,
      ...silenceInputSchema.parse({
        kind: 'once',
        matchers: { ruleId: 'gpu-mem' },
        startsAt: new Date(t0).toISOString(),
        endsAt: new Date(t0 + 3_600_000).toISOString(),
        comment: 'maintenance',
      }),
    };
    for (let k = 6; k < 8; k++) {
      const now = t0 + k * I;
      store.record('gpu_memory_utilization_percent', { gpu: '0' }, now, 95);
      const before = states.current;
      const was = frozen(before);
      const { decision } = states.check({ now, rules: [rule], silences: [silence], resending: new Map() });
      expect(decision.notices).toEqual([]);
      expect([...before].map(([key, v]) => [key, JSON.stringify(v)])).toEqual(was);
    }
    expect(states.current.get('gpu-mem|gpu=0')).toMatchObject({ state: 'firing', suppressed: true });
  });

  it("a decision's marks go on copies: what evaluate() returned stays as it was", () => {
    const store = new SeriesStore({ intervalMs: I });
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, t0, 95);
    const { states } = evaluate({
      rules: [{ ...rule, consecutiveChecks: 1 }],
      store,
      states: new Map(),
      andStates: new Map(),
      now: t0,
      intervalMs: I,
    });
    const was = frozen(states);
    const marked = applyMarks(states, [{ key: 'gpu-mem|gpu=0', lastNotifiedAt: t0, suppressed: true }]);
    expect([...states].map(([k, v]) => [k, JSON.stringify(v)])).toEqual(was);
    expect(marked.get('gpu-mem|gpu=0')).toMatchObject({ state: 'firing', lastNotifiedAt: t0, suppressed: true });
  });
});
