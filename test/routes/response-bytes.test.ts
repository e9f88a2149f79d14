// response_bytes{endpoint}: the tutorial counts the size of what each endpoint returns.
// A JSON answer is its Content-Length; a stream, the bytes it sent.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, steppedClock, userMessage } from '../helpers.js';
import { blackboardPhoto, dataUrl } from '../pipeline/images.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('response_bytes', () => {
  it('is the mean size of the answers per endpoint, streams included', async () => {
    const fake = await startFakeUpstream({
      behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 0, tokens: 12 },
    });
    const clock = steppedClock();
    const app = await startApp({ UPSTREAM_URL: fake.url }, { clock, probes: false });
    cleanups.push(
      () => fake.close(),
      () => app.close(),
    );
    const a = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await blackboardPhoto(640, 480)) });
    const b = await postJson(`${app.baseUrl}/api/ocr`, { image: dataUrl(await blackboardPhoto(320, 240)) });
    const stream = await request(`${app.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...userMessage(), stream: true }),
    });
    const streamed = Buffer.from(await stream.body.arrayBuffer()).length;
    clock.advance(1_000);
    app.monitor!.check(clock());
    const series = async (endpoint: string) =>
      (
        (await (
          await fetch(
            `${app.baseUrl}/api/monitor/series?metric=response_bytes&labels=${encodeURIComponent(`endpoint=${endpoint},method=POST`)}`,
          )
        ).json()) as any
      ).series[0].points.at(-1)[1];
    expect(await series('/api/ocr')).toBe((Buffer.byteLength(a.text) + Buffer.byteLength(b.text)) / 2);
    expect(await series('/v1/chat/completions')).toBe(streamed);
  });
});
