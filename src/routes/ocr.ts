// POST /api/ocr: an image (and optionally its language) → its text, with a confidence
// from the upstream's logprobs. preprocess (sharp) → inference (upstream) → postprocess;
// how the request ended is accounted for by its ModelRequest.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { meanTokenProbability } from '../pipeline/logprobs.js';
import type { PreparedImage } from '../pipeline/preprocess.js';
import { detectLanguage } from '../pipeline/script-language.js';
import { stageTimesSchema } from '../pipeline/stages.js';
import type { UpstreamSignal } from '../gone-signal.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ZodApp } from '../route-schema.js';
import { modelRequestOf } from './model-request-hook.js';
import type { ModelRouteOptions } from './model-route-options.js';
import { type Completion, completionSchema } from '../upstream/completion.js';

export const ocrBody = z.object({
  image: z.string({ message: 'required: the image as a data URL, base64 or an http(s) URL' }).min(1),
  language: z.string().min(1).max(40).optional(),
});

/** What POST /api/ocr answers: the handler's answer is typed by it, and the API description says it. */
export const ocrAnswer = z.object({
  text: z.string(),
  confidence: z
    .number()
    .nullable()
    .describe('Mean token probability (0–1); null when the model server gives no logprobs'),
  imageHash: z.string(),
  durationMs: z.number(),
  stages: stageTimesSchema,
  image: z.object({
    width: z.number().int(),
    height: z.number().int(),
    originalWidth: z.number().int(),
    originalHeight: z.number().int(),
    resized: z.boolean(),
  }),
  inputTokens: z.number().int(),
  inputTokensSource: z.enum(['upstream', 'estimated']),
  degraded: z.literal(true).optional(),
  degradedReason: z.string().optional(),
});
export type OcrAnswer = z.infer<typeof ocrAnswer>;

export function ocrPrompt(language?: string): string {
  return (
    `Read all the text in this image${language ? ` (language: ${language})` : ''}. ` +
    'Output only the text, keeping line breaks; no commentary.'
  );
}

const ocrRoute = {
  config: { monitorGroup: 'model', module: 'ocr' },
  schema: {
    tags: ['Model'],
    summary: 'The text of an image, with a confidence',
    body: ocrBody,
    response: { 200: ocrAnswer },
  },
} as const;

export async function ocrRoutes(root: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { upstream, clock } = opts;
  const stats = opts.modelStats;

  app.post('/api/ocr', ocrRoute, async (request) => {
    const mr = modelRequestOf(request);
    let confidence: number | null = null;
    // (A body that fails validation never gets here: bad input is no OCR that failed.)
    mr.onEnd((e) => stats?.ocrResult(e.answered, confidence, clock()));
    const body = request.body;
    const image = await mr.timer.run('preprocess', () =>
      mr.image(body.image, 'image', opts.imageLimits, opts.imageBudget),
    );
    const completion = await mr.timer.run('inference', () =>
      callUpstream(
        upstream,
        opts.defaultModel,
        image,
        body.language,
        opts.ocrMaxTokens,
        mr.upstreamSignal,
        mr.requestId,
      ),
    );
    const result = await mr.timer.run('postprocess', () => {
      const choice = completion.choices?.[0];
      const text = typeof choice?.message?.content === 'string' ? choice.message.content.trim() : null;
      if (text === null) throw new AppError('UPSTREAM_BAD_ANSWER', 'The model server answered without text');
      return { text, confidence: meanTokenProbability(choice) };
    });
    confidence = result.confidence;
    const promptTokens = completion.usage?.prompt_tokens;
    const inputTokens = typeof promptTokens === 'number' ? promptTokens : image.tokens;
    const low = confidence !== null && confidence < opts.ocrConfidenceThreshold;
    const lang = body.language ?? detectLanguage(result.text);
    const durationMs = mr.succeed({
      inputTokens,
      inputTokensSource: typeof promptTokens === 'number' ? 'upstream' : 'estimated',
      level: low ? 'WARN' : 'INFO',
      event: low ? 'Low-confidence OCR' : 'OCR done',
      params: {
        image_hash: image.hash,
        confidence: confidence === null ? null : round(confidence, 3),
        ...(low ? { threshold: opts.ocrConfidenceThreshold } : { chars: result.text.length }),
        lang: lang ?? 'unknown',
        ...(image.degraded ? { degraded: true } : {}),
      },
    });
    if (confidence !== null) opts.ocrSamples?.offer({ image, confidence, lang, requestId: mr.requestId, at: clock() });
    const answer: OcrAnswer = {
      text: result.text,
      confidence,
      imageHash: image.hash,
      durationMs,
      stages: mr.timer.times,
      image: {
        width: image.width,
        height: image.height,
        originalWidth: image.originalWidth,
        originalHeight: image.originalHeight,
        resized: image.resized,
      },
      inputTokens,
      inputTokensSource: typeof promptTokens === 'number' ? 'upstream' : 'estimated',
      ...mr.degradation(),
    };
    return answer;
  });
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

async function callUpstream(
  upstream: UpstreamClient,
  model: string | undefined,
  image: PreparedImage,
  language: string | undefined,
  maxTokens: number,
  signal: UpstreamSignal,
  requestId: string,
): Promise<Completion> {
  const res = await upstream.postJson(
    '/chat/completions',
    {
      ...(model ? { model } : {}),
      temperature: 0,
      logprobs: true,
      max_tokens: maxTokens,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: image.dataUrl } },
            { type: 'text', text: ocrPrompt(language) },
          ],
        },
      ],
    },
    signal,
    requestId,
  );
  return upstream.readJson(res, completionSchema, 'a chat completion');
}
