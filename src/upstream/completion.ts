// A model server's chat completion, as the OCR, GUI and video routes read it, checked at the
// edge: strict in what we read (a first choice with a message whose content is text or
// null, a prompt token count that is a number) and open to whatever else engines add
// (vLLM's prompt_logprobs, SGLang's meta_info, llama.cpp's timings). Token logprobs stay
// loose: pipeline/logprobs.ts leaves out any that is not a probability, by design.
import { z } from 'zod';

export const completionSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({ content: z.string().nullable().optional() }),
        logprobs: z
          .looseObject({
            content: z
              .array(z.looseObject({ logprob: z.unknown() }))
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1, 'no choices'),
  usage: z.looseObject({ prompt_tokens: z.number().int().nonnegative().nullable().optional() }).nullable().optional(),
});

export type Completion = z.infer<typeof completionSchema>;
