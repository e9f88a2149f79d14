// The webhook channel: its settings (URL and secret write-only, the URL shown masked) and
// its notifier: POST the formatted JSON within timeoutMs, a hard deadline for the whole
// call (connect, answer, body); optional HMAC-SHA256 signature of the body in
// X-Qwen3VL-Signature. 5xx, 429, network errors and timeouts are retried; other 4xx not.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { channelName, defineChannelType, fieldError, keptSecret, timeoutMs, writeOnly } from '../channel-type.js';
import type { AlertSite } from '../alert-site.js';
import { keptUrl, maskUrl } from '../mask-url.js';
import type { Notification, Notifier, SendResult } from '../notifier.js';
import { postJson } from './post-json.js';
import { formatWebhook, WEBHOOK_FORMATS, type WebhookFormat } from './webhook-formats.js';

export const httpUrl = z
  .string()
  .url({ message: 'expected an http(s) URL' })
  .refine((u) => /^https?:\/\//i.test(u), { message: 'expected an http(s) URL' });
const fields = {
  name: channelName,
  type: z.literal('webhook'),
  format: z.enum(WEBHOOK_FORMATS, { message: `expected one of ${WEBHOOK_FORMATS.join(', ')}` }).default('generic'),
  timeoutMs: timeoutMs(5_000),
};

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
  view: (w) => ({ url: maskUrl(w.url), format: w.format, timeoutMs: w.timeoutMs, secretSet: Boolean(w.secret) }),
  create: (w, deps) =>
    webhookNotifier({ url: w.url, format: w.format, secret: w.secret, timeoutMs: w.timeoutMs, site: deps.site }),
});

export interface WebhookConfig {
  url: string;
  format: WebhookFormat;
  secret?: string | undefined;
  timeoutMs: number;
  /** This node's instance label and URL, for the alertmanager format; from the alerts when absent. */
  site?: AlertSite;
}

export function webhookNotifier(cfg: WebhookConfig): Notifier {
  return {
    kind: 'webhook',
    async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
      const body = JSON.stringify(formatWebhook(cfg.format, n, cfg.site));
      const headers: Record<string, string> = {};
      if (cfg.secret)
        headers['x-qwen3vl-signature'] = `sha256=${createHmac('sha256', cfg.secret).update(body).digest('hex')}`;
      // The URL is a secret too: an error that quotes it quotes it masked.
      const o = await postJson({
        url: cfg.url,
        shown: maskUrl(cfg.url),
        body,
        headers,
        timeoutMs: cfg.timeoutMs,
        signal,
      });
      return o.ok ? { ok: true, detail: o.detail } : { ok: false, retry: o.retry, error: o.detail };
    },
  };
}
