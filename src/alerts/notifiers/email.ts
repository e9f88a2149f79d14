// Email with nodemailer: a pooled SMTP transport with short timeouts. nodemailer retries
// nothing itself; the delivery queue does, for transient failures (connection errors,
// SMTP 4xx), not for permanent ones (SMTP 5xx such as an unknown mailbox).
import nodemailer from 'nodemailer';
import type { Notification, Notifier, SendResult } from '../notifier.js';
import { emailHtml, emailSubject, emailText } from './email-format.js';

export interface EmailConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  to: string[];
  timeoutMs: number;
  /** Accept self-signed certificates (internal relays). */
  allowSelfSigned?: boolean | undefined;
}

export function emailNotifier(cfg: EmailConfig): Notifier & { close(): void } {
  const transport = nodemailer.createTransport({
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure,
    pool: true,
    maxConnections: 2,
    connectionTimeout: cfg.timeoutMs,
    greetingTimeout: cfg.timeoutMs,
    socketTimeout: cfg.timeoutMs * 2,
    ...(cfg.user ? { auth: { user: cfg.user, pass: cfg.password ?? '' } } : {}),
    tls: { rejectUnauthorized: !cfg.allowSelfSigned },
  });
  return {
    kind: 'email',
    async send(n: Notification): Promise<SendResult> {
      try {
        const info = await transport.sendMail({ from: cfg.from, to: cfg.to, subject: emailSubject(n), text: emailText(n), html: emailHtml(n) });
        return { ok: true, detail: `accepted by ${cfg.host}: ${info.accepted.length} recipient(s)` };
      } catch (err) {
        const e = err as { responseCode?: number; message: string; code?: string };
        const permanent = e.responseCode !== undefined && e.responseCode >= 500;
        return { ok: false, retry: !permanent, error: `${e.code ? `${e.code}: ` : ''}${e.message}` };
      }
    },
    close: () => transport.close(),
  };
}
