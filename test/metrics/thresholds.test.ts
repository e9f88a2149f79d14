// One threshold per metric: a card's warning and critical lines are the enabled rule's that
// watches its metric, else the default; the rule's severity decides which line it sets.
import { describe, expect, it } from 'vitest';
import { ruleInputSchema, type Rule, type RuleInput } from '../../src/alerts/rule-schema.js';
import { PRESETS } from '../../src/alerts/presets.js';
import { metricDef } from '../../src/metrics/catalogue.js';
import { SeriesStore } from '../../src/metrics/series-store.js';
import { healthBy, linesFor, ThresholdBook } from '../../src/metrics/thresholds.js';

const rule = (input: Partial<RuleInput>, id = 'r1'): Rule => ({
  id,
  ...ruleInputSchema.parse({ name: 'a rule', metric: 'error_rate_percent', op: '>', threshold: 3, ...input }),
});
const preset = (id: string): Rule => ({
  id: `preset:${id}`,
  ...ruleInputSchema.parse(PRESETS.find((p) => p.id === id)!.rule),
});
const all = { endpoint: '*' };

describe('the lines a card colours by', () => {
  it("are the catalogue's defaults (the tutorial's) without a rule", () => {
    expect(linesFor('error_rate_percent', all, [])).toEqual({
      direction: 'above',
      warn: { op: '>=', value: 1.5, rule: null },
      crit: { op: '>', value: 5, rule: null },
    });
    expect(linesFor('gpu_memory_utilization_percent', { gpu: '0' }, [])).toEqual({
      direction: 'above',
      warn: { op: '>=', value: 85, rule: null },
      crit: { op: '>', value: 92, rule: null },
    });
    expect(linesFor('active_connections', {}, [])).toEqual({
      direction: 'above',
      warn: { op: '>', value: 30, rule: null },
      crit: { op: '>', value: 40, rule: null },
    });
    expect(linesFor('requests_per_second', all, [])).toBeNull();
  });

  it('colour as the tutorial says: < 1.5 % ok, > 5 % critical; ≤ 30 ok, > 40 critical; 85–92 % warning', () => {
    const colour = (metric: string, v: number) => healthBy(v, linesFor(metric, {}, []));
    expect([1.49, 1.5, 5, 5.01].map((v) => colour('error_rate_percent', v))).toEqual(['ok', 'warn', 'warn', 'crit']);
    expect([30, 31, 40, 41].map((v) => colour('active_connections', v))).toEqual(['ok', 'warn', 'warn', 'crit']);
    expect([84.9, 85, 92, 92.1].map((v) => colour('gpu_memory_utilization_percent', v))).toEqual([
      'ok',
      'warn',
      'warn',
      'crit',
    ]);
  });

  it("take an enabled rule's threshold for the line its severity names, and say which rule", () => {
    const lines = linesFor('error_rate_percent', all, [rule({ severity: 'critical', threshold: 3 })]);
    expect(lines).toEqual({
      direction: 'above',
      warn: { op: '>=', value: 1.5, rule: null },
      crit: { op: '>', value: 3, rule: { id: 'r1', name: 'a rule' } },
    });
    expect(linesFor('error_rate_percent', all, [rule({ severity: 'warning', threshold: 2 })])?.warn).toEqual({
      op: '>',
      value: 2,
      rule: { id: 'r1', name: 'a rule' },
    });
  });

  it('ignore disabled, info, per-request and surge rules, and rules on other series', () => {
    const ignored = [
      rule({ enabled: false, severity: 'critical' }, 'off'),
      rule({ severity: 'info' }, 'info'),
      rule({ severity: 'critical', surgeBaseline: '10m', threshold: 300 }, 'surge'),
      rule({ severity: 'critical', labels: { endpoint: '/api/ocr' } }, 'one endpoint'),
      rule({ severity: 'critical', metric: 'error_rate_5xx_percent' }, 'other metric'),
    ];
    expect(linesFor('error_rate_percent', all, ignored)).toEqual(linesFor('error_rate_percent', all, []));
    // A rule without labels watches every series of its metric: each GPU.
    expect(
      linesFor('gpu_memory_utilization_percent', { gpu: '1' }, [
        rule({ metric: 'gpu_memory_utilization_percent', severity: 'critical', threshold: 95 }),
      ])?.crit?.value,
    ).toBe(95);
  });

  it('take the rule that fires first when several set one line', () => {
    const lines = linesFor('error_rate_percent', all, [
      rule({ severity: 'critical', threshold: 4 }, 'late'),
      rule({ severity: 'critical', threshold: 3, op: '>=' }, 'first'),
      rule({ severity: 'critical', threshold: 3, op: '>' }, 'same value, later'),
    ]);
    expect(lines?.crit).toMatchObject({ op: '>=', value: 3, rule: { id: 'first' } });
  });

  it("drop a default line the rules contradict: a warning rule at the default's critical line leaves no critical line", () => {
    // OCR service degradation: confidence below 0.6 and more than 5 errors a minute, a warning.
    const ocr = preset('ocr-degradation');
    expect(linesFor('ocr_confidence_mean', {}, [ocr])).toEqual({
      direction: 'below',
      warn: { op: '<', value: 0.6, rule: { id: 'preset:ocr-degradation', name: 'OCR service degradation' } },
      crit: null,
    });
    // Its second condition sets the error count's line too.
    expect(linesFor('ocr_error_count', {}, [ocr])?.warn).toMatchObject({ op: '>', value: 5 });
    // A warning rule past the default critical line: the rule decides what that value means.
    const late = rule({ metric: 'gpu_memory_utilization_percent', severity: 'warning', threshold: 95 });
    expect(linesFor('gpu_memory_utilization_percent', {}, [late])).toMatchObject({
      warn: { value: 95 },
      crit: null,
    });
    // A critical rule before the default warning line: no warning band is left.
    const early = rule({ metric: 'gpu_memory_utilization_percent', severity: 'critical', threshold: 80 });
    expect(linesFor('gpu_memory_utilization_percent', {}, [early])).toMatchObject({ warn: null, crit: { value: 80 } });
  });

  it("the 'error-rate' preset watches the 5xx share, the 'P95 latency high' preset the P95 line", () => {
    expect(linesFor('error_rate_5xx_percent', all, [preset('error-rate')])?.crit).toMatchObject({
      op: '>',
      value: 5,
      rule: { name: 'Model endpoints 5xx error rate' },
    });
    // The preset is a warning above 5 s: the catalogue says the same, now named.
    expect(linesFor('latency_ms_p95', all, [preset('p95-latency')])).toEqual({
      direction: 'above',
      warn: { op: '>', value: 5_000, rule: { id: 'preset:p95-latency', name: 'P95 latency high' } },
      crit: { op: '>=', value: 10_000, rule: null },
    });
  });
});

describe('ThresholdBook', () => {
  it("gives the log's low-confidence line: the configured default, then the rule's", () => {
    const rules: Rule[] = [];
    const book = new ThresholdBook(() => rules, { ocr_confidence_mean: { warn: 0.55 } });
    expect(book.ocrLowConfidence()).toBe(0.55);
    expect(book.lines('ocr_confidence_mean', {})?.warn).toEqual({ op: '<', value: 0.55, rule: null });
    rules.push(rule({ metric: 'ocr_confidence_mean', op: '<', threshold: 0.7, severity: 'warning' }));
    expect(book.ocrLowConfidence()).toBe(0.7);
    // Its catalogue default is the OCR_CONFIDENCE_THRESHOLD default.
    expect(metricDef('ocr_confidence_mean')?.thresholds?.warn).toBe(0.6);
  });

  it("takes an AND rule's condition as a line only while its other condition holds", () => {
    // "Unreachable": GPU memory above 30 % matters only with 100 000 requests a second.
    const unreachable = rule({
      severity: 'critical',
      metric: 'gpu_memory_utilization_percent',
      op: '>',
      threshold: 30,
      and: { metric: 'requests_per_second', labels: all, op: '>', threshold: 100_000 },
    });
    const store = new SeriesStore({ intervalMs: 10_000 });
    const book = new ThresholdBook(() => [unreachable], {}, store);
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, 0, 46);
    store.record('requests_per_second', all, 0, 3);
    // The other condition does not hold: the card keeps its own lines, and 46 % is ok.
    const calm = book.lines('gpu_memory_utilization_percent', { gpu: '0' });
    expect(calm).toEqual(linesFor('gpu_memory_utilization_percent', { gpu: '0' }, []));
    expect(healthBy(46, calm)).toBe('ok');
    // It holds: the rule's line is the card's, named, and 46 % is critical as the rule fires.
    store.record('requests_per_second', all, 10_000, 120_000);
    const both = book.lines('gpu_memory_utilization_percent', { gpu: '0' });
    expect(both?.crit).toEqual({ op: '>', value: 30, rule: { id: 'r1', name: 'a rule' } });
    expect(healthBy(46, both)).toBe('crit');
  });

  it("keeps the log's low-confidence line the rule's, whether or not its AND holds now", () => {
    const store = new SeriesStore({ intervalMs: 10_000 });
    const ocr = { ...preset('ocr-degradation'), threshold: 0.5 };
    const book = new ThresholdBook(() => [ocr], { ocr_confidence_mean: { warn: 0.6 } }, store);
    store.record('ocr_error_count', {}, 0, 0);
    expect(book.ocrLowConfidence()).toBe(0.5);
    expect(book.lines('ocr_confidence_mean', {})?.warn?.value).toBe(0.6);
  });
});
