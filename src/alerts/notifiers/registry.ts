// Every kind of alert channel an operator can configure, one line each (console is built
// in and always on). To add a kind: a file beside this one exporting
// defineChannelType({ type, input, stored, merge, view, create }), and its line here.
import { z } from 'zod';
import type { ChannelType } from '../channel-type.js';
import { alertmanagerChannel } from './alertmanager.js';
import { emailChannel } from './email.js';
import { webhookChannel } from './webhook.js';

/** In the order Settings → Channels offers them (webhook first: chat robots are the usual start). */
export const CHANNEL_TYPES: readonly [ChannelType, ...ChannelType[]] = [
  webhookChannel,
  emailChannel,
  alertmanagerChannel,
];

export const channelType = (type: string): ChannelType | undefined => CHANNEL_TYPES.find((t) => t.type === type);

const TYPES = CHANNEL_TYPES.map((t) => t.type);
/** The message for a kind that is not one of these: the same wherever a body names one. */
export const KIND_MESSAGE = `expected one of ${TYPES.join(', ')}`;
type Schemas = [z.ZodObject, ...z.ZodObject[]];
const byKind = (schemas: Schemas) =>
  z.discriminatedUnion('type', schemas, {
    error: (issue) => (issue.code === 'invalid_union' ? KIND_MESSAGE : undefined),
  });
/** One schema per kind, picked from each. */
const eachKind = (pick: (t: ChannelType) => z.ZodObject): Schemas => {
  const [first, ...rest] = CHANNEL_TYPES;
  return [pick(first), ...rest.map(pick)];
};

/**
 * One channel as the API takes it, chosen by its `type` (a mistake is named inside that
 * kind: `url`, not "no kind matched"). The shape only: channel-list.ts then keeps the
 * write-only fields left out, and refuses names taken.
 */
export const channelBodySchema = byKind(eachKind((t) => t.input));
/** One channel replaced by name (PUT …/channels/:name): the name may be left out. */
export const channelEditSchema = byKind(eachKind((t) => t.input.partial({ name: true })));
/** An item of the whole list: a channel, or the built-in console as GET lists it (left as it is). */
export const channelItemSchema = byKind([
  z.strictObject({ name: z.literal('console'), type: z.literal('console'), builtIn: z.literal(true).optional() }),
  ...CHANNEL_TYPES.map((t) => t.input),
]);

/** What the API shows of a channel: the built-in console, or one of the kinds above. */
export const channelViewSchema = z.union([
  z.object({ name: z.literal('console'), type: z.literal('console'), builtIn: z.literal(true) }),
  ...CHANNEL_TYPES.map((t) => t.shown),
]);
