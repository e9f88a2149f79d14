// POST /api/ocr: an image (and optionally its language) → its text, with a confidence
// from the upstream's logprobs. preprocess (sharp) → inference (upstream) → postprocess.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { ModelStats } from '../metrics/model-stats.js';
import { imageBytes } from '../pipeline/image-input.js';
import { meanTokenProbability } from '../pipeline/logprobs.js';
import { prepareImage, type PreparedImage } from '../pipeline/preprocess.js';
import { StageTimer } from '../pipeline/stages.js';
import type { UpstreamClient } from '../upstream/client.js';
import { parseOrThrow } from '../validation.js';
import { abortOnClientClose } from './client-abort.js';
import { clientId } from './client-id.js';
import type { ModelRouteOptions } from './model-route-options.js';

const ocrBody = z.object({
  image: z.string({ message: 'required: the image as a data URL, base64 or an http(s) URL' }).min(1),
  language: z.string().min(1).max(40).optional(),
});

export function ocrPrompt(language?: string): string {
  return `Read all the text in this image${language ? ` (language: ${language})` : ''}. ` +
    'Output only the text, keeping line breaks; no commentary.';
}

export async function ocrRoutes(app: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const { upstream, log, clock } = opts;
  const stats: ModelStats | null = opts.modelStats;

  app.post('/api/ocr', { config: { monitorGroup: 'model' } }, async (request, reply) => {
    const body = parseOrThrow(ocrBody, request.body);
    const timer = new StageTimer('ocr', stats, clock);
    let image: PreparedImage | undefined;
    let ok = false;
    let confidence: number | null = null;
    try {
      image = await timer.run('preprocess', async () => {
        try {
          const prepared = await prepareImage(await imageBytes(body.image, 'image', opts.imageLimits), 'image', opts.imageBudget);
          stats?.ocrPreprocessResult(true, clock());
          return prepared;
        } catch (err) {
          stats?.ocrPreprocessResult(false, clock());
          log.warn('ocr', 'OCR preprocessing failed', { client: clientId(request), reason: (err as Error).message });
          throw err;
        }
      });
      request.logContext = { imageHash: image.hash, imageBytes: image.bytes, imageSize: `${image.originalWidth}x${image.originalHeight}` };
      const completion = await timer.run('inference', () => callUpstream(upstream, opts.defaultModel, image!, body.language, opts.ocrMaxTokens, abortOnClientClose(reply).signal));
      const result = await timer.run('postprocess', () => {
        const choice = completion.choices?.[0];
        const text = typeof choice?.message?.content === 'string' ? choice.message.content.trim() : null;
        if (text === null) throw new AppError('UPSTREAM_BAD_RESPONSE', 'The model server answered without text');
        return { text, confidence: meanTokenProbability(choice) };
      });
      confidence = result.confidence;
      const promptTokens = completion.usage?.prompt_tokens;
      const tokens = typeof promptTokens === 'number' ? promptTokens : image.tokens;
      stats?.inputTokenCount('ocr', tokens, clock());
      ok = true;
      const durationMs = timer.finish();
      if (confidence !== null && confidence < opts.ocrConfidenceThreshold) {
        log.warn('ocr', 'Low-confidence OCR', { image_hash: image.hash, confidence: round(confidence, 3), threshold: opts.ocrConfidenceThreshold, client: clientId(request) });
      } else {
        log.info('ocr', 'OCR done', { image_hash: image.hash, confidence: confidence === null ? null : round(confidence, 3), chars: result.text.length, duration: `${Math.round(durationMs)}ms` });
      }
      return {
        text: result.text,
        confidence,
        imageHash: image.hash,
        durationMs,
        stages: timer.times,
        image: { width: image.width, height: image.height, originalWidth: image.originalWidth, originalHeight: image.originalHeight, resized: image.resized },
        inputTokens: tokens,
        inputTokensSource: typeof promptTokens === 'number' ? 'upstream' : 'estimated',
      };
    } finally {
      if (!ok) timer.finish();
      stats?.ocrResult(ok, confidence, clock());
      opts.clients?.record(clientId(request), 'ocr', ok, timer.times.inference ?? 0, clock());
    }
  });
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

interface Completion {
  choices?: Array<{ message?: { content?: unknown }; logprobs?: { content?: Array<{ logprob?: unknown }> | null } | null }>;
  usage?: { prompt_tokens?: unknown };
}

async function callUpstream(upstream: UpstreamClient, model: string | undefined, image: PreparedImage, language: string | undefined, maxTokens: number, signal: AbortSignal): Promise<Completion> {
  {
    const res = await upstream.postJson('/chat/completions', {
      ...(model ? { model } : {}),
      temperature: 0,
      logprobs: true,
      max_tokens: maxTokens,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image.dataUrl } }, { type: 'text', text: ocrPrompt(language) }] }],
    }, signal);
    try {
      return (await res.body.json()) as Completion;
    } catch (err) {
      throw new AppError('UPSTREAM_BAD_RESPONSE', `The model server's answer is not JSON: ${(err as Error).message}`);
    }
  }
}
