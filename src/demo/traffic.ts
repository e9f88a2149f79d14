// A light, bounded traffic generator for the demo: a few requests a second (chat, some
// streamed, OCR and GUI steps) from several simulated clients, a burst now and then so
// the cards move. Its profile can change while it runs: during the incident scenario
// classrooms upload full-size blackboard photos, a share of them cut off midway.
import { request } from 'undici';
import { seededRandom } from './fake-upstream.js';
import { blackboardPhoto, dataUrl, truncated } from './images.js';

const TINY_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const QUESTIONS = [
  'What is in this screenshot?',
  '这张图片里有什么？',
  'Read the text in the image.',
  'Where is the login button?',
];

export interface TrafficProfile {
  /** Mean requests per second outside bursts. */
  rps: number;
  /** Share of requests that are OCR (the rest: chat and GUI steps). */
  ocrShare: number;
  /** OCR uploads are 3264×2448 photos instead of a tiny PNG. */
  photos: boolean;
  /** Share of photo uploads cut off midway (the client's connection dropped). */
  cutOffShare: number;
}

export interface TrafficOptions {
  baseUrl: string;
  rps: number;
  seed?: number;
}

export interface Traffic {
  setProfile(p: Partial<TrafficProfile>): void;
  stop(): void;
}

export function startTraffic(opts: TrafficOptions): Traffic {
  const random = seededRandom(opts.seed ?? 7);
  let profile: TrafficProfile = { rps: opts.rps, ocrShare: 0.15, photos: false, cutOffShare: 0 };
  let stopped = false;
  let inFlight = 0;
  const MAX_IN_FLIGHT = 32; // bounded: a slow server slows the generator, never piles up
  // Made once: a photo as students take them, and the same photo cut off at 60 %.
  const photos = blackboardPhoto(3264, 2448).then((full) => ({
    full: dataUrl(full),
    cut: dataUrl(truncated(full, 0.6)),
  }));
  photos.catch(() => {});

  /** Mostly chat, some OCR and GUI steps, from a few simulated clients. */
  async function nextRequest(): Promise<{ path: string; body: unknown; client: string }> {
    const r = random();
    const client = ['demo-web', 'demo-mobile', 'demo-agent'][Math.floor(random() * 3)] ?? 'demo-web';
    if (r < profile.ocrShare) {
      if (!profile.photos) return { path: '/api/ocr', body: { image: TINY_PNG }, client };
      const p = await photos;
      const classroom = `classroom-${1 + Math.floor(random() * 6)}`;
      return { path: '/api/ocr', body: { image: random() < profile.cutOffShare ? p.cut : p.full }, client: classroom };
    }
    if (r < profile.ocrShare + (1 - profile.ocrShare) * 0.2)
      return {
        path: '/api/gui/execute',
        body: { screenshot: TINY_PNG, instruction: 'click the login button' },
        client: 'demo-agent',
      };
    return {
      path: '/v1/chat/completions',
      client,
      body: {
        stream: random() < 0.5,
        max_tokens: 64,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: TINY_PNG } },
              { type: 'text', text: QUESTIONS[Math.floor(random() * QUESTIONS.length)] },
            ],
          },
        ],
      },
    };
  }

  async function one(): Promise<void> {
    inFlight++;
    try {
      const next = await nextRequest();
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
    // Every ~2 minutes, 20 s at four times the rate (not while the incident plays).
    const burst = !profile.photos && Math.floor(Date.now() / 20_000) % 6 === 5;
    const rate = profile.rps * (burst ? 4 : 1);
    if (inFlight < MAX_IN_FLIGHT) void one();
    // Poisson arrivals: exponential gaps.
    const gapMs = (-Math.log(1 - random()) / rate) * 1_000;
    setTimeout(tick, Math.min(gapMs, 5_000)).unref();
  }
  tick();
  return {
    setProfile(p) {
      profile = { ...profile, ...p };
    },
    stop() {
      stopped = true;
    },
  };
}
