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

describe('a threshold in the summary', () => {
  const fired = (metric: string, unit: string, value: number, op: string, threshold: number): SummaryFacts => ({
    metric,
    unit,
    value,
    op,
    threshold,
    resolved: false,
  });

  it('is written as the rule has it, and the value on its own side of it', () => {
    // The webhook said "96.0 % (threshold > 96 %)" for a rule at 95.5 %.
    expect(englishSummary(fired('gpu_utilization_percent', '%', 96, '>', 95.5))).toBe(
      'gpu_utilization_percent = 96 % (threshold > 95.5 %)',
    );
    expect(englishSummary(fired('ocr_confidence_mean', 'ratio', 0.38, '<', 0.385))).toBe(
      'ocr_confidence_mean = 0.38 (threshold < 0.385)',
    );
    // 95.3 % prints as 95 % by itself: beside a line of 95.25 % it would read as under it.
    expect(englishSummary(fired('gpu_utilization_percent', '%', 95.3, '>', 95.25))).toBe(
      'gpu_utilization_percent = 95.3 % (threshold > 95.25 %)',
    );
    expect(englishSummary(fired('latency_ms_p95', 'ms', 2_140, '>', 1_234))).toBe(
      'latency_ms_p95 = 2.14 s (threshold > 1.234 s)',
    );
    // A surge's threshold is a change in %.
    expect(englishSummary({ ...fired('requests_per_second', 'req/s', 410, '>', 250.5), surgeBaseline: '1h' })).toBe(
      'requests_per_second changed 410 % against its 1h mean (threshold > 250.5 %)',
    );
  });
});
