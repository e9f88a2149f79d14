import { describe, expect, it } from 'vitest';
import { evaluate, type AndStates, type States } from '../../src/alerts/evaluate.js';
import { PRESETS } from '../../src/alerts/presets.js';
import { ruleInputSchema, type Rule, type RuleInput } from '../../src/alerts/rule-schema.js';
import { SeriesStore } from '../../src/metrics/series-store.js';
import { sampleRuns } from '../../src/metrics/sample-runs.js';

const I = 10_000;
const t0 = 1_800_000_000_000;
const rule = (r: Partial<RuleInput>, id = 'r1'): Rule => ({
  id,
  ...ruleInputSchema.parse({ name: 'test', metric: 'gpu_memory_utilization_percent', op: '>', threshold: 90, ...r }),
});

/** Feeds one value per check and evaluates after each; returns the state after each check. */
function run(rules: Rule[], feed: (store: SeriesStore, t: number, k: number) => void, checks: number) {
  const store = new SeriesStore({ intervalMs: I });
  let states: States = new Map();
  let andStates: AndStates = new Map();
  const trace: Array<{ states: string[]; changes: string[] }> = [];
  for (let k = 0; k < checks; k++) {
    const t = t0 + k * I;
    feed(store, t, k);
    const r = evaluate({ rules, store, states, andStates, now: t, intervalMs: I });
    states = r.states;
    andStates = r.andStates;
    trace.push({
      states: [...states.values()].map((s) => `${JSON.stringify(s.labels)}:${s.state}`),
      changes: r.changes.map((c) => `${c.from}->${c.to}`),
    });
  }
  return { trace, states };
}

describe('evaluate', () => {
  it('"> 90 % for 3 consecutive checks" fires at the 3rd breaching check, not the 2nd', () => {
    const values = [50, 95, 96, 97, 98, 80];
    const { trace } = run(
      [rule({ consecutiveChecks: 3 })],
      (s, t, k) => s.record('gpu_memory_utilization_percent', { gpu: '0' }, t, values[k]!),
      values.length,
    );
    expect(trace.map((x) => x.states[0])).toEqual([
      '{"gpu":"0"}:inactive',
      '{"gpu":"0"}:pending',
      '{"gpu":"0"}:pending',
      '{"gpu":"0"}:firing',
      '{"gpu":"0"}:firing',
      '{"gpu":"0"}:inactive',
    ]);
    expect(trace.flatMap((x) => x.changes)).toEqual(['inactive->pending', 'pending->firing', 'firing->inactive']);
  });

  it('"for: 30s" fires once the condition has held 30 s: the 4th check at a 10 s interval', () => {
    const { trace } = run(
      [rule({ for: '30s' })],
      (s, t) => s.record('gpu_memory_utilization_percent', { gpu: '0' }, t, 99),
      5,
    );
    expect(trace.map((x) => x.states[0]!.split(':').at(-1))).toEqual([
      'pending',
      'pending',
      'pending',
      'firing',
      'firing',
    ]);
  });

  it('keeps one instance per label set (each GPU on its own)', () => {
    const { states } = run(
      [rule({})],
      (s, t) => {
        s.record('gpu_memory_utilization_percent', { gpu: '0' }, t, 40);
        s.record('gpu_memory_utilization_percent', { gpu: '1' }, t, 95);
      },
      1,
    );
    expect([...states.values()].map((s) => [s.labels.gpu, s.state])).toEqual([
      ['0', 'inactive'],
      ['1', 'firing'],
    ]);
  });

  it('joins a second condition with AND, each with its own duration', () => {
    const r = rule({
      metric: 'gui_step_success_rate',
      op: '<',
      threshold: 85,
      for: '20s',
      and: { metric: 'gui_step_avg_duration', op: '>', threshold: 3000 },
    });
    const rate = [90, 80, 80, 80, 80, 80];
    const dur = [4000, 2000, 2000, 4000, 4000, 4000];
    const { trace } = run(
      [r],
      (s, t, k) => {
        s.record('gui_step_success_rate', {}, t, rate[k]!);
        s.record('gui_step_avg_duration', {}, t, dur[k]!);
      },
      rate.length,
    );
    // Success rate low from check 1, duration high only from check 3; the 20 s count starts then.
    expect(trace.map((x) => x.states[0]?.split(':').at(-1) ?? 'none')).toEqual([
      'inactive',
      'inactive',
      'inactive',
      'pending',
      'pending',
      'firing',
    ]);
  });

  it("counts the AND condition's duration at every check, not only when the first holds", () => {
    // Slow steps at 0 s, fast from 10 s to 40 s, slow again at 50 s: the 30 s of slowness
    // the second condition asks for never happened, so nothing may fire at 50 s.
    const r = rule({
      metric: 'gui_step_success_rate',
      op: '<',
      threshold: 85,
      and: { metric: 'gui_step_avg_duration', op: '>', threshold: 3000, for: '30s' },
    });
    const rate = [80, 90, 90, 90, 90, 80];
    const dur = [4000, 2000, 2000, 2000, 2000, 4000];
    const { trace } = run(
      [r],
      (s, t, k) => {
        s.record('gui_step_success_rate', {}, t, rate[k]!);
        s.record('gui_step_avg_duration', {}, t, dur[k]!);
      },
      rate.length,
    );
    expect(trace.map((x) => x.states[0]?.split(':').at(-1))).toEqual([
      'inactive',
      'inactive',
      'inactive',
      'inactive',
      'inactive',
      'inactive',
    ]);
  });

  it('does not flap: fire above 90, resolve only below 85', () => {
    const values = [95, 88, 89, 86, 84];
    const { trace } = run(
      [rule({ recoverThreshold: 85 })],
      (s, t, k) => s.record('gpu_memory_utilization_percent', { gpu: '0' }, t, values[k]!),
      values.length,
    );
    expect(trace.map((x) => x.states[0]!.split(':').at(-1))).toEqual([
      'firing',
      'firing',
      'firing',
      'firing',
      'inactive',
    ]);
  });

  it('the 5xx preset holds through a rate dipping under its line (7.2 % then 4.7 % sent FIRING and RESOLVED 10 s apart)', () => {
    const preset = PRESETS.find((p) => p.id === 'error-rate')!;
    // for: 1m at a 10 s check: firing at the 7th breaching check; then dips, and a real recovery.
    const values = [7.2, 7.2, 7.2, 7.2, 7.2, 7.2, 7.2, 4.7, 6.1, 3.5, 2.5];
    const { trace } = run(
      [{ id: 'preset:error-rate', ...ruleInputSchema.parse(preset.rule) }],
      (s, t, k) => s.record('error_rate_5xx_percent', { endpoint: '*' }, t, values[k]!),
      values.length,
    );
    expect(trace.flatMap((x) => x.changes)).toEqual(['inactive->pending', 'pending->firing', 'firing->inactive']);
    expect(trace.map((x) => x.states[0]!.split(':').at(-1)).slice(6)).toEqual([
      'firing',
      'firing',
      'firing',
      'firing',
      'inactive',
    ]);
  });

  it('keeps firing for keepFiringFor after the condition clears', () => {
    const values = [95, 50, 50, 50, 50];
    const { trace } = run(
      [rule({ keepFiringFor: '25s' })],
      (s, t, k) => s.record('gpu_memory_utilization_percent', { gpu: '0' }, t, values[k]!),
      values.length,
    );
    expect(trace.map((x) => x.states[0]!.split(':').at(-1))).toEqual([
      'firing',
      'firing',
      'firing',
      'inactive',
      'inactive',
    ]);
  });

  it('handles no data as told: keep, ok, or alert', () => {
    const feed = (s: SeriesStore, t: number, k: number) => {
      if (k < 2) s.record('gpu_memory_utilization_percent', { gpu: '0' }, t, 99);
    };
    // keep: a check or two without a value change nothing; once the series is stale (3
    // checks, as the cards and Prometheus' staleness see it) the alert resolves.
    expect(run([rule({ noData: 'keep' })], feed, 6).trace.map((x) => x.states[0]!.split(':').at(-1))).toEqual([
      'firing',
      'firing',
      'firing',
      'firing',
      'inactive',
      'inactive',
    ]);
    expect(run([rule({ noData: 'ok' })], feed, 4).trace.map((x) => x.states[0]?.split(':').at(-1) ?? 'gone')).toEqual([
      'firing',
      'firing',
      'inactive',
      'inactive',
    ]);
    // GPU lost, nothing reported at all: a rule that alerts on no data fires.
    const none = run(
      [rule({ metric: 'gpu_available', op: '<', threshold: 1, noData: 'alert', consecutiveChecks: 2 })],
      () => {},
      3,
    );
    expect(none.trace.map((x) => x.states[0]!.split(':').at(-1))).toEqual(['pending', 'firing', 'firing']);
  });

  it('fires on a surge against the baseline mean (RPS up 300 % on its 10-minute mean)', () => {
    const r = rule({
      metric: 'requests_per_second',
      labels: { endpoint: '*' },
      op: '>',
      threshold: 300,
      surgeBaseline: '10m',
    });
    const values = [...Array(60).fill(10), 45];
    const { trace, states } = run(
      [r],
      (s, t, k) => s.record('requests_per_second', { endpoint: '*' }, t, values[k]!),
      values.length,
    );
    expect(trace.at(-2)!.states[0]).toContain('inactive');
    expect(trace.at(-1)!.states[0]).toContain('firing');
    expect([...states.values()][0]!.value).toBeCloseTo(350, 6);
  });

  it('rejects rules that make no sense, naming the field', () => {
    const bad = (r: object) =>
      ruleInputSchema.safeParse({ name: 'x', metric: 'gpu_memory_utilization_percent', op: '>', threshold: 90, ...r })
        .error!.issues[0]!;
    expect(bad({ metric: 'gpu_fun' }).path).toEqual(['metric']);
    expect(bad({ op: '=>' }).path).toEqual(['op']);
    expect(bad({ consecutiveChecks: 3, for: '30s' }).path).toEqual(['for']);
    expect(bad({ for: 'soon' }).path).toEqual(['for']);
    expect(bad({ recoverThreshold: 95 }).path).toEqual(['recoverThreshold']);
    expect(bad({ perRequest: true }).path).toEqual(['perRequest']);
    expect(bad({ channels: ['two words'] }).path).toEqual(['channels', 0]);
  });
});

describe("sample-based rules (NVML's samples between checks)", () => {
  const samples = (aboveSeconds: number) => {
    // Samples every 1/6 s over a 10 s interval, `aboveSeconds` of them at 99 %, the rest at 40 %.
    const out = [];
    for (let k = 0; k < 60; k++)
      out.push({ ts: 1_000_000 + k * 166_667, value: k * 0.166667 < aboveSeconds ? 99 : 40 });
    return out;
  };
  const run1 = (aboveSeconds: number) => {
    const store = new SeriesStore({ intervalMs: I });
    store.record('gpu_utilization_percent', { gpu: '0' }, t0, 40); // the instant reading misses it
    const rules = [
      rule(
        { metric: 'gpu_utilization_percent', op: '>', threshold: 98, sampleSeconds: 5, severity: 'critical' },
        'crit',
      ),
      rule({ metric: 'gpu_utilization_percent', op: '>', threshold: 90, consecutiveChecks: 3 }, 'warn'),
    ];
    return evaluate({
      rules,
      store,
      states: new Map(),
      andStates: new Map(),
      now: t0,
      intervalMs: I,
      samples: (gpu) => (gpu === '0' ? samples(aboveSeconds) : undefined),
    });
  };
  it('fires critical when > 98 % lasted more than 5 s inside the interval, though the check read 40 %', () => {
    const r = run1(6);
    expect(r.changes.map((c) => `${c.ruleId}:${c.to}`)).toEqual(['crit:firing']);
  });
  it('does not fire for a 3 s spike, and the warning rule on the same metric is independent', () => {
    const r = run1(3);
    expect(r.changes).toEqual([]);
    expect([...r.states.values()].map((s) => `${s.ruleId}:${s.state}`).sort()).toEqual([
      'crit:inactive',
      'warn:inactive',
    ]);
  });
});

describe('sample-based rules across checks', () => {
  const PERIOD = 166_667; // NVML samples every 1/6 s on an H100
  /** The samples one check reads: from `fromS` to `toS` seconds, `value(t)` at each. */
  const window = (fromS: number, toS: number, value: (t: number) => number) => {
    const out = [];
    for (let ts = Math.ceil((fromS * 1e6) / PERIOD) * PERIOD; ts < toS * 1e6; ts += PERIOD)
      out.push({ ts, value: value(ts / 1e6) });
    return out;
  };
  /** Checks every `intervalMs`; returns the check (1-based) at which the critical rule fired. */
  const firingCheck = (intervalMs: number, value: (t: number) => number, checks: number) => {
    const store = new SeriesStore({ intervalMs });
    const rules = [
      rule(
        { metric: 'gpu_utilization_percent', op: '>', threshold: 98, sampleSeconds: 5, severity: 'critical' },
        'crit',
      ),
    ];
    let states: States = new Map();
    for (let k = 1; k <= checks; k++) {
      const t = t0 + k * intervalMs;
      store.record('gpu_utilization_percent', { gpu: '0' }, t, 40);
      const samples = window(((k - 1) * intervalMs) / 1000, (k * intervalMs) / 1000, value);
      const r = evaluate({
        rules,
        store,
        states,
        andStates: new Map(),
        now: t,
        intervalMs,
        samples: (gpu) => (gpu === '0' ? samples : undefined),
      });
      states = r.states;
      if (r.changes.some((c) => c.to === 'firing')) return k;
    }
    return null;
  };

  it('"> 98 % for 5 s" fires on a sustained 99 % at a 2 s interval: the run carries over between checks', () => {
    // 99 % for 30 s from the start; checks every 2 s read only 2 s of samples each.
    expect(firingCheck(2_000, () => 99, 15)).toBe(3); // 6 s of samples by the 3rd check, ≥ 5 s
    expect(firingCheck(1_000, () => 99, 30)).toBe(5);
  });

  it('does not join runs across a dip, nor across samples that were lost', () => {
    // 99 % with a dip to 50 % every 4 s: no run reaches 5 s.
    expect(firingCheck(2_000, (t) => (t % 4 < 3.8 ? 99 : 50), 15)).toBeNull();
    // A run ending at one check and one starting 3 s later (samples missing between) are not one run.
    const carried = sampleRuns(
      window(0, 3, () => 99),
      (v) => v > 98,
      null,
    );
    expect(carried.ongoing).not.toBeNull();
    const later = sampleRuns(
      window(6, 9, () => 99),
      (v) => v > 98,
      carried.ongoing,
    );
    expect(later.longestSeconds).toBeCloseTo(3, 1);
    const next = sampleRuns(
      window(3, 6, () => 99),
      (v) => v > 98,
      carried.ongoing,
    );
    expect(next.longestSeconds).toBeCloseTo(6, 1);
  });

  it('still sees a spike between checks at a long interval', () => {
    // 10 s checks, 6 s at 99 % inside one interval, both instant readings at 40 %.
    expect(firingCheck(10_000, (t) => (t >= 12 && t < 18 ? 99 : 40), 3)).toBe(2);
  });
});

describe('evaluate is pure', () => {
  it('changes none of its arguments: the previous states and AND progress stay as they were', () => {
    const store = new SeriesStore({ intervalMs: I });
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, t0, 95);
    store.record('gpu_utilization_percent', { gpu: '0' }, t0, 99);
    const rules = [rule({ consecutiveChecks: 2, and: { metric: 'gpu_utilization_percent', op: '>', threshold: 50 } })];
    const first = evaluate({ rules, store, states: new Map(), andStates: new Map(), now: t0, intervalMs: I });
    const snapshot = JSON.stringify([[...first.states], [...first.andStates]]);
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, t0 + I, 96);
    store.record('gpu_utilization_percent', { gpu: '0' }, t0 + I, 99);
    const second = evaluate({
      rules,
      store,
      states: first.states,
      andStates: first.andStates,
      now: t0 + I,
      intervalMs: I,
    });
    expect(JSON.stringify([[...first.states], [...first.andStates]])).toBe(snapshot);
    expect([...second.states.values()][0]!.state).toBe('firing');
    // Evaluating the same check twice from the same inputs gives the same answer.
    const again = evaluate({
      rules,
      store,
      states: first.states,
      andStates: first.andStates,
      now: t0 + I,
      intervalMs: I,
    });
    expect(JSON.stringify([...again.states])).toBe(JSON.stringify([...second.states]));
  });
});
