// What one line of the structured log is, and who may write one: the shape every part of
// the log (the ring, its search, its summary, its formatting) and its readers share. Kept
// apart from event-log.ts so that the search and the log do not import each other.
import { z } from 'zod';
import { levelSchema } from './level.js';
import { logParamsSchema } from './redact.js';

/**
 * Who writes log lines: the HTTP layer, each model module (the pipeline's module names),
 * the GPU probe and the alert engine. The log filter offers these (GET /api/monitor/catalogue).
 */
export const LOG_MODULES = ['http', 'vlm', 'gui', 'ocr', 'video', 'gpu', 'alert'] as const;
export type LogModule = (typeof LOG_MODULES)[number];

/** One kept line. */
export const logLineSchema = z.object({
  seq: z.number().describe('Its number, counting from 1 since start: GET /api/monitor/logs/{seq}/context'),
  t: z.number().describe('When it was written, ms since the epoch'),
  level: levelSchema,
  module: z.string(),
  event: z.string(),
  params: logParamsSchema.describe('key=value parameters, secrets redacted, images reduced to their size'),
});
export type LogLine = z.infer<typeof logLineSchema>;
