// A search answers with its lines by event, counted over every match in the ring (not
// only the page returned): the counts add up to the lines matched, each entry's filter
// narrows the search to exactly its lines, at most 12 events are named (the rest are
// "other"), and the count costs time linear in the ring.
import { describe, expect, it } from 'vitest';
import { EventLog, type LogLine } from '../../src/log/event-log.js';
import { EventTally, SUMMARY_EVENTS } from '../../src/log/log-summary.js';

const clock = () => 1_800_000_000_000;

/** An incident's OCR log: mostly low confidence, some cut-off uploads, a few failures. */
function incidentLog(capacity = 10_000): EventLog {
  const log = new EventLog({ sampleRate: 1, clock, capacity });
  for (let i = 0; i < 1_000; i++) {
    if (i % 2 === 0) log.warn('ocr', 'Low-confidence OCR', { confidence: 0.38, dimensions: '3264x2448' });
    if (i % 11 === 0) log.warn('ocr', 'Image preproc failed', { reason: 'truncated JPEG', dimensions: '3264x2448' });
    if (i % 50 === 0) log.error('ocr', 'Model server error', { status: 500 });
    if (i % 3 === 0) log.info('ocr', 'OCR done', { confidence: 0.95, dimensions: '640x480' });
    log.info('vlm', 'Chat completion', { stream: false });
  }
  return log;
}

describe('the search summary', () => {
  it('counts `WARN ocr` by event over the whole ring, the counts adding up to the lines matched', async () => {
    const log = incidentLog();
    const r = await log.search({ q: 'WARN ocr', limit: 10 });
    expect(r.lines).toHaveLength(10); // the page is ten lines; the summary counts all 591
    expect(r.matched).toBe(500 + 91);
    expect(r.summary.events).toEqual([
      { event: 'Low-confidence OCR', level: 'WARN', count: 500, filter: 'event="Low-confidence OCR"' },
      { event: 'Image preproc failed', level: 'WARN', count: 91, filter: 'event="Image preproc failed"' },
    ]);
    expect(r.summary.other).toEqual({ events: 0, count: 0 });
  });

  it('names the most severe events first, and each filter narrows the search to exactly its lines', async () => {
    const log = incidentLog();
    const r = await log.search({ q: 'ocr' });
    expect(r.summary.events.map((e) => [e.event, e.count])).toEqual([
      ['Model server error', 20],
      ['Low-confidence OCR', 500],
      ['Image preproc failed', 91],
      ['OCR done', 334],
    ]);
    expect(r.summary.events.reduce((a, e) => a + e.count, 0)).toBe(r.matched);
    for (const e of r.summary.events) {
      const narrowed = await log.search({ q: `ocr ${e.filter}` });
      expect(narrowed.matched).toBe(e.count);
      expect(narrowed.summary.events).toEqual([e]);
    }
  });

  it('names at most 12 events and counts the rest as other', async () => {
    const log = new EventLog({ sampleRate: 1, clock, capacity: 1_000 });
    for (let e = 0; e < 20; e++) for (let i = 0; i <= e; i++) log.info('gui', `event ${e}`);
    log.error('gui', 'rare but severe');
    const r = await log.search({ q: 'gui' });
    expect(r.summary.events).toHaveLength(SUMMARY_EVENTS);
    expect(r.summary.events[0]).toMatchObject({ event: 'rare but severe', count: 1, level: 'ERROR' });
    expect(r.summary.events[1]).toMatchObject({ event: 'event 19', count: 20 });
    expect(r.summary.events.at(-1)).toMatchObject({ event: 'event 9', count: 10 });
    // Events 0–8: 1 + 2 + … + 9 lines.
    expect(r.summary.other).toEqual({ events: 9, count: 45 });
    expect(r.summary.events.reduce((a, e) => a + e.count, 0) + r.summary.other.count).toBe(r.matched);
  });

  it('has nothing to say about an empty answer, and no filter for a name it cannot quote', async () => {
    const log = incidentLog();
    expect((await log.search({ q: 'nothing-like-this' })).summary).toEqual({
      events: [],
      other: { events: 0, count: 0 },
    });
    const tally = new EventTally();
    tally.add({ seq: 1, t: 0, level: 'INFO', module: 'http', event: 'said "hi"', params: {} });
    expect(tally.summary().events[0]!.filter).toBeNull();
  });

  it('costs time linear in the ring, even when every line is a different event', async () => {
    /** The fastest of five searches of a ring of n lines, each line its own event. */
    const timeOf = async (n: number) => {
      const log = new EventLog({ sampleRate: 1, clock, capacity: n });
      for (let i = 0; i < n; i++) log.warn('ocr', `event ${i}`, { i });
      let fastest = Infinity;
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        await log.search({ q: 'WARN ocr' }, n);
        fastest = Math.min(fastest, performance.now() - t);
      }
      return fastest;
    };
    await timeOf(10_000); // warm up
    // Eight times the lines: linear is 8, quadratic 64 (the margin is for caches and a busy machine).
    // The least of up to three ratios: a busy machine pushed one to 24.2 once; a quadratic
    // count is past the line every time (~64).
    let ratio = Infinity;
    for (let attempt = 0; attempt < 3 && ratio >= 24; attempt++)
      ratio = Math.min(ratio, (await timeOf(80_000)) / (await timeOf(10_000)));
    expect(ratio).toBeLessThan(24);
  });
});

// The browser's half (public/js/monitor/log-summary.js), loaded as the page loads it.
const { countLive } = (await import(new URL('../../public/js/monitor/log-summary.js', import.meta.url).href)) as {
  countLive: (s: ReturnType<EventTally['summary']>, line: { event: string; level: string }) => void;
};

describe('the summary in the page, as lines arrive live', () => {
  const lines = (events: string[]): LogLine[] =>
    events.map((event, i) => ({
      seq: i,
      t: clock(),
      module: 'ocr',
      params: {},
      event,
      level: i % 5 ? 'WARN' : 'ERROR',
    }));

  it('adds up to the lines matched, and names what the server would name while it named every event', () => {
    for (const [before, live] of [
      [
        ['a', 'b', 'a'],
        ['a', 'c', 'b', 'c'],
      ],
      [Array.from({ length: 30 }, (_, i) => `e${i % 15}`), ['e1', 'new', 'e14', 'other']],
      [[], ['x', 'y']],
    ] as const) {
      const tally = new EventTally();
      for (const l of lines([...before])) tally.add(l);
      const summary = tally.summary();
      for (const l of lines([...live])) countLive(summary, l);
      const total = summary.events.reduce((a, e) => a + e.count, 0) + summary.other.count;
      expect(total).toBe(before.length + live.length);
      if (new Set([...before, ...live]).size <= SUMMARY_EVENTS) {
        const all = new EventTally();
        for (const l of lines([...before, ...live])) all.add(l);
        const byEvent = (s: typeof summary) => Object.fromEntries(s.events.map((e) => [e.event, e.count]));
        expect(byEvent(summary)).toEqual(byEvent(all.summary()));
      }
    }
  });
});
