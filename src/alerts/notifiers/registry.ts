// Every kind of alert channel an operator can configure, one line each (console is built
// in and always on). To add a kind: a file beside this one exporting
// defineChannelType({ type, input, stored, merge, view, create }), and its line here.
import { z } from 'zod';
import type { ChannelType } from '../channel-type.js';
import { alertmanagerChannel } from './alertmanager.js';
import { emailChannel } from './email.js';
import { webhookChannel } from './webhook.js';

/** In the order Settings → Channels offers them (webhook first: chat robots are the usual start). */
export const CHANNEL_TYPES: readonly ChannelType[] = [webhookChannel, emailChannel, alertmanagerChannel];

export const channelType = (type: string): ChannelType | undefined => CHANNEL_TYPES.find((t) => t.type === type);

/** One channel as the API takes it, whatever its kind (for the OpenAPI description). */
export const channelBodySchema = z.union(CHANNEL_TYPES.map((t) => t.input));
/** The whole list as PUT takes it. */
export const channelListBodySchema = z.strictObject({ channels: z.array(channelBodySchema) });
