// The webhook channel: its settings (URL and secret write-only, the URL shown masked) and
// its notifier: POST the formatted JSON within timeoutMs, a hard deadline for the whole
// call (connect, answer, body). The secret signs: DingTalk's and Feishu's robots as their
// platforms require (chat-robots.ts), any other receiver by an HMAC-SHA256 of the body in
// X-Qwen3VL-Signature. 5xx, 429, network errors, timeouts and a robot's "too fast" code
// are retried; other 4xx and a robot's other refusals not.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { channelName, defineChannelType, fieldError, keptSecret, timeoutMs, writeOnly } from '../channel-type.js';
import type { AlertSite } from '../alert-site.js';
import { keptUrl, maskUrl } from '../mask-url.js';
import type { Notification, Notifier, SendResult } from '../notifier.js';
import { postJson } from './post-json.js';
import { isRobot, MESSAGE_STYLES, type MessageStyle, robotRefusal, robotRequest } from './chat-robots.js';
import { formatWebhook, WEBHOOK_FORMATS, type WebhookFormat } from './webhook-formats.js';

export const httpUrl = z
  .string()
  .url({ message: 'expected an http(s) URL' })
  .refine((u) => /^https?:\/\//i.test(u), { message: 'expected an http(s) URL' });
const fields = {
  name: channelName,
  type: z.literal('webhook'),
  format: z.enum(WEBHOOK_FORMATS, { message: `expected one of ${WEBHOOK_FORMATS.join(', ')}` }).default('generic'),
  /** Chat robots: markdown, a card or blocks (rich), or plain text. */
  style: z.enum(MESSAGE_STYLES, { message: `expected one of ${MESSAGE_STYLES.join(', ')}` }).default('rich'),
  timeoutMs: timeoutMs(5_000),
};

/** What the API shows of a webhook channel besides its name and kind (channelViewSchema adds those). */
export const webhookShown = z.object({
  url: z.string().describe('Masked: what follows the host is hidden'),
  format: z.enum(WEBHOOK_FORMATS),
  style: z.enum(MESSAGE_STYLES),
  timeoutMs: z.number().int(),
  secretSet: z.boolean(),
});

export const webhookChannel = defineChannelType({
  type: 'webhook',
  // The URL carries its own secret (DingTalk's access_token, …): like a secret it may be
  // left out, or sent back masked as the API showed it, to keep the stored one.
  input: z.strictObject({ ...fields, url: httpUrl.optional(), secret: writeOnly }),
  stored: z.object({ ...fields, url: httpUrl, secret: z.string().min(1).optional() }),
  merge(input, previous) {
    const url = keptUrl(input.url, previous?.url);
    if (url === undefined) throw fieldError('url', "required: the receiver's http(s) URL");
    return { ...input, url, secret: keptSecret(input.secret, previous?.secret) };
  },
  shown: webhookShown,
  view: (w) => ({
    url: maskUrl(w.url),
    format: w.format,
    style: w.style,
    timeoutMs: w.timeoutMs,
    secretSet: Boolean(w.secret),
  }),
  create: (w, deps) =>
    webhookNotifier({
      url: w.url,
      format: w.format,
      style: w.style,
      secret: w.secret,
      timeoutMs: w.timeoutMs,
      site: deps.site,
      clock: deps.clock,
    }),
});

export interface WebhookConfig {
  url: string;
  format: WebhookFormat;
  /** Chat robots only; rich when left out. */
  style?: MessageStyle;
  secret?: string | undefined;
  timeoutMs: number;
  /** Robots' signatures carry the time. */
  clock?: () => number;
  /** This node's instance label and URL, for the alertmanager format; from the alerts when absent. */
  site?: AlertSite;
}

export function webhookNotifier(cfg: WebhookConfig): Notifier {
  return {
    kind: 'webhook',
    async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
      const { format } = cfg;
      const headers: Record<string, string> = {};
      let url = cfg.url;
      let body: string;
      if (isRobot(format)) {
        const now = (cfg.clock ?? Date.now)();
        const robot = robotRequest(format, cfg.url, n, { style: cfg.style ?? 'rich', secret: cfg.secret, now });
        url = robot.url;
        body = JSON.stringify(robot.body);
      } else {
        body = JSON.stringify(formatWebhook(format, n, cfg.site));
      }
      // DingTalk and Feishu are signed their own way; any other receiver by our header.
      if (cfg.secret && format !== 'dingtalk' && format !== 'feishu')
        headers['x-qwen3vl-signature'] = `sha256=${createHmac('sha256', cfg.secret).update(body).digest('hex')}`;
      // The URL is a secret too: an error that quotes it quotes it masked.
      const o = await postJson({
        url,
        shown: maskUrl(cfg.url),
        body,
        headers,
        timeoutMs: cfg.timeoutMs,
        signal,
        ...(isRobot(format) ? { refusal: (answer: string) => robotRefusal(format, answer) } : {}),
      });
      return o.ok ? { ok: true, detail: o.detail } : { ok: false, retry: o.retry, error: o.detail };
    },
  };
}
