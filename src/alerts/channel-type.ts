// What a kind of alert channel is, after Alertmanager's notify/<integration>/ and Uptime
// Kuma's notification providers: its configuration (zod, strict for the API, lenient for
// the file), how its write-only fields survive an edit that leaves them out, what the API
// shows of it, and the notifier it builds. Each kind is one file in notifiers/ and one
// line in notifiers/registry.ts; the rest of the engine sees only `Channel`.
import { z } from 'zod';
import type { AlertSite } from './alert-site.js';
import type { Notifier } from './notifier.js';

/** What a channel's notifier may need from the server. */
export interface ChannelDeps {
  clock: () => number;
  /** The check interval (Alertmanager's `endsAt` allows for four of them). */
  intervalMs: number;
  /** This node's `instance` label (unless a channel names its own) and its absolute URL. */
  site: AlertSite;
  /** Reads an OCR sample's thumbnail (email attaches them). */
  readSample?: (file: string) => Promise<Buffer | null>;
}

export interface ChannelNotifier extends Notifier {
  /** Releases what the notifier holds (pooled SMTP connections). */
  close?(): void;
}

/** The built-in console channel's name: always there, never stored. */
export const CONSOLE = 'console';

/** A channel's name, as rules refer to it. */
export const channelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  message: 'expected a name of letters, digits, "_", "." or "-" (at most 64, e.g. ops-email)',
});

/** Time allowed for one delivery. */
export const timeoutMs = (defaultMs: number) => z.number().int().min(100).max(60_000).default(defaultMs);

/** A write-only field in a body: absent keeps the stored value, null clears it. */
export const writeOnly = z.string().min(1).nullable().optional();

/** The stored value of a write-only field after an edit. */
export function keptSecret(given: string | null | undefined, stored: string | undefined): string | undefined {
  return given === null ? undefined : (given ?? stored);
}

/** A mistake in one field of a channel; the caller says where the channel was (channels[2], webhook, …). */
export class ChannelFieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export const fieldError = (field: string, reason: string) => new ChannelFieldError(field, reason);

/** What the API shows of a channel: its name and kind, then its kind's fields (never a secret). */
export interface ChannelView {
  name: string;
  type: string;
  [field: string]: unknown;
}

export interface ChannelTypeDef<
  In extends z.ZodObject,
  Stored extends z.ZodType<{ name: string; type: string }>,
  Shown extends z.ZodObject,
> {
  readonly type: string;
  /** The body the API takes: strict (an unknown key is an error), write-only fields optional. */
  readonly input: In;
  /** As alert-channels.json holds it, secrets included. */
  readonly stored: Stored;
  /**
   * The channel after an edit: write-only fields left out keep `previous`'s (same name and
   * type). Throws fieldError.
   */
  merge(input: z.infer<In>, previous: z.infer<Stored> | undefined): z.infer<Stored>;
  /** What GET shows besides the name and kind: never a secret, only whether one is set; URLs masked. */
  readonly shown: Shown;
  view(c: z.infer<Stored>, deps: ChannelDeps): z.infer<Shown>;
  create(c: z.infer<Stored>, deps: ChannelDeps): ChannelNotifier;
  /**
   * Re-send every firing alert this often, for receivers that expire alerts not re-sent
   * (Alertmanager); resolved ones are re-sent too, for `resolvedRetentionMs`.
   */
  readonly resend?: { everyMs: number; resolvedRetentionMs: number };
}

/** One configured channel, whatever its kind. */
export interface Channel {
  readonly name: string;
  readonly type: string;
  /** What the file keeps. */
  readonly stored: { name: string; type: string };
  readonly resend: { everyMs: number; resolvedRetentionMs: number } | undefined;
  view(deps: ChannelDeps): ChannelView;
  create(deps: ChannelDeps): ChannelNotifier;
}

export interface ChannelType {
  readonly type: string;
  /** The body the API takes for one channel of this kind: strict, its `type` a literal. */
  readonly input: z.ZodObject;
  /** What the API shows of one channel of this kind (for the OpenAPI description). */
  readonly shown: z.ZodType<ChannelView>;
  /**
   * An API body (already known to be of this type) onto the stored channel of that name.
   * Throws ZodError or fieldError.
   */
  accept(body: unknown, previous: Channel | undefined): Channel;
  /** What the file holds. Throws ZodError. */
  load(data: unknown): Channel;
}

/** Erases a kind's own config type behind `Channel`, so a registry can list kinds side by side. */
export function defineChannelType<
  In extends z.ZodObject,
  Stored extends z.ZodType<{ name: string; type: string }>,
  Shown extends z.ZodObject,
>(def: ChannelTypeDef<In, Stored, Shown>): ChannelType {
  const wrap = (c: z.infer<Stored>): Channel => ({
    name: c.name,
    type: def.type,
    stored: c,
    resend: def.resend,
    view: (deps) => ({ name: c.name, type: def.type, ...def.view(c, deps) }),
    create: (deps) => def.create(c, deps),
  });
  return {
    type: def.type,
    input: def.input,
    shown: z.object({ name: z.string(), type: z.literal(def.type), ...def.shown.shape }),
    accept(body, previous) {
      const input = def.input.parse(body);
      const prev = previous && previous.type === def.type ? def.stored.parse(previous.stored) : undefined;
      return wrap(def.stored.parse(def.merge(input, prev)));
    },
    load: (data) => wrap(def.stored.parse(data)),
  };
}
