// Which channels a rule may name: the console and those set up in Settings → Channels. A
// rule naming any other is refused at that channel's field; a preset takes the ones that
// exist and says which it left out. Pure: names in, an answer or an AppError out.
import { AppError } from '../errors.js';

export const channelNotSetUp = (name: string) =>
  `no channel named "${name}"; set one up in Settings → Channels or remove it`;

/**
 * Throws CHANNEL_NOT_SET_UP at `channels[i]` for the first name that is neither set up
 * (`known`, the console included) nor in `kept`: the names an edited rule already had, so
 * that a channel deleted since never makes its rules uneditable (switching one off in an
 * incident must not wait for the channel to be set up again).
 */
export function checkRuleChannels(
  channels: readonly string[],
  known: ReadonlySet<string>,
  kept: ReadonlySet<string> = new Set(),
): void {
  for (const [i, name] of channels.entries()) {
    if (known.has(name) || kept.has(name)) continue;
    const field = `channels[${i}]`;
    throw new AppError('CHANNEL_NOT_SET_UP', `${field}: ${channelNotSetUp(name)}`, { field });
  }
}

/** A preset's channels split into those that exist (kept, in its order) and those not set up. */
export function presetChannels(
  wanted: readonly string[],
  known: ReadonlySet<string>,
): { channels: string[]; notSetUp: string[] } {
  return {
    channels: wanted.filter((c) => known.has(c)),
    notSetUp: wanted.filter((c) => !known.has(c)),
  };
}
