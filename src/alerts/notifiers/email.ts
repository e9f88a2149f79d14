// The email channel: its settings (SMTP server, sender, recipients; the password
// write-only) and its notifier. nodemailer with a pooled SMTP transport with short
// timeouts, and a hard deadline of timeoutMs for each message (a server that accepts and
// never answers, or drips, is given up on, and its connections replaced). nodemailer
// retries nothing itself; the delivery queue does, for transient failures (connection
// errors, timeouts, SMTP 4xx), not for permanent ones (SMTP 5xx such as an unknown mailbox).
import nodemailer from 'nodemailer';
import { z } from 'zod';
import { DeadlineExceeded, withDeadline } from '../../deadline.js';
import {
  channelName,
  defineChannelType,
  keptSecret,
  timeoutMs,
  writeOnly,
  type ChannelNotifier,
} from '../channel-type.js';
import { delivered, type Notification, type SendResult } from '../notifier.js';
import { emailHtml, emailSubject, emailText } from './email-format.js';

const address = z.string().email({ message: 'expected an email address' });
const fields = {
  name: channelName,
  type: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().min(1).optional(),
  from: address,
  to: z.array(address).min(1, { message: 'expected at least one recipient' }),
  timeoutMs: timeoutMs(10_000),
  /** Accept self-signed certificates (internal relays). */
  allowSelfSigned: z.boolean().default(false),
};
const stored = z.object({ ...fields, password: z.string().min(1).optional() });

/** What the API shows of an email channel besides its name and kind (channelViewSchema adds those). */
export const emailShown = z.object({
  host: z.string(),
  port: z.number().int(),
  secure: z.boolean(),
  user: z.string().nullable(),
  from: z.string(),
  to: z.array(z.string()),
  timeoutMs: z.number().int(),
  allowSelfSigned: z.boolean(),
  passwordSet: z.boolean(),
});

export const emailChannel = defineChannelType({
  type: 'email',
  input: z.strictObject({ ...fields, password: writeOnly }),
  stored,
  merge: (input, previous) => ({ ...input, password: keptSecret(input.password, previous?.password) }),
  shown: emailShown,
  view: (e) => ({
    host: e.host,
    port: e.port,
    secure: e.secure,
    user: e.user ?? null,
    from: e.from,
    to: e.to,
    timeoutMs: e.timeoutMs,
    allowSelfSigned: e.allowSelfSigned,
    passwordSet: Boolean(e.password),
  }),
  create: (e, deps) => emailNotifier({ ...e, readSample: deps.readSample }),
});

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
  /** Reads an OCR sample's thumbnail, attached to the mail (shown inline by its cid). */
  readSample?: ((file: string) => Promise<Buffer | null>) | undefined;
}

/** The thumbnails the alerts carry, as inline attachments (a sample no longer kept is left out). */
async function sampleAttachments(
  n: Notification,
  read: EmailConfig['readSample'],
): Promise<Array<{ filename: string; content: Buffer; cid: string; contentType: string }>> {
  if (!read) return [];
  const files = [...new Set(n.alerts.flatMap((a) => a.context.samples ?? []).map((s) => s.file))];
  const out = [];
  for (const file of files) {
    const content = await read(file);
    if (content) out.push({ filename: `ocr-sample-${file}`, content, cid: file, contentType: 'image/jpeg' });
  }
  return out;
}

export function emailNotifier(cfg: EmailConfig): ChannelNotifier & { close(): void } {
  const connect = () =>
    nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      pool: true,
      maxConnections: 2,
      connectionTimeout: cfg.timeoutMs,
      greetingTimeout: cfg.timeoutMs,
      socketTimeout: cfg.timeoutMs,
      ...(cfg.user ? { auth: { user: cfg.user, pass: cfg.password ?? '' } } : {}),
      tls: { rejectUnauthorized: !cfg.allowSelfSigned },
    });
  let transport = connect();
  return {
    kind: 'email',
    async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
      try {
        const attachments = await sampleAttachments(n, cfg.readSample);
        const info = await withDeadline(cfg.timeoutMs, signal, () =>
          transport.sendMail({
            from: cfg.from,
            to: cfg.to,
            subject: emailSubject(n),
            text: emailText(n),
            html: emailHtml(n, new Set(attachments.map((a) => a.cid))),
            attachments,
          }),
        );
        return delivered({ code: 'MAIL_ACCEPTED', params: { host: cfg.host, count: info.accepted.length } });
      } catch (err) {
        if (err instanceof DeadlineExceeded) {
          // The pooled connection is stuck: drop it, the next message gets a fresh one.
          const stuck = transport;
          transport = connect();
          stuck.close();
          return {
            ok: false,
            retry: true,
            error: `${cfg.host}:${cfg.port} did not accept the message within ${cfg.timeoutMs} ms`,
          };
        }
        const e = err as { responseCode?: number; message: string; code?: string };
        const permanent = e.responseCode !== undefined && e.responseCode >= 500;
        return { ok: false, retry: !permanent, error: `${e.code ? `${e.code}: ` : ''}${e.message}` };
      }
    },
    close: () => transport.close(),
  };
}
