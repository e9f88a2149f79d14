// What one scrape of /metrics costs on a typical node: the demo's two simulated GPUs, the
// model server's gauges, traffic on every module, a Monitor tab open, the load balancer's
// health checks. Prints the series count and the bytes, plain and gzipped (the README's
// Prometheus section quotes them), and holds them under a budget.
import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { SimulatedGpus } from '../../src/demo/simulated-gpus.js';
import { postJson, startApp, steppedClock, userMessage, type TestApp } from '../helpers.js';

interface Scrape {
  status: number;
  encoding: string | undefined;
  body: Buffer;
}

/** One GET /metrics as Prometheus sends it, the body as it came over the wire. */
function scrape(baseUrl: string, acceptEncoding: string | undefined): Promise<Scrape> {
  return new Promise((done, fail) => {
    const headers: Record<string, string> = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    request(`${baseUrl}/metrics`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({ status: res.statusCode!, encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
      );
      res.on('error', fail);
    })
      .on('error', fail)
      .end();
  });
}

const samplesIn = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).length;

let fake: FakeUpstream;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 2, tokenIntervalMs: 0 } });
  const clock = steppedClock();
  app = await startApp({ UPSTREAM_URL: fake.url }, { clock, gpu: new SimulatedGpus({ count: 2 }) });
  const base = app.baseUrl;
  const png = `data:image/png;base64,${(
    await sharp({ create: { width: 320, height: 200, channels: 3, background: '#ddd' } })
      .png()
      .toBuffer()
  ).toString('base64')}`;
  // Every module: chat (one streamed, one refused), the models list, OCR, GUI, video.
  await postJson(`${base}/v1/chat/completions`, userMessage());
  await postJson(`${base}/v1/chat/completions`, { ...userMessage(), stream: true });
  await postJson(`${base}/v1/chat/completions`, { messages: 'not a list' });
  await fetch(`${base}/v1/models`);
  await postJson(`${base}/api/ocr`, { image: png });
  await postJson(`${base}/api/ocr`, { image: 'data:image/png;base64,AAAA' });
  await postJson(`${base}/api/gui/execute`, { screenshot: png, instruction: 'open settings' });
  await postJson(`${base}/api/video`, { frames: [png, png, png, png], question: 'What happens?' });
  // A user's page, an operator's Monitor tab, the load balancer, Prometheus, a stray URL.
  for (const path of [
    '/',
    '/monitor',
    '/api/monitor/snapshot',
    '/api/monitor/catalogue',
    '/api/monitor/model',
    '/api/monitor/series?metric=gpu_utilization_percent',
    '/api/monitor/logs',
    '/api/monitor/alerts/rules',
    '/api/monitor/alerts/active',
    '/api/monitor/alerts/history',
    '/api/monitor/alerts/channels',
    '/api/monitor/alerts/presets',
    '/api/monitor/alerts/silences',
    '/healthz',
    '/readyz',
    '/metrics',
    '/no/such/page',
  ])
    await (await fetch(base + path)).arrayBuffer();
  await app.monitor!.tick(clock());
}, 60_000);

afterAll(async () => {
  await app?.close();
  await fake?.close();
});

describe('the size of one scrape', () => {
  it('prints series and bytes, plain and gzipped, for a typical node and for every route answered once', async () => {
    const rows: string[] = [];
    const measure = async (what: string) => {
      const plain = await scrape(app.baseUrl, undefined);
      const zipped = await scrape(app.baseUrl, 'gzip');
      const text = plain.body.toString('utf8');
      expect(zipped.encoding).toBe('gzip');
      expect(plain.encoding).toBeUndefined();
      const fromGzip = gunzipSync(zipped.body).toString('utf8');
      // The same page either way (but Node's own metrics: a new kind of GC adds a series).
      const ours = (page: string) => page.split('\n').filter((l) => l.startsWith('qwen3vl_')).length;
      expect(ours(fromGzip)).toBe(ours(text));
      rows.push(
        `${what}: ${samplesIn(text)} series, ${(plain.body.length / 1000).toFixed(1)} kB plain (${(gzipSync(plain.body).length / 1000).toFixed(1)} kB gzipped), ${(zipped.body.length / 1000).toFixed(1)} kB as sent to Prometheus (Content-Encoding: ${zipped.encoding ?? 'none'})`,
      );
      return { samples: samplesIn(text), plainBytes: plain.body.length, wireBytes: zipped.body.length };
    };
    const typical = await measure('typical node');
    // Worst case for the endpoint labels: every route of the app has answered once.
    for (const ep of app.monitor!.stats.all()) if (ep.statusTotals.every((n) => n === 0)) ep.record(120, 200, 0, 512);
    const everyRoute = await measure(`every route (${app.monitor!.stats.all().length}) answered once`);
    console.log(rows.join('\n'));
    // The budget the README quotes (measured: 1 465 series, 133 kB, 10.8 kB gzipped; before
    // histograms were kept to the model endpoints, 2 964 series and 283 kB sent plain).
    expect(typical.samples).toBeLessThan(1_600);
    expect(typical.wireBytes).toBeLessThan(16_000);
    expect(everyRoute.samples).toBeLessThan(2_500);
    expect(everyRoute.wireBytes).toBeLessThan(20_000);
    expect(everyRoute.plainBytes).toBeGreaterThan(typical.plainBytes);
  });
});
