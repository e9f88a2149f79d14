// Silences: one-off windows (start/end) and recurring daily windows in a time zone (e.g.
// 01:50–02:10 Asia/Shanghai for a model hot update), for all rules or matching ones.
// Pure: whether an alert is silenced is a function of (silence, alert, now).
import { z } from 'zod';
import { defined } from '../invariant.js';
import { labelMatchers, SEVERITIES } from './rule-schema.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a time of day as HH:MM' });
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as Asia/Shanghai or UTC' },
);

/** A stored silence's matchers, as written before its labels were checked (it still loads). */
const matcherShape = {
  ruleId: z.string().optional(),
  severity: z.enum(SEVERITIES).optional(),
  labels: z.record(z.string(), z.string()).optional(),
};
/** A new one's: its labels held to the rules' (a label named "" or __name__ matches no alert). */
const inputMatcherShape = { ...matcherShape, labels: labelMatchers.optional() };

const onceShape = {
  kind: z.literal('once'),
  startsAt: z.iso.datetime({ offset: true, message: 'expected an ISO time such as 2026-11-25T01:50:00+08:00' }),
  endsAt: z.iso.datetime({ offset: true, message: 'expected an ISO time such as 2026-11-25T02:10:00+08:00' }),
  comment: z.string().max(500).default(''),
};
const dailyShape = {
  kind: z.literal('daily'),
  start: hhmm,
  end: hhmm,
  timeZone: timeZone.default('UTC'),
  comment: z.string().max(500).default(''),
};
const endsAfterStart: [(s: { startsAt: string; endsAt: string }) => boolean, { message: string; path: string[] }] = [
  (s) => Date.parse(s.endsAt) > Date.parse(s.startsAt),
  { message: 'expected endsAt after startsAt', path: ['endsAt'] },
];
const aWindow: [(s: { start: string; end: string }) => boolean, { message: string; path: string[] }] = [
  (s) => s.start !== s.end,
  { message: 'expected a window: start and end differ', path: ['end'] },
];

/** A silence as the API takes it: strict, an unknown key is an error. */
export const silenceInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ ...onceShape, matchers: z.strictObject(inputMatcherShape).default({}) }).refine(...endsAfterStart),
    z.strictObject({ ...dailyShape, matchers: z.strictObject(inputMatcherShape).default({}) }).refine(...aWindow),
  ],
  { message: 'expected kind "once" or "daily"' },
);

/** As the silences file holds one. */
export const storedSilenceSchema = z.discriminatedUnion('kind', [
  z
    .object({ ...onceShape, matchers: z.object(matcherShape).default({}), id: z.string(), createdAt: z.number() })
    .refine(...endsAfterStart),
  z
    .object({ ...dailyShape, matchers: z.object(matcherShape).default({}), id: z.string(), createdAt: z.number() })
    .refine(...aWindow),
]);

/** A silence as it is kept and as the API answers it. */
export const silenceAnswerSchema = z.intersection(
  silenceInputSchema,
  z.object({ id: z.string(), createdAt: z.number().describe('ms since the epoch') }),
);
export type Silence = z.infer<typeof silenceAnswerSchema>;

export interface SilenceTarget {
  ruleId: string;
  severity: string;
  labels: Record<string, string>;
}

/** Minutes since local midnight in a time zone. */
export function minutesOfDay(now: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (t: string) => {
    const part = parts.find((p) => p.type === t);
    return Number(defined(part, `the ${t} of the time in ${tz}`).value);
  };
  return get('hour') * 60 + get('minute');
}

const toMinutes = (hm: string) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5));

export function silenceActive(s: Silence, now: number): boolean {
  if (s.kind === 'once') return now >= Date.parse(s.startsAt) && now < Date.parse(s.endsAt);
  const m = minutesOfDay(now, s.timeZone);
  const start = toMinutes(s.start);
  const end = toMinutes(s.end);
  // A window like 23:50–00:10 crosses midnight.
  return start < end ? m >= start && m < end : m >= start || m < end;
}

export function silenceMatches(s: Silence, a: SilenceTarget): boolean {
  const m = s.matchers;
  if (m.ruleId && m.ruleId !== a.ruleId) return false;
  if (m.severity && m.severity !== a.severity) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (a.labels[k] !== v) return false;
  return true;
}

/** The silence that mutes this alert now, if any. */
export function silencedBy(silences: readonly Silence[], a: SilenceTarget, now: number): Silence | undefined {
  return silences.find((s) => silenceMatches(s, a) && silenceActive(s, now));
}
