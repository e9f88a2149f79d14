// How a model request that fails after it was counted as answered is told: the client gets
// the 500, and the Monitor an ERROR line under the module and an error count (the 500 of
// a logprob of 710 left no line at all).
import { once } from 'node:events';
import { type AddressInfo, connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/error-handler.js';
import { AppError } from '../../src/errors.js';
import { EventLog } from '../../src/log/event-log.js';
import { ModelStats } from '../../src/metrics/model-stats.js';
import { modelRequestOf, trackModelRequests } from '../../src/routes/model-request-hook.js';
import { steppedClock } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function appWithRoute(handler: (mr: ReturnType<typeof modelRequestOf>) => unknown) {
  const clock = steppedClock();
  const log = new EventLog({ sampleRate: 1, clock });
  const stats = new ModelStats(clock());
  const app = Fastify({ logger: false });
  await app.register(errorHandler, { log });
  trackModelRequests(app, { log, stats, clients: null, clock });
  app.post('/api/ocr', { config: { module: 'ocr' } }, async (request) => handler(modelRequestOf(request)));
  await app.ready();
  cleanups.push(() => app.close());
  return { app, log, stats };
}

describe('ModelRequest', () => {
  it('writes one ERROR line for a failure after the answer was counted, and counts it', async () => {
    const { app, log, stats } = await appWithRoute((mr) => {
      mr.onEnd(() => {
        throw new RangeError('Invalid value: Infinity');
      });
      mr.succeed({ inputTokens: 10, inputTokensSource: 'upstream', event: 'OCR done', params: {} });
      return { text: 'never sent' };
    });
    const res = await app.inject({ method: 'POST', url: '/api/ocr', payload: {} });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
    await expect.poll(() => log.query({ level: 'ERROR' })).toHaveLength(1);
    expect(log.query({ level: 'ERROR' })[0]).toMatchObject({
      module: 'ocr',
      event: 'Internal error',
      params: { code: 'INTERNAL', status: 500, phase: 'after_answer', message: 'Invalid value: Infinity' },
    });
    expect(stats.failures.has('ocr:INTERNAL')).toBe(true);
  });

  it('writes nothing more for a failure the request already ended with', async () => {
    const { app, log } = await appWithRoute((mr) => {
      throw mr.fail(new AppError('UPSTREAM_ERROR', 'the model server said no', { statusCode: 500 }));
    });
    expect((await app.inject({ method: 'POST', url: '/api/ocr', payload: {} })).statusCode).toBe(500);
    await expect.poll(() => log.query({ level: 'ERROR' })).toHaveLength(1);
    expect(log.query({ level: 'ERROR' })[0]).toMatchObject({ module: 'ocr', event: 'Model server error' });
  });

  it('tells the model server client and later code alike that the client went away', async () => {
    let started!: () => void;
    const inHandler = new Promise<void>((r) => {
      started = r;
    });
    let seen!: (s: { early: boolean; gone: boolean; signals: boolean }) => void;
    const result = new Promise<{ early: boolean; gone: boolean; signals: boolean }>((r) => {
      seen = r;
    });
    const { app } = await appWithRoute(async (mr) => {
      const before = mr.clientGone; // an AbortSignal made before the client left
      const early = before.aborted;
      started();
      await once(mr.upstreamSignal, 'abort');
      // One made after it left is aborted from the start.
      seen({ early, gone: mr.isClientGone, signals: before.aborted && mr.clientGone.aborted });
      return {};
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    socket.write('POST /api/ocr HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    await inHandler;
    socket.destroy();
    expect(await result).toEqual({ early: false, gone: true, signals: true });
  });
});
