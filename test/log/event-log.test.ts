import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/demo/fake-upstream.js';
import { EventLog, formatLine } from '../../src/log/event-log.js';

const clock = () => 1_800_000_000_000;

describe('EventLog', () => {
  it('keeps about 10 % of INFO lines (seeded), and every WARN and ERROR', () => {
    const log = new EventLog({ sampleRate: 0.1, clock, random: seededRandom(3), capacity: 100_000 });
    const n = 20_000;
    for (let i = 0; i < n; i++) log.info('vlm', 'chat completion', { i });
    const kept = n - log.sampledOut;
    // Binomial(20000, 0.1): mean 2000, sd ≈ 42; 5 sd either side.
    expect(kept).toBeGreaterThan(2000 - 5 * 42);
    expect(kept).toBeLessThan(2000 + 5 * 42);
    for (let i = 0; i < 100; i++) log.warn('ocr', 'Low-confidence OCR', { i });
    for (let i = 0; i < 100; i++) log.error('http', 'request failed', { i });
    expect(log.query({ level: 'WARN', limit: 1000 })).toHaveLength(200);
    expect(log.query({ level: 'ERROR', limit: 1000 })).toHaveLength(100);
  });

  it('keeps every INFO line while boosted, then samples again', () => {
    let now = 0;
    const log = new EventLog({ sampleRate: 0.1, clock: () => now, random: seededRandom(5) });
    log.boost(60_000);
    for (let i = 0; i < 100; i++) log.info('gui', 'GUI step executed', {});
    expect(log.sampledOut).toBe(0);
    now = 60_001;
    for (let i = 0; i < 100; i++) log.info('gui', 'GUI step executed', {});
    expect(log.sampledOut).toBeGreaterThan(50);
  });

  it('holds at most its capacity, newest first', () => {
    const log = new EventLog({ sampleRate: 1, clock, capacity: 100 });
    for (let i = 0; i < 250; i++) log.warn('gpu', 'tick', { i });
    const lines = log.query({ limit: 1000 });
    expect(lines).toHaveLength(100);
    expect(lines[0]!.params.i).toBe(249);
    expect(lines.at(-1)!.params.i).toBe(150);
  });

  it('filters by level, module, text and time', () => {
    let now = 1000;
    const log = new EventLog({ sampleRate: 1, clock: () => now });
    log.info('gui', 'GUI step executed', { action: 'click', target: '登录按钮' });
    now = 2000;
    log.warn('ocr', 'Low-confidence OCR', { confidence: 0.42 });
    log.error('http', 'request failed', { status: 502 });
    expect(log.query({ module: 'gui' }).map((l) => l.event)).toEqual(['GUI step executed']);
    expect(log.query({ q: '登录' })).toHaveLength(1);
    expect(log.query({ q: 'CONFIDENCE=0.42' })).toHaveLength(1);
    expect(log.query({ since: 1500 })).toHaveLength(2);
    expect(log.query({ level: 'ERROR' }).map((l) => l.params.status)).toEqual([502]);
  });

  it('never keeps secrets or image bytes, and cuts long model output to 512 characters', () => {
    const log = new EventLog({ sampleRate: 1, clock });
    const image = `data:image/png;base64,${'iVBORw0KGgo'.repeat(400)}`;
    const line = log.error('vlm', 'upstream failed', {
      authorization: 'Bearer sk-live-123',
      apiKey: 'sk-live-123',
      image,
      bare: 'A'.repeat(5000),
      message: 'upstream said: invalid header Bearer sk-live-123 for model',
      output: 'The login button. '.repeat(200),
    });
    const text = JSON.stringify(line);
    expect(text).not.toContain('sk-live-123');
    expect(text).not.toContain('iVBORw0KGgo');
    expect(line.params.image).toBe(`[image omitted, ${image.length} chars]`);
    expect(line.params.message).toBe('upstream said: invalid header Bearer [redacted] for model');
    expect(line.params.output).toBe(`${'The login button. '.repeat(200).slice(0, 512)}…(3600 chars)`);
    expect(line.params.bare).toBe('[image omitted, 5000 chars]');
  });

  it('formats a line the way operators read it', () => {
    const log = new EventLog({ sampleRate: 1, clock });
    const line = log.info('gui', 'GUI step executed', { action: 'click', target: '登录 按钮', duration: '842ms' })!;
    expect(formatLine(line)).toBe('INFO gui GUI step executed action=click target="登录 按钮" duration=842ms');
  });
});
