import { describe, expect, it } from 'vitest';
import { silenceActive, silenceInputSchema, silencedBy, type Silence } from '../../src/alerts/silence.js';

const make = (input: object): Silence => ({ id: 's1', createdAt: 0, ...silenceInputSchema.parse(input) }) as Silence;

describe('silences', () => {
  it('daily windows follow the time zone, also across midnight', () => {
    const hotUpdate = make({ kind: 'daily', start: '01:50', end: '02:10', timeZone: 'Asia/Shanghai' });
    expect(silenceActive(hotUpdate, Date.parse('2026-11-25T01:55:00+08:00'))).toBe(true);
    expect(silenceActive(hotUpdate, Date.parse('2026-11-25T01:55:00Z'))).toBe(false); // 09:55 in Shanghai
    expect(silenceActive(hotUpdate, Date.parse('2026-11-25T02:10:00+08:00'))).toBe(false); // end is exclusive
    const night = make({ kind: 'daily', start: '23:50', end: '00:10', timeZone: 'America/New_York' });
    expect(silenceActive(night, Date.parse('2026-11-25T23:55:00-05:00'))).toBe(true);
    expect(silenceActive(night, Date.parse('2026-11-26T00:05:00-05:00'))).toBe(true);
    expect(silenceActive(night, Date.parse('2026-11-26T00:15:00-05:00'))).toBe(false);
  });

  it('one-off windows run from start to end', () => {
    const s = make({ kind: 'once', startsAt: '2026-11-25T10:00:00Z', endsAt: '2026-11-25T11:00:00Z' });
    expect(silenceActive(s, Date.parse('2026-11-25T09:59:59Z'))).toBe(false);
    expect(silenceActive(s, Date.parse('2026-11-25T10:30:00Z'))).toBe(true);
    expect(silenceActive(s, Date.parse('2026-11-25T11:00:00Z'))).toBe(false);
  });

  it('matches all rules or only matching ones', () => {
    const now = Date.parse('2026-11-25T10:30:00Z');
    const all = make({ kind: 'once', startsAt: '2026-11-25T10:00:00Z', endsAt: '2026-11-25T11:00:00Z' });
    const gpu1 = make({
      kind: 'once',
      startsAt: '2026-11-25T10:00:00Z',
      endsAt: '2026-11-25T11:00:00Z',
      matchers: { labels: { gpu: '1' }, severity: 'warning' },
    });
    const alert = (gpu: string, severity = 'warning') => ({ ruleId: 'r', severity, labels: { gpu } });
    expect(silencedBy([all], alert('0'), now)).toBe(all);
    expect(silencedBy([gpu1], alert('0'), now)).toBeUndefined();
    expect(silencedBy([gpu1], alert('1'), now)).toBe(gpu1);
    expect(silencedBy([gpu1], alert('1', 'critical'), now)).toBeUndefined();
  });

  it('says what is wrong with a silence', () => {
    const issue = (o: object) => silenceInputSchema.safeParse(o).error!.issues[0]!;
    expect(issue({ kind: 'daily', start: '25:00', end: '02:00' }).path).toEqual(['start']);
    expect(issue({ kind: 'daily', start: '01:00', end: '02:00', timeZone: 'Mars/Olympus' }).path).toEqual(['timeZone']);
    expect(issue({ kind: 'once', startsAt: '2026-11-25T11:00:00Z', endsAt: '2026-11-25T10:00:00Z' }).path).toEqual([
      'endsAt',
    ]);
    expect(issue({ kind: 'weekly' }).message).toContain('once');
    // Label matchers as a rule's: a name "" or __name__, or an empty value, matches no alert.
    const daily = { kind: 'daily', start: '01:00', end: '02:00', timeZone: 'UTC' };
    expect(issue({ ...daily, matchers: { labels: { '': 'x' } } }).path).toEqual(['matchers', 'labels', '']);
    expect(issue({ ...daily, matchers: { labels: { __name__: 'y' } } }).path).toEqual([
      'matchers',
      'labels',
      '__name__',
    ]);
    expect(issue({ ...daily, matchers: { labels: { gpu: '' } } }).message).toContain('expected a value');
    expect(silenceInputSchema.safeParse({ ...daily, matchers: { labels: { gpu: '0' } } }).success).toBe(true);
  });
});
