// The alert history: every state change, delivery attempt and held-back notice, newest
// kept (5 000 by default), written to its file at most once a minute and at close, so a
// busy minute costs one write and a crash loses at most a minute.
import { z } from 'zod';
import type { JsonFile } from '../json-file.js';
import { reasonPartsSchema } from '../reason-schema.js';

export const HISTORY_SAVE_MS = 60_000;

/** One entry; the file keeps them as they are (keys of other versions too). */
export const historyEntrySchema = z.looseObject({
  at: z.number(),
  kind: z.enum(['state', 'delivery', 'silenced']),
  ruleId: z.string().optional(),
  /** A delivery: the rules whose alerts the notice carried (one notice may group several). */
  ruleIds: z.array(z.string()).optional(),
  severity: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  value: z.number().nullable().optional(),
  /** An AND rule's state change: its second condition's value at the same check. */
  andValue: z.number().nullable().optional(),
  /** The channel's name. */
  channel: z.string().optional(),
  ok: z.boolean().optional(),
  detail: z.string().optional(),
  /** The detail as codes with parameters (src/reasons.ts): what the UI words in its language. */
  detailParts: reasonPartsSchema.optional(),
  /** A stable code for a detail the UI says in its own words (CHANNEL_NOT_SET_UP). */
  code: z.string().optional(),
  attempt: z.number().optional(),
  /** Per-request alerts: the request that raised it. */
  requestId: z.string().optional(),
  client: z.string().optional(),
});
export const historyFileSchema = z.array(historyEntrySchema);
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export interface HistoryQuery {
  ruleId?: string | undefined;
  severity?: string | undefined;
  since?: number | undefined;
  limit?: number | undefined;
}

export class AlertHistory {
  private readonly entries: HistoryEntry[] = [];
  private dirty = false;
  private savedAt = 0;

  constructor(
    private readonly file: JsonFile<typeof historyFileSchema>,
    private readonly limit = 5_000,
    private readonly onSaveError: (reason: string) => void = () => {},
  ) {}

  /** What the file held at start. */
  restore(entries: readonly HistoryEntry[]): void {
    this.entries.push(...entries);
    this.trim();
  }

  push(e: HistoryEntry): void {
    this.dirty = true;
    this.entries.push(e);
    this.trim();
  }

  private trim(): void {
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  /** Newest first. */
  query(q: HistoryQuery): HistoryEntry[] {
    return this.entries
      .filter(
        (h) =>
          (!q.ruleId || h.ruleId === q.ruleId || (h.ruleIds?.includes(q.ruleId) ?? false)) &&
          (!q.severity || h.severity === q.severity) &&
          (q.since === undefined || h.at >= q.since),
      )
      .slice(-(q.limit ?? 200))
      .reverse();
  }

  /** After a check: written when a minute has passed since the last write. */
  saveIfDue(now: number): void {
    if (now - this.savedAt >= HISTORY_SAVE_MS) this.save(now);
  }

  save(now: number): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.savedAt = now;
    try {
      this.file.save(this.entries);
    } catch (err) {
      this.onSaveError((err as Error).message);
    }
  }
}
