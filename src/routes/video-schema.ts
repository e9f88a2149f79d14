// What POST /api/video answers, apart from the route (src/routes/video.ts) so that the
// browser's types (public/js/types.js) can name it without the route's Fastify config.
import { z } from 'zod';
import { stageTimesSchema } from '../pipeline/stages.js';

/** What POST /api/video answers: the handler's answer is typed by it, and the API description says it. */
export const videoAnswer = z.object({
  answer: z.string(),
  frames: z.number().int().describe('Frames the model was given'),
  framesSource: z
    .enum(['requested', 'sent'])
    .describe('requested: sampled by the model server from the video; sent: the client sent frames'),
  droppedFrames: z.number().int().describe('Frames sent that could not be read, left out'),
  framesPerSecond: z.number().describe('Frames understood per second of inference'),
  durationMs: z.number(),
  stages: stageTimesSchema,
  video: z
    .object({
      durationSeconds: z.number(),
      width: z.number().int(),
      height: z.number().int(),
      frameCount: z.number().int(),
      sourceFps: z.number(),
      codec: z.string(),
      mime: z.string(),
    })
    .nullable()
    .describe('The video file as read (MP4/MOV); null when frames were sent'),
  inputTokens: z.number().int(),
  inputTokensSource: z.enum(['upstream', 'estimated']),
  degraded: z.literal(true).optional(),
  degradedReason: z.string().optional(),
});
export type VideoAnswer = z.infer<typeof videoAnswer>;
