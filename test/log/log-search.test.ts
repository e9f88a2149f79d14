import { describe, expect, it } from 'vitest';
import { EventLog, LOG_MODULES } from '../../src/log/event-log.js';
import { formatLine } from '../../src/log/log-format.js';
import { parseLogSearch } from '../../src/log/log-search.js';

const now = 1_800_000_000_000;
const clock = () => now;

function tutorialLog(): EventLog {
  const log = new EventLog({ sampleRate: 1, clock, capacity: 10_000 });
  log.warn('ocr', 'Image preproc failed', {
    reason: 'input is 3264x2448, decoding failed',
    image_hash: 'ab3f91c2d4e5f607',
    input_size: '3264x2448',
    request_id: 'req-7',
    client: 'classroom-3',
  });
  log.error('vlm', 'upstream failed', {
    requestId: 'req-8',
    client: 'classroom-3',
    status: 502,
    imageHashes: 'ab3f91c2d4e5f607',
  });
  log.info('ocr', 'OCR done', { image_hash: '0011223344556677', confidence: 0.912345, duration: '842ms' });
  log.warn('alert', 'Alert firing', { rule: 'GPU hot', value: 93.04, labels: JSON.stringify({ gpu: '0' }) });
  log.warn('gui', 'GUI step failed', { reason: 'ocr of the button failed' });
  return log;
}

describe('log search language', () => {
  it('reads the tutorial forms', () => {
    expect(parseLogSearch('WARN ocr', LOG_MODULES)).toEqual({
      levels: ['WARN'],
      modules: ['ocr'],
      events: [],
      params: [],
      terms: [],
    });
    expect(parseLogSearch('ERROR vlm', LOG_MODULES)).toEqual({
      levels: ['ERROR'],
      modules: ['vlm'],
      events: [],
      params: [],
      terms: [],
    });
    expect(parseLogSearch('image_hash=ab3f', LOG_MODULES)).toEqual({
      levels: [],
      modules: [],
      events: [],
      params: [{ key: 'imagehash', value: 'ab3f' }],
      terms: [],
    });
    expect(parseLogSearch('preproc "ocr" reason="input is"', LOG_MODULES)).toEqual({
      levels: [],
      modules: [],
      events: [],
      params: [{ key: 'reason', value: 'input is' }],
      terms: ['preproc', 'ocr'],
    });
  });

  it('narrows to one event by its whole name, `event="…"` (what a click on the summary adds)', () => {
    const log = tutorialLog();
    expect(parseLogSearch('WARN event="Image preproc failed"', LOG_MODULES).events).toEqual(['image preproc failed']);
    expect(log.query({ q: 'event="image preproc FAILED"' }).map((l) => l.event)).toEqual(['Image preproc failed']);
    // The whole name: a part of it is free text's job.
    expect(log.query({ q: 'event=preproc' })).toEqual([]);
    expect(log.query({ q: 'ocr event="GUI step failed"' })).toEqual([]);
  });

  it('reads dimensions typed with × as the log writes them (3264x2448)', () => {
    expect(
      tutorialLog()
        .query({ q: '3264×2448' })
        .map((l) => l.event),
    ).toEqual(['Image preproc failed']);
    expect(tutorialLog().query({ q: 'input_size=3264 × 2448' })).toHaveLength(1);
  });

  it('finds the preprocessing failure with `WARN ocr`, and not the GUI line that mentions OCR', () => {
    const found = tutorialLog().query({ q: 'WARN ocr' }).map(formatLine);
    expect(found).toEqual([
      'WARN ocr Image preproc failed reason="input is 3264x2448, decoding failed" image_hash=ab3f91c2d4e5f607 input_size=3264x2448 request_id=req-7 client=classroom-3',
    ]);
  });

  it('finds ERROR vlm, an image hash under any of its spellings, and free text', () => {
    const log = tutorialLog();
    expect(log.query({ q: 'ERROR vlm' }).map((l) => l.event)).toEqual(['upstream failed']);
    expect(log.query({ q: 'ERROR chat' }).map((l) => l.event)).toEqual(['upstream failed']);
    expect(log.query({ q: 'image_hash=ab3f' }).map((l) => l.event)).toEqual([
      'upstream failed',
      'Image preproc failed',
    ]);
    expect(log.query({ q: 'imageHash=AB3F' })).toHaveLength(2);
    expect(log.query({ q: '3264x2448 decoding' }).map((l) => l.event)).toEqual(['Image preproc failed']);
    expect(log.query({ q: 'gpu=0' }).map((l) => l.event)).toEqual(['Alert firing']);
    expect(log.query({ q: 'nothing-like-this' })).toEqual([]);
  });

  it('formats values for people: rounded numbers, label sets as pairs, no escaped JSON', () => {
    const lines = tutorialLog().query({ limit: 10 }).map(formatLine);
    expect(lines).toContain('WARN alert Alert firing rule="GPU hot" value=93.0 gpu=0');
    expect(lines).toContain('INFO ocr OCR done image_hash=0011223344556677 confidence=0.912 duration=842ms');
  });

  it('searches the whole ring on the server, not the newest lines only', async () => {
    const log = new EventLog({ sampleRate: 1, clock, capacity: 10_000 });
    log.warn('ocr', 'Image preproc failed', { image_hash: 'ab3f' });
    for (let i = 0; i < 9_999; i++) log.info('vlm', 'chat completion', { i });
    const r = await log.search({ q: 'WARN ocr', limit: 200 }, 1_000);
    expect(r).toMatchObject({ matched: 1, scanned: 10_000 });
    expect(r.lines[0]!.event).toBe('Image preproc failed');
  });

  it('gives a line its context: the lines before and after it of the same request, client or module', () => {
    const log = new EventLog({ sampleRate: 1, clock, capacity: 100 });
    log.info('http', 'request received', { requestId: 'r1', client: 'a' });
    log.warn('ocr', 'Low-confidence OCR', { requestId: 'r2', client: 'b' });
    log.warn('ocr', 'Image preproc failed', { request_id: 'r1', client: 'a' });
    const err = log.error('http', 'request failed', { requestId: 'r1', client: 'a' });
    log.info('ocr', 'OCR done', { requestId: 'r3', client: 'a' });
    const byRequest = log.context(err.seq, 'request')!;
    expect(byRequest.lines.map((l) => l.event)).toEqual(['request received', 'Image preproc failed', 'request failed']);
    expect(log.context(err.seq, 'client')!.lines.map((l) => l.event)).toEqual([
      'request received',
      'Image preproc failed',
      'request failed',
      'OCR done',
    ]);
    expect(log.context(err.seq, 'module', 10, 0)!.lines.map((l) => l.event)).toEqual([
      'request received',
      'request failed',
    ]);
    for (let i = 0; i < 100; i++) log.info('vlm', 'x');
    expect(log.context(err.seq, 'request')).toBeUndefined(); // left the ring
  });
});
