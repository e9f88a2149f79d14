// POST /api/video: a video (MP4/MOV URL or data URL) or pre-extracted frames, and a
// question → the answer. Frames follow Qwen3-VL's sampling (VIDEO_FPS, between
// VIDEO_MIN_FRAMES and VIDEO_MAX_FRAMES); video_frames_per_second = frames understood
// per second of inference; dropped frames are a WARN.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { pickFrames, framesForDuration } from '../pipeline/frame-sampling.js';
import { imageBytes } from '../pipeline/image-input.js';
import type { PreparedImage } from '../pipeline/preprocess.js';
import { readVideoInfo, type VideoInfo } from '../pipeline/video-info.js';
import { parseOrThrow } from '../validation.js';
import { modelRequestOf } from './model-request-hook.js';
import type { ModelRouteOptions } from './model-route-options.js';

export const videoBody = z
  .object({
    video: z.string().min(1).optional(),
    frames: z.array(z.string().min(1)).min(1, { message: 'expected at least one frame' }).max(10_000).optional(),
    /** Rate the frames were extracted at; defaults to VIDEO_FPS. */
    framesFps: z.number().positive().max(240).optional(),
    question: z.string({ message: 'required: what to ask about the video' }).min(1).max(8_000),
  })
  .refine((b) => (b.video === undefined) !== (b.frames === undefined), {
    message: 'send either "video" or "frames", not both or neither',
    path: ['video'],
  });

const CONCURRENCY = 8;

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export async function videoRoutes(app: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const { upstream, log, clock } = opts;
  const stats = opts.modelStats;
  const v = opts.video;

  // An upload: the file itself as the body (Content-Type video/mp4, video/quicktime or
  // application/octet-stream), the question in ?question=.
  app.addContentTypeParser(
    ['video/mp4', 'video/quicktime', 'video/x-m4v', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: v.maxBytes },
    (_req, payload, done) => done(null, payload),
  );

  // The MP4 itself may be VIDEO_MAX_BYTES (its parser's limit); a JSON body stays within
  // BODY_LIMIT_BYTES like every route's: big videos come as the body or as a URL.
  app.post(
    '/api/video',
    {
      config: { monitorGroup: 'model', module: 'video', upload: { maxBytes: v.maxBytes, setting: 'VIDEO_MAX_BYTES' } },
    },
    async (request) => {
      const mr = modelRequestOf(request);
      const uploaded = Buffer.isBuffer(request.body) ? request.body : null;
      const body = uploaded
        ? parseOrThrow(
            z.object({
              question: z.string({ message: 'required: ?question= with an uploaded video' }).min(1).max(8_000),
            }),
            request.query,
          )
        : parseOrThrow(videoBody, request.body);
      const prepared = await mr.timer.run('preprocess', async () => {
        const sent: string | undefined = uploaded ? undefined : (body as z.infer<typeof videoBody>).video;
        if (uploaded || sent !== undefined) {
          const bytes =
            uploaded ??
            (await imageBytes(sent!, 'video', {
              ...opts.imageLimits,
              maxBytes: v.maxBytes,
              maxBytesSetting: 'VIDEO_MAX_BYTES',
            }));
          mr.addEvidence({ bytes: bytes.length });
          const info = readVideoInfo(bytes);
          if (!info)
            throw new AppError(
              'BAD_REQUEST',
              'video: not an MP4/MOV (ISO BMFF) file with a video track; other formats: send "frames" instead',
              { field: 'video' },
            );
          mr.addEvidence({ dimensions: [`${info.width}x${info.height}`] });
          const frames = framesForDuration(info.durationSeconds, v, info.frameCount);
          // Data URLs are sent as they came; URLs are passed for the model server to fetch.
          const url =
            sent !== undefined && /^https?:\/\//i.test(sent)
              ? sent
              : `data:video/mp4;base64,${bytes.toString('base64')}`;
          return { kind: 'video' as const, info, frames, dropped: 0, url };
        }
        const framesBody = body as z.infer<typeof videoBody>;
        const all = framesBody.frames!;
        const keep = pickFrames(all.length, framesBody.framesFps ?? v.fps, v);
        // An unreadable frame is dropped (and logged with its evidence), not the whole video.
        const results = await mapLimited(keep, CONCURRENCY, (idx) =>
          mr.image(all[idx]!, `frames[${idx}]`, opts.imageLimits, v.frameBudget, { drop: true }),
        );
        const images = results.filter((r): r is PreparedImage => r !== null);
        if (images.length < Math.min(v.minFrames, all.length)) {
          throw new AppError(
            'BAD_REQUEST',
            `frames: only ${images.length} readable frames; at least ${v.minFrames} are needed (VIDEO_MIN_FRAMES)`,
            { field: 'frames' },
          );
        }
        return { kind: 'frames' as const, images, frames: images.length, dropped: all.length - images.length };
      });
      if (prepared.dropped > 0) {
        log.warn('video', 'Dropped video frames', {
          received: prepared.frames + prepared.dropped,
          kept: prepared.frames,
          dropped: prepared.dropped,
          fps: v.fps,
          max_frames: v.maxFrames,
          request_id: mr.requestId,
        });
      }

      const content =
        prepared.kind === 'video'
          ? [
              { type: 'video_url', video_url: { url: prepared.url } },
              { type: 'text', text: body.question },
            ]
          : [
              ...prepared.images.map((img) => ({ type: 'image_url', image_url: { url: img.dataUrl } })),
              {
                type: 'text',
                text: `The ${prepared.frames} images above are frames of one video, in order, ${v.fps} per second.\n${body.question}`,
              },
            ];
      const inferenceStart = performance.now();
      const completion = await mr.timer.run('inference', async () => {
        const res = await upstream.postJson(
          '/chat/completions',
          {
            ...(opts.defaultModel ? { model: opts.defaultModel } : {}),
            messages: [{ role: 'user', content }],
            // vLLM/SGLang pass this to the Qwen3-VL processor so it samples as we counted.
            ...(prepared.kind === 'video' ? { mm_processor_kwargs: { fps: v.fps } } : {}),
          },
          mr.clientGone,
          mr.requestId,
        );
        return upstream.readJson<{
          choices?: Array<{ message?: { content?: unknown } }>;
          usage?: { prompt_tokens?: unknown };
        }>(res);
      });
      const inferenceSeconds = (performance.now() - inferenceStart) / 1_000;
      const answer = await mr.timer.run('postprocess', () => {
        const text = completion.choices?.[0]?.message?.content;
        if (typeof text !== 'string')
          throw new AppError('UPSTREAM_BAD_RESPONSE', 'The model server answered without text');
        return text.trim();
      });
      const framesPerSecond = prepared.frames / inferenceSeconds;
      stats?.videoSpeed(framesPerSecond, clock());
      const promptTokens = completion.usage?.prompt_tokens;
      const estimated =
        prepared.kind === 'frames' ? prepared.images.reduce((a, i) => a + i.tokens, 0) : prepared.frames * 256;
      const inputTokens = typeof promptTokens === 'number' ? promptTokens : estimated;
      const inputTokensSource = typeof promptTokens === 'number' ? ('upstream' as const) : ('estimated' as const);
      const durationMs = mr.succeed({
        inputTokens,
        inputTokensSource,
        event: 'Video answered',
        params: { frames: prepared.frames, frames_per_second: Math.round(framesPerSecond * 10) / 10 },
      });
      const video: VideoInfo | null = prepared.kind === 'video' ? prepared.info : null;
      return {
        answer,
        frames: prepared.frames,
        framesSource: prepared.kind === 'video' ? 'requested' : 'sent',
        droppedFrames: prepared.dropped,
        framesPerSecond,
        durationMs,
        stages: mr.timer.times,
        video,
        inputTokens,
        inputTokensSource,
        ...mr.degradation(),
      };
    },
  );
}
