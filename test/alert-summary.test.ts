// An alert's one-line summary, as mail, webhooks and Alertmanager carry it (the console says
// the same from the same parts): an AND rule's names both conditions with their values, and
// its resolve names the condition that came back.
import { describe, expect, it } from 'vitest';
import { englishSummary, type SummaryFacts } from '../src/alert-summary.js';

const gui = (value: number, duration: number, resolved: boolean): SummaryFacts => ({
  metric: 'gui_step_success_rate',
  unit: '%',
  value,
  op: '<',
  threshold: 85,
  resolved,
  and: { metric: 'gui_step_avg_duration', unit: 'ms', value: duration, op: '>', threshold: 3000 },
});

describe('the summary of an AND rule', () => {
  it('gives both values when it fires', () => {
    expect(englishSummary(gui(80, 4200, false))).toBe(
      'gui_step_success_rate = 80 % (threshold < 85 %) and gui_step_avg_duration = 4.20 s (threshold > 3.00 s)',
    );
  });

  it('names what came back when it resolves: the second, the first, or both', () => {
    expect(englishSummary(gui(80, 2000, true))).toBe('gui_step_avg_duration is back to 2.00 s');
    expect(englishSummary(gui(95, 4200, true))).toBe('gui_step_success_rate is back to 95 %');
    expect(englishSummary(gui(95, 2000, true))).toBe(
      'gui_step_success_rate is back to 95 % and gui_step_avg_duration to 2.00 s',
    );
  });

  it('a rule without AND resolves as before', () => {
    const { and: _, ...plain } = gui(95, 0, true);
    expect(englishSummary(plain)).toBe('gui_step_success_rate is back to 95 %');
  });
});
