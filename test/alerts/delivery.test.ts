import { describe, expect, it } from 'vitest';
import { ChannelQueue, type Attempt } from '../../src/alerts/delivery.js';
import type { Notification, Notifier, SendResult } from '../../src/alerts/notifier.js';

const note = (id: string): Notification => ({ id, status: 'firing', alerts: [] });

function recorder(results: SendResult[]) {
  const sent: string[] = [];
  const notifier: Notifier = {
    kind: 'webhook',
    async send(n) {
      sent.push(n.id);
      return results.shift() ?? { ok: true };
    },
  };
  return { notifier, sent };
}

describe('ChannelQueue', () => {
  it('retries with exponential backoff while the notifier says so, and records each attempt', async () => {
    const { notifier, sent } = recorder([
      { ok: false, retry: true, error: 'HTTP 500' },
      { ok: false, retry: true, error: 'HTTP 502' },
      { ok: true },
    ]);
    const waits: number[] = [];
    const attempts: Attempt[] = [];
    const q = new ChannelQueue(notifier, {
      clock: () => 0,
      baseDelayMs: 1000,
      sleep: async (ms) => {
        waits.push(ms);
      },
      onAttempt: (a) => attempts.push(a),
    });
    q.enqueue(note('a'));
    await q.idle();
    expect(sent).toEqual(['a', 'a', 'a']);
    expect(waits).toEqual([1000, 2000]);
    expect(attempts.map((a) => [a.attempt, a.ok, a.final])).toEqual([
      [1, false, false],
      [2, false, false],
      [3, true, true],
    ]);
  });

  it('does not retry what the notifier calls permanent', async () => {
    const { notifier, sent } = recorder([{ ok: false, retry: false, error: 'HTTP 400' }]);
    const attempts: Attempt[] = [];
    const q = new ChannelQueue(notifier, { clock: () => 0, sleep: async () => {}, onAttempt: (a) => attempts.push(a) });
    q.enqueue(note('a'));
    await q.idle();
    expect(sent).toEqual(['a']);
    expect(attempts[0]).toMatchObject({ ok: false, final: true, detail: 'HTTP 400' });
  });

  it('rate-limits a channel: the 4th message in a minute waits, none is lost', async () => {
    const { notifier, sent } = recorder([]);
    let now = 0;
    const waits: number[] = [];
    const q = new ChannelQueue(notifier, {
      clock: () => now,
      perMinute: 3,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
      onAttempt: () => {},
    });
    for (const id of ['a', 'b', 'c', 'd']) q.enqueue(note(id));
    await q.idle();
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
    expect(waits).toEqual([60_000]);
  });

  it('refuses loudly when full, and records what was still queued at close', async () => {
    const attempts: Attempt[] = [];
    let release!: () => void;
    const blocked: Notifier = {
      kind: 'email',
      send: () =>
        new Promise((r) => {
          release = () => r({ ok: true });
        }),
    };
    const q = new ChannelQueue(blocked, {
      clock: () => 0,
      maxQueue: 2,
      sleep: async () => {},
      onAttempt: (a) => attempts.push(a),
    });
    expect(q.enqueue(note('a'))).toBe(true); // being sent
    expect(q.enqueue(note('b'))).toBe(true);
    expect(q.enqueue(note('c'))).toBe(true);
    expect(q.enqueue(note('d'))).toBe(false);
    expect(attempts.at(-1)).toMatchObject({ notificationId: 'd', detail: 'queue full: not sent', final: true });
    q.close();
    expect(attempts.filter((a) => a.detail.startsWith('not sent')).map((a) => a.notificationId)).toEqual(['b', 'c']);
    await new Promise((r) => setImmediate(r)); // the worker reaches send('a')
    release();
    await q.idle();
  });
});
