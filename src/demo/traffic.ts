// A light, bounded traffic generator for the demo: a few requests a second (chat, some
// streamed, OCR and GUI steps) with a small image, and a burst now and then so the cards move.
import { request } from 'undici';
import { seededRandom } from './fake-upstream.js';

const TINY_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const QUESTIONS = ['What is in this screenshot?', '这张图片里有什么？', 'Read the text in the image.', 'Where is the login button?'];

export interface TrafficOptions {
  baseUrl: string;
  /** Mean requests per second outside bursts. */
  rps: number;
  seed?: number;
}

export function startTraffic(opts: TrafficOptions): () => void {
  const random = seededRandom(opts.seed ?? 7);
  let stopped = false;
  let inFlight = 0;
  const MAX_IN_FLIGHT = 32; // bounded: a slow server slows the generator, never piles up

  /** Mostly chat, some OCR and GUI steps, from a few simulated clients. */
  function nextRequest(): { path: string; body: unknown; client: string } {
    const r = random();
    const client = ['demo-web', 'demo-mobile', 'demo-agent'][Math.floor(random() * 3)]!;
    if (r < 0.15) return { path: '/api/ocr', body: { image: TINY_PNG }, client };
    if (r < 0.3) return { path: '/api/gui/execute', body: { screenshot: TINY_PNG, instruction: 'click the login button' }, client: 'demo-agent' };
    return {
      path: '/v1/chat/completions',
      client,
      body: {
        stream: random() < 0.5,
        max_tokens: 64,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: TINY_PNG } }, { type: 'text', text: QUESTIONS[Math.floor(random() * QUESTIONS.length)] }] }],
      },
    };
  }

  async function one(): Promise<void> {
    inFlight++;
    try {
      const next = nextRequest();
      const res = await request(`${opts.baseUrl}${next.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-client-id': next.client },
        body: JSON.stringify(next.body),
      });
      await res.body.dump();
    } catch {
      // The demo server going away ends the demo; nothing to report per request.
    } finally {
      inFlight--;
    }
  }

  function tick(): void {
    if (stopped) return;
    // Every ~2 minutes, 20 s at four times the rate.
    const burst = Math.floor(Date.now() / 20_000) % 6 === 5;
    const rate = opts.rps * (burst ? 4 : 1);
    if (inFlight < MAX_IN_FLIGHT) void one();
    // Poisson arrivals: exponential gaps.
    const gapMs = (-Math.log(1 - random()) / rate) * 1_000;
    setTimeout(tick, Math.min(gapMs, 5_000)).unref();
  }
  tick();
  return () => {
    stopped = true;
  };
}
