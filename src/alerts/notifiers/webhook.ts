// Webhook: POST the formatted JSON with a timeout; optional HMAC-SHA256 signature of the
// body in X-Qwen3VL-Signature. 5xx, 429 and network errors are retried; other 4xx not.
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { Notification, Notifier, SendResult } from '../notifier.js';
import { formatWebhook, type WebhookFormat } from './webhook-formats.js';

export interface WebhookConfig {
  url: string;
  format: WebhookFormat;
  secret?: string | undefined;
  timeoutMs: number;
}

export function webhookNotifier(cfg: WebhookConfig): Notifier {
  return {
    kind: 'webhook',
    async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
      const body = JSON.stringify(formatWebhook(cfg.format, n));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'qwen3vl-monitor' };
      if (cfg.secret) headers['x-qwen3vl-signature'] = `sha256=${createHmac('sha256', cfg.secret).update(body).digest('hex')}`;
      try {
        const res = await request(cfg.url, { method: 'POST', body, headers, signal: AbortSignal.any([signal, AbortSignal.timeout(cfg.timeoutMs)]) });
        const answer = (await res.body.text()).slice(0, 200);
        if (res.statusCode < 300) return { ok: true, detail: `HTTP ${res.statusCode}` };
        return { ok: false, retry: res.statusCode >= 500 || res.statusCode === 429, error: `HTTP ${res.statusCode}: ${answer}` };
      } catch (err) {
        const e = err as Error;
        return { ok: false, retry: true, error: e.name === 'TimeoutError' ? `no answer within ${cfg.timeoutMs} ms` : e.message };
      }
    },
  };
}
