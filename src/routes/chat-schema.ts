// The OpenAI chat-completions request as we accept it. Unknown top-level fields pass
// through to the upstream untouched (engines add their own, e.g. top_k, min_p).
import { z } from 'zod';
import { relayed } from '../route-schema.js';

const imageUrl = z.union([
  z.string().min(1),
  z.looseObject({ url: z.string({ message: 'expected the image as a data URL, base64 or an http(s) URL' }).min(1) }),
]);

const part = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('text'), text: z.string({ message: 'expected a string' }) }),
    z.looseObject({ type: z.literal('image_url'), image_url: imageUrl }),
    z.looseObject({ type: z.literal('video_url'), video_url: imageUrl }),
    z.looseObject({ type: z.literal('video'), video: z.union([z.string(), z.array(z.string())]) }),
    z.looseObject({ type: z.literal('input_audio'), input_audio: z.looseObject({}) }),
  ],
  { message: 'expected a content part of type text, image_url, video_url, video or input_audio' },
);

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool'], {
    message: 'expected system, developer, user, assistant or tool',
  }),
  content: z
    .union([z.string(), z.array(part).min(1, { message: 'expected at least one content part' }), z.null()], {
      message: 'expected a string, an array of content parts or null',
    })
    .optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z
    .array(message, { message: 'expected an array of messages' })
    .min(1, { message: 'expected at least one message' }),
  stream: z.boolean({ message: 'expected true or false' }).optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  n: z.number().int().min(1).max(16).optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** A chat completion as OpenAI's clients read it; the model server's own fields pass too. */
export const chatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.string(),
  created: z.number(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: z.number(),
      message: z.looseObject({ role: z.string(), content: z.string().nullable() }),
      finish_reason: z.string().nullable(),
    }),
  ),
  usage: z
    .looseObject({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .optional(),
});

/** What POST /v1/chat/completions answers: the completion, or with `stream: true` its events. */
export const chatAnswer = {
  content: {
    'application/json': { schema: relayed(chatCompletionSchema) },
    'text/event-stream': {
      schema: relayed(
        z
          .string()
          .describe('Server-sent events: data: {chat.completion.chunk}, one per token or so, then data: [DONE]'),
      ),
    },
  },
};
