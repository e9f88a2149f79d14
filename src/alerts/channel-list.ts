// The configured channels as a list, any number of each kind, each with a name rules refer
// to: reading an API body (the list, one channel, or the old `{ email, webhook }` object),
// reading alert-channels.json and upgrading its first version. Every mistake is a 400 that
// names the field as it was sent (`channels[2].urls[0]`, `webhook.url`); write-only fields
// left out keep what was stored under the same name. Pure: bodies in, channels out.
import { z, ZodError } from 'zod';
import { AppError } from '../errors.js';
import { defined } from '../invariant.js';
import { fieldPath, validationError } from '../validation.js';
import { ChannelFieldError, CONSOLE, type Channel } from './channel-type.js';
import { CHANNEL_TYPES, channelItemSchema, channelType, KIND_MESSAGE } from './notifiers/registry.js';

/** Channels at most (besides the console). */
export const MAX_CHANNELS = 50;

const kindOf = z.object({
  type: z.enum(
    CHANNEL_TYPES.map((t) => t.type),
    { message: KIND_MESSAGE },
  ),
});

/** Runs `fn`; its mistakes become the API's 400 at `path` inside `body`. */
function at<T>(body: unknown, path: PropertyKey[], fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ZodError)
      throw validationError(new ZodError(err.issues.map((i) => ({ ...i, path: [...path, ...i.path] }))), body);
    if (err instanceof ChannelFieldError) {
      const field = path.length ? `${fieldPath(path)}.${err.field}` : err.field;
      throw new AppError('VALIDATION_FAILED', `${field}: ${err.reason}`, { field });
    }
    throw err;
  }
}

/** One channel from its body; `previous` is what is stored under its name. */
export function parseChannel(
  body: unknown,
  previous: Channel | undefined,
  root: unknown = body,
  path: PropertyKey[] = [],
): Channel {
  const { type } = at(root, path, () => kindOf.parse(body));
  return at(root, path, () => defined(channelType(type), `channel type ${type}`).accept(body, previous));
}

/**
 * A PUT of the whole list: `{ "channels": [...] }` replaces it (the console may be listed,
 * as GET shows it, and is left as it is). The first version's `{ "email": {...}, "webhook":
 * {...} }` still works: it sets (or, null or left out, removes) the channels named email
 * and webhook, and leaves the others.
 */
/** The first version's body: the channels named email and webhook, each an object or null. */
const legacyChannelsSchema = z.strictObject(
  { email: z.unknown().optional(), webhook: z.unknown().optional() },
  { message: 'expected { "channels": [...] }' },
);

/**
 * The body of a PUT of the whole list, as the route checks and describes it: the list, or
 * the first version's `{ email, webhook }`, not both. The shape only; parseChannelList then
 * merges it with what is stored.
 */
export const channelListBodySchema = z
  .strictObject({
    channels: z
      .array(channelItemSchema)
      .max(MAX_CHANNELS + 1)
      .optional(),
    email: z.unknown().optional().describe("The first version's shape: the channel named email (null removes it)"),
    webhook: z.unknown().optional().describe("The first version's shape: the channel named webhook (null removes it)"),
  })
  .superRefine((body, ctx) => {
    const legacy = (['email', 'webhook'] as const).filter((k) => body[k] !== undefined);
    if (body.channels !== undefined && legacy.length)
      ctx.addIssue({ code: 'unrecognized_keys', keys: legacy, path: [], message: 'expected { "channels": [...] }' });
  });

export function parseChannelList(body: unknown, current: readonly Channel[]): Channel[] {
  const byName = new Map(current.map((c) => [c.name, c]));
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (isObject && !('channels' in body)) {
    const legacy = at(body, [], () => legacyChannelsSchema.parse(body));
    const next = current.filter((c) => c.name !== 'email' && c.name !== 'webhook');
    for (const type of ['email', 'webhook'] as const) {
      const given = legacy[type];
      if (given === null || given === undefined) continue;
      const one = typeof given === 'object' ? { ...given, name: type, type } : given;
      next.push(parseChannel(one, byName.get(type), { [type]: one }, [type]));
    }
    return next;
  }
  const { channels } = at(body, [], () =>
    z
      .strictObject(
        { channels: z.array(z.unknown()).max(MAX_CHANNELS + 1) },
        { message: 'expected { "channels": [...] }' },
      )
      .parse(body),
  );
  const out: Channel[] = [];
  channels.forEach((c, i) => {
    const named = typeof c === 'object' && c !== null ? (c as { name?: unknown; type?: unknown }) : {};
    if (named.name === CONSOLE && (named.type === CONSOLE || named.type === undefined)) return;
    if (named.name === CONSOLE)
      throw new AppError(
        'VALIDATION_FAILED',
        `channels[${i}].name: "console" is the built-in channel; choose another name`,
        { field: `channels[${i}].name` },
      );
    if (typeof named.name === 'string' && out.some((o) => o.name === named.name)) {
      throw new AppError('VALIDATION_FAILED', `channels[${i}].name: another channel is already named "${named.name}"`, {
        field: `channels[${i}].name`,
      });
    }
    out.push(
      parseChannel(c, typeof named.name === 'string' ? byName.get(named.name) : undefined, body, ['channels', i]),
    );
  });
  if (out.length > MAX_CHANNELS)
    throw new AppError('VALIDATION_FAILED', `channels: at most ${MAX_CHANNELS} channels`, { field: 'channels' });
  return out;
}

/** alert-channels.json, version 2: the list, secrets included (the file is mode 0600). */
export const CHANNELS_FILE_VERSION = 2;
export const channelsFileSchema = z.object({
  channels: z.array(z.looseObject({ name: z.string(), type: z.string() })).superRefine((list, ctx) => {
    list.forEach((c, i) => {
      const t = channelType(c.type);
      if (!t) {
        ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `unknown channel type ${c.type}` });
        return;
      }
      try {
        t.load(c);
      } catch (err) {
        for (const issue of err instanceof ZodError ? err.issues : [])
          ctx.addIssue({ code: 'custom', path: [i, ...issue.path], message: issue.message });
      }
    });
  }),
});
export type ChannelsFile = z.infer<typeof channelsFileSchema>;

/**
 * Version 1 held one email and one webhook channel (`{ email, webhook }`): they become the
 * channels named email and webhook, so rules that name them keep working.
 */
export function upgradeChannelsFile(version: number, data: unknown): unknown {
  if (version !== 1 || typeof data !== 'object' || data === null) return data;
  const old = data as { email?: object | null; webhook?: object | null };
  const channels = [];
  if (old.email) channels.push({ ...old.email, name: 'email', type: 'email' });
  if (old.webhook) channels.push({ ...old.webhook, name: 'webhook', type: 'webhook' });
  return { channels };
}

/** The channels a loaded file describes (already validated by channelsFileSchema). */
export const channelsFromFile = (file: ChannelsFile): Channel[] =>
  file.channels.map((c) => defined(channelType(c.type), `channel type ${c.type}`).load(c));

export const channelsToFile = (channels: readonly Channel[]): ChannelsFile => ({
  channels: channels.map((c) => ({ ...c.stored })),
});
