// POST /api/video: a video (MP4/MOV as the body, a URL or a data URL) or pre-extracted
// frames, and a question → the answer. Frames follow Qwen3-VL's sampling (VIDEO_FPS,
// between VIDEO_MIN_FRAMES and VIDEO_MAX_FRAMES); video_frames_per_second = frames
// understood per second of inference; dropped frames are a WARN. A video, however it came,
// is spooled to a file (video-upload.ts), read by its boxes (video-info.ts), and sent to
// the model server as a data URL streamed from that file (streamed-json.ts): the bytes that
// were checked, never a URL for the model server to fetch again, never whole in memory.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { pickFrames, framesForDuration } from '../pipeline/frame-sampling.js';
import type { PreparedImage } from '../pipeline/preprocess.js';
import { readVideoFileInfo, type VideoInfo } from '../pipeline/video-info.js';
import { spoolBase64, spoolUrl } from '../pipeline/video-input.js';
import { SpoolFile } from '../pipeline/video-spool.js';
import { JsonSplicer } from '../upstream/streamed-json.js';
import type { ZodApp } from '../route-schema.js';
import { modelRequestOf } from './model-request-hook.js';
import type { ModelRouteOptions } from './model-route-options.js';
import { completionSchema } from '../upstream/completion.js';
import { VIDEO_TYPES, VideoUploads, type VideoUpload } from './video-upload.js';
import { videoAnswer, type VideoAnswer } from './video-schema.js';

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
  const next = items.entries();
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      // One iterator shared by the workers: each takes the next item.
      for (const [i, item] of next) out[i] = await fn(item, i);
    }),
  );
  return out;
}

/** The body: JSON (a video or frames, and the question), or the MP4 itself with ?question=. */
const videoRequest = z.union([
  videoBody,
  z.instanceof(SpoolFile).meta({
    type: 'string',
    format: 'binary',
    description:
      'The MP4/MOV itself (Content-Type video/mp4, video/quicktime or application/octet-stream), with ?question=',
  }),
]);

export async function videoRoutes(root: FastifyInstance, opts: ModelRouteOptions): Promise<void> {
  const app: ZodApp = root.withTypeProvider();
  const { upstream, log, clock } = opts;
  const stats = opts.modelStats;
  const v = opts.video;
  const uploads = new VideoUploads(v);
  const videoLimits = { ...opts.imageLimits, maxBytes: v.maxBytes, maxBytesSetting: 'VIDEO_MAX_BYTES' };
  const leftovers = await uploads.spool.clearLeftovers();
  if (leftovers > 0)
    log.warn('video', 'Removed leftover uploads', {
      files: leftovers,
      reason: 'a previous process stopped mid-upload',
    });

  // An upload: the file itself as the body (Content-Type video/mp4, video/quicktime or
  // application/octet-stream), the question in ?question=. It goes to a file, not a Buffer.
  app.addContentTypeParser(VIDEO_TYPES, uploads.parse);

  // The MP4 itself may be VIDEO_MAX_BYTES; a JSON body stays within BODY_LIMIT_BYTES like
  // every route's: big videos come as the body or as a URL.
  app.post(
    '/api/video',
    {
      config: { monitorGroup: 'model', module: 'video', upload: { maxBytes: v.maxBytes, setting: 'VIDEO_MAX_BYTES' } },
      onRequest: uploads.onRequest,
      schema: {
        tags: ['Model'],
        summary: 'An answer about a video (MP4/MOV, a URL, or frames); the MP4 may also be the body',
        consumes: ['application/json', ...VIDEO_TYPES],
        body: videoRequest,
        querystring: z.strictObject({
          question: z.string().min(1).max(8_000).optional().describe('With an uploaded video: what to ask about it'),
        }),
        response: { 200: videoAnswer },
      },
    },
    async (request) => {
      const upload = uploads.of(request);
      try {
        return await answer(request, request.body, request.query.question, upload);
      } finally {
        await upload.end();
      }
    },
  );

  /** `sent`: the body as validated; `question`: ?question=, for an uploaded video. */
  async function answer(
    request: FastifyRequest,
    sent: z.infer<typeof videoRequest>,
    question: string | undefined,
    upload: VideoUpload,
  ) {
    const mr = modelRequestOf(request);
    const uploaded = sent instanceof SpoolFile ? sent : null;
    const json = sent instanceof SpoolFile ? null : sent;
    const asked = json ? json.question : question;
    if (asked === undefined)
      throw new AppError('VALIDATION_FAILED', 'question: required: ?question= with an uploaded video', {
        field: 'question',
      });
    const prepared = await mr.timer.run('preprocess', async () => {
      const given = json?.video;
      let file = uploaded;
      if (!file && given !== undefined) {
        // A URL is a large upload of ours: it takes a slot before the first byte is fetched.
        const isUrl = /^https?:\/\//i.test(given);
        if (isUrl) upload.reserve(false);
        file = upload.adopt(await uploads.spool.create());
        await (isUrl ? spoolUrl(given, file, videoLimits) : spoolBase64(given, file, videoLimits));
        await file.finish();
      }
      if (file) {
        // The client left while its video was written: the file is gone with it.
        if (file.isDisposed) throw new AppError('CLIENT_CLOSED', 'The client closed the request during its upload');
        mr.addEvidence({ bytes: file.bytes });
        const read = await readVideoFileInfo(file.path);
        if ('problem' in read)
          throw new AppError(
            'BAD_REQUEST',
            `video: not an MP4/MOV (ISO BMFF) file with a video track (${read.problem}); other formats: send "frames" instead`,
            { field: 'video' },
          );
        const { info } = read;
        mr.addEvidence({ dimensions: [`${info.width}x${info.height}`] });
        const frames = framesForDuration(info.durationSeconds, v, info.frameCount);
        return { kind: 'video' as const, info, frames, dropped: 0, file };
      }
      // The body's schema takes a video or frames, exactly one of them.
      if (!json?.frames)
        throw new AppError('VALIDATION_FAILED', 'video: send either "video" or "frames", not both or neither', {
          field: 'video',
        });
      const all = json.frames;
      const keep = pickFrames(all.length, json.framesFps ?? v.fps, v);
      // An unreadable frame is dropped (and logged with its evidence), not the whole video.
      const whyDropped = new Array<AppError | undefined>(keep.length);
      const results = await mapLimited(keep, CONCURRENCY, async (idx, i) => {
        const frame = all[idx];
        if (frame === undefined) return null;
        return mr.image(frame, `frames[${idx}]`, opts.imageLimits, v.frameBudget, {
          drop: true,
          onDrop: (reason) => {
            whyDropped[i] = reason;
          },
        });
      });
      const images = results.filter((r): r is PreparedImage => r !== null);
      if (images.length < Math.min(v.minFrames, all.length)) {
        const first = whyDropped.find((e) => e !== undefined);
        throw new AppError(
          'BAD_REQUEST',
          `frames: only ${images.length} readable frames; at least ${v.minFrames} are needed (VIDEO_MIN_FRAMES)${first ? `. The first unreadable one: ${first.message}` : ''}`,
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
        ...mr.inputEvidence(),
        request_id: mr.requestId,
        client: mr.client,
      });
    }

    // The big strings (the video, the frames' data URLs) are streamed into the request
    // body in their places, never serialised in one piece (streamed-json.ts).
    const splicer = new JsonSplicer();
    const content =
      prepared.kind === 'video'
        ? [
            {
              type: 'video_url',
              video_url: {
                url: splicer.place({
                  prefix: 'data:video/mp4;base64,',
                  path: prepared.file.path,
                  bytes: prepared.file.bytes,
                }),
              },
            },
            { type: 'text', text: asked },
          ]
        : [
            ...prepared.images.map((img) => ({
              type: 'image_url',
              image_url: { url: splicer.place({ text: img.dataUrl }) },
            })),
            {
              type: 'text',
              text: `The ${prepared.frames} images above are frames of one video, in order, ${v.fps} per second.\n${asked}`,
            },
          ];
    const outgoing = splicer.stream({
      ...(opts.defaultModel ? { model: opts.defaultModel } : {}),
      messages: [{ role: 'user', content }],
      // vLLM/SGLang pass this to the Qwen3-VL processor so it samples as we counted.
      ...(prepared.kind === 'video' ? { mm_processor_kwargs: { fps: v.fps } } : {}),
    });
    const inferenceStart = performance.now();
    const completion = await mr.timer.run('inference', async () => {
      let res: Awaited<ReturnType<typeof upstream.postJsonStream>>;
      try {
        res = await upstream.postJsonStream(
          '/chat/completions',
          outgoing.body,
          outgoing.length,
          mr.upstreamSignal,
          mr.requestId,
        );
      } finally {
        // The model server has the video (it answers once it has read it): the slot and the file go.
        await upload.end();
      }
      return upstream.readJson(res, completionSchema, 'a chat completion');
    });
    const inferenceSeconds = (performance.now() - inferenceStart) / 1_000;
    const text = await mr.timer.run('postprocess', () => {
      const text = completion.choices?.[0]?.message?.content;
      if (typeof text !== 'string') throw new AppError('UPSTREAM_BAD_ANSWER', 'The model server answered without text');
      return text.trim();
    });
    const framesPerSecond = prepared.frames / inferenceSeconds;
    stats?.videoSpeed(framesPerSecond, clock(), prepared.frames);
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
    const result: VideoAnswer = {
      answer: text,
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
    return result;
  }
}
