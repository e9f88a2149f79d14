// The wire shape of reasons as codes (src/reasons.ts), for the answers that carry them.
import { z } from 'zod';
import { REASON_TEMPLATES, type ReasonCode } from './reasons.js';

const isReasonCode = (code: string): code is ReasonCode => Object.hasOwn(REASON_TEMPLATES, code);

const reasonDetailSchema = z.object({
  code: z.string().refine(isReasonCode, 'a code of src/reasons.ts').describe('A code of src/reasons.ts'),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

/** Reasons as codes with parameters: what the UI words in its language. */
export const reasonPartsSchema = z
  .array(reasonDetailSchema.extend({ details: z.array(reasonDetailSchema).optional() }))
  .describe('The reason as codes with parameters (src/reasons.ts): what the UI words in its language');
