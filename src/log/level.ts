// A log line's level, lowest first. Its own module: event-log.ts and log-summary.ts import
// each other, and both build schemas from it when they load.
import { z } from 'zod';

export const levelSchema = z.enum(['INFO', 'WARN', 'ERROR']);
export type Level = z.infer<typeof levelSchema>;
export const LEVELS: readonly Level[] = levelSchema.options;
