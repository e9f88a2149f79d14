// POST /api/video: a video (MP4/MOV URL or data URL) or pre-extracted frames, and a
// question → the answer. Frames follow Qwen3-VL's sampling (VIDEO_FPS, between
// VIDEO_MIN_FRAMES and VIDEO_MAX_FRAMES); video_frames_per_second = frames understood
// per second of inference; dropped frames are a WARN.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { pickFrames, framesForDuration } from '../pipeline/frame-sampling.js';
import { imageBytes } from '../pipeline/image-input.js';
import { prepareImage, type PreparedImage } from '../pipeline/preprocess.js';
import { StageTimer } from '../pipeline/stages.js';
import { readVideoInfo, type VideoInfo } from '../pipeline/video-info.js';
import { parseOrThrow } from '../validation.js';
import { abortOnClientClose } from './client-abort.js';
import { clientId } from './client-id.js';
import type { ModelRouteOptions } from './model-route-options.js';

const videoBody = z
  .object({
    video: z.string().min(1).optional(),
    frames: z.array(z.string().min(1)).min(1, { message: 'expected at least one frame' }).max(10_000).optional(),
    /** Rate the frames were extracted at; defaults to VIDEO_FPS. */
    framesFps: z.number().positive().max(240).optional(),
    question: z.string({ message: 'required: what to ask about the video' }).min(1).max(8_000),
  })
  .refine((b) => (b.video === undefined) !== (b.frames === undefined), { message: 'send either "video" or "frames", not both or neither', path: ['video'] });

const CONCURRENCY = 8;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

export async function videoRoutes(app: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const { upstream, log, clock } = opts;
  const stats = opts.modelStats;
  const v = opts.video;

  // An upload: the file itself as the body (Content-Type video/mp4, video/quicktime or
  // application/octet-stream), the question in ?question=.
  app.addContentTypeParser(['video/mp4', 'video/quicktime', 'video/x-m4v', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: v.maxBytes }, (_req, payload, done) => done(null, payload));

  app.post('/api/video', { config: { monitorGroup: 'model', bodyLimitSetting: 'VIDEO_MAX_BYTES' }, bodyLimit: v.maxBytes }, async (request, reply) => {
    const uploaded = Buffer.isBuffer(request.body) ? request.body : null;
    const body = uploaded
      ? parseOrThrow(z.object({ question: z.string({ message: 'required: ?question= with an uploaded video' }).min(1).max(8_000) }), request.query)
      : parseOrThrow(videoBody, request.body);
    const timer = new StageTimer('video', stats, clock);
    let ok = false;
    try {
      const prepared = await timer.run('preprocess', async () => {
        const sent: string | undefined = uploaded ? undefined : (body as z.infer<typeof videoBody>).video;
        if (uploaded || sent !== undefined) {
          const bytes = uploaded ?? (await imageBytes(sent!, 'video', { maxBytes: v.maxBytes, fetchTimeoutMs: opts.imageLimits.fetchTimeoutMs }));
          const info = readVideoInfo(bytes);
          if (!info) throw new AppError('BAD_REQUEST', 'video: not an MP4/MOV (ISO BMFF) file with a video track; other formats: send "frames" instead', { field: 'video' });
          const frames = framesForDuration(info.durationSeconds, v, info.frameCount);
          // Data URLs are sent as they came; URLs are passed for the model server to fetch.
          const url = sent !== undefined && /^https?:\/\//i.test(sent) ? sent : `data:video/mp4;base64,${bytes.toString('base64')}`;
          return { kind: 'video' as const, info, frames, dropped: 0, url, hash: null };
        }
        const framesBody = body as z.infer<typeof videoBody>;
        const all = framesBody.frames!;
        const keep = pickFrames(all.length, framesBody.framesFps ?? v.fps, v);
        const results = await mapLimited(keep, CONCURRENCY, async (idx) => {
          try {
            return await prepareImage(await imageBytes(all[idx]!, `frames[${idx}]`, opts.imageLimits), `frames[${idx}]`, v.frameBudget);
          } catch (err) {
            log.warn('video', 'Video frame unreadable', { frame: idx, reason: (err as Error).message, client: clientId(request) });
            return null;
          }
        });
        const images = results.filter((r): r is PreparedImage => r !== null);
        if (images.length < Math.min(v.minFrames, all.length)) {
          throw new AppError('BAD_REQUEST', `frames: only ${images.length} readable frames; at least ${v.minFrames} are needed (VIDEO_MIN_FRAMES)`, { field: 'frames' });
        }
        return { kind: 'frames' as const, images, frames: images.length, dropped: all.length - images.length, hash: images[0]?.hash ?? null };
      });
      if (prepared.dropped > 0) {
        log.warn('video', 'Dropped video frames', { received: prepared.frames + prepared.dropped, kept: prepared.frames, dropped: prepared.dropped, fps: v.fps, maxFrames: v.maxFrames });
      }
      if (prepared.hash) request.logContext = { imageHash: prepared.hash, frames: prepared.frames };

      const content = prepared.kind === 'video'
        ? [{ type: 'video_url', video_url: { url: prepared.url } }, { type: 'text', text: body.question }]
        : [
            ...prepared.images.map((img) => ({ type: 'image_url', image_url: { url: img.dataUrl } })),
            { type: 'text', text: `The ${prepared.frames} images above are frames of one video, in order, ${v.fps} per second.\n${body.question}` },
          ];
      const abort = abortOnClientClose(reply);
      const inferenceStart = performance.now();
      const completion = await timer.run('inference', async () => {
        const res = await upstream.postJson('/chat/completions', {
          ...(opts.defaultModel ? { model: opts.defaultModel } : {}),
          messages: [{ role: 'user', content }],
          // vLLM/SGLang pass this to the Qwen3-VL processor so it samples as we counted.
          ...(prepared.kind === 'video' ? { mm_processor_kwargs: { fps: v.fps } } : {}),
        }, abort.signal);
        return (await res.body.json()) as { choices?: Array<{ message?: { content?: unknown } }>; usage?: { prompt_tokens?: unknown } };
      });
      const inferenceSeconds = (performance.now() - inferenceStart) / 1_000;
      const answer = await timer.run('postprocess', () => {
        const text = completion.choices?.[0]?.message?.content;
        if (typeof text !== 'string') throw new AppError('UPSTREAM_BAD_RESPONSE', 'The model server answered without text');
        return text.trim();
      });
      const framesPerSecond = prepared.frames / inferenceSeconds;
      stats?.videoSpeed(framesPerSecond, clock());
      const promptTokens = completion.usage?.prompt_tokens;
      const estimated = prepared.kind === 'frames' ? prepared.images.reduce((a, i) => a + i.tokens, 0) : prepared.frames * 256;
      stats?.inputTokenCount('video', typeof promptTokens === 'number' ? promptTokens : estimated, clock());
      ok = true;
      const durationMs = timer.finish();
      log.info('video', 'Video answered', { frames: prepared.frames, framesPerSecond: Math.round(framesPerSecond * 10) / 10, duration: `${Math.round(durationMs)}ms` });
      const video: VideoInfo | null = prepared.kind === 'video' ? prepared.info : null;
      return {
        answer,
        frames: prepared.frames,
        framesSource: prepared.kind === 'video' ? 'requested' : 'sent',
        droppedFrames: prepared.dropped,
        framesPerSecond,
        durationMs,
        stages: timer.times,
        video,
        inputTokens: typeof promptTokens === 'number' ? promptTokens : estimated,
        inputTokensSource: typeof promptTokens === 'number' ? 'upstream' : 'estimated',
      };
    } finally {
      if (!ok) timer.finish();
      opts.clients?.record(clientId(request), 'video', ok, timer.times.inference ?? 0, clock());
    }
  });
}
