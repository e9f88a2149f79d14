// A search's answer by event, counted over every line the search matched (not only the
// page it returns): `WARN ocr` reads `Low-confidence OCR 489 · Image preproc failed 43`,
// each entry the clause that narrows the search to it. One pass, one map entry per
// distinct event, the top kept by bounded insertion: linear in the ring whatever it holds.
import { z } from 'zod';
import type { LogLine } from './log-line.js';
import { levelSchema, type Level } from './level.js';
import { eventFilter } from './log-search.js';

/** Events named one by one; the rest are counted together as "other". */
export const SUMMARY_EVENTS = 12;

export const eventCountSchema = z.object({
  event: z.string(),
  level: levelSchema.describe('The most severe level among its lines (how the UI colours it)'),
  count: z.number(),
  filter: z
    .string()
    .nullable()
    .describe('The search clause that narrows to this event (`event="Image preproc failed"`); null if none can'),
});
export type EventCount = z.infer<typeof eventCountSchema>;

/** The lines a search matched, by event. */
export const logSummarySchema = z.object({
  events: z.array(eventCountSchema).describe(`Most severe first, then most lines; at most ${SUMMARY_EVENTS}`),
  other: z
    .object({ events: z.number(), count: z.number() })
    .describe('Events beyond those, and their lines: the counts add up to the lines matched'),
});
export type LogSummary = z.infer<typeof logSummarySchema>;

const SEVERITY: Record<Level, number> = { INFO: 0, WARN: 1, ERROR: 2 };

/** Which of two events is named first: more severe, then more lines, then by name. */
function before(a: { event: string; level: Level; count: number }, b: typeof a): boolean {
  if (SEVERITY[a.level] !== SEVERITY[b.level]) return SEVERITY[a.level] > SEVERITY[b.level];
  if (a.count !== b.count) return a.count > b.count;
  return a.event < b.event;
}

export class EventTally {
  private readonly byEvent = new Map<string, { level: Level; count: number }>();
  private total = 0;

  add(line: LogLine): void {
    this.total++;
    const seen = this.byEvent.get(line.event);
    if (!seen) this.byEvent.set(line.event, { level: line.level, count: 1 });
    else {
      seen.count++;
      if (SEVERITY[line.level] > SEVERITY[seen.level]) seen.level = line.level;
    }
  }

  summary(max = SUMMARY_EVENTS): LogSummary {
    // Insertion into a list of at most `max`: O(distinct events × max), no sort of them all.
    const top: Array<{ event: string; level: Level; count: number }> = [];
    for (const [event, { level, count }] of this.byEvent) {
      const e = { event, level, count };
      const last = top[max - 1];
      if (last && !before(e, last)) continue;
      const at = top.findIndex((t) => before(e, t));
      top.splice(at < 0 ? top.length : at, 0, e);
      if (top.length > max) top.pop();
    }
    const named = top.reduce((a, e) => a + e.count, 0);
    return {
      events: top.map((e) => ({ ...e, filter: eventFilter(e.event) })),
      other: { events: this.byEvent.size - top.length, count: this.total - named },
    };
  }
}
