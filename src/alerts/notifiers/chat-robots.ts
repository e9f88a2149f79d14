// The chat robots a webhook channel can speak to, each as its platform's published robot API
// requires: DingTalk's and Feishu/Lark's signing ("加签" / signature verification) from the
// channel's secret, each platform's size limit kept by summarising ("… and 12 more alerts")
// instead of being refused, markdown or a card where the platform renders one (plain text
// still a choice), and the answer read as the platform means it: these robots answer
// HTTP 200 with an error code in the body when they refuse a message. Pure: a notification
// and a clock in, a request out; an answer in, a verdict out.
import { createHmac } from 'node:crypto';
import type { AlertPayload, Notification } from '../notifier.js';
import { alertText, ROBOT_FORMATS, type RobotFormat } from './webhook-formats.js';

export { ROBOT_FORMATS, type RobotFormat };
export const isRobot = (format: string): format is RobotFormat => (ROBOT_FORMATS as readonly string[]).includes(format);

/** `rich`: markdown, a card or blocks, as the platform renders them; `text`: plain text. */
export const MESSAGE_STYLES = ['rich', 'text'] as const;
export type MessageStyle = (typeof MESSAGE_STYLES)[number];

export interface RobotRequest {
  /** The channel's URL, with DingTalk's timestamp and sign appended when it signs. */
  url: string;
  body: Record<string, unknown>;
}

/**
 * The most one message may hold: WeCom's text content 2 048 bytes and markdown 4 096 and
 * Feishu's whole request body 20 KB, as they document them; Slack's text 40 000 characters
 * and a section block's 3 000, counted here in bytes (never more than the characters);
 * DingTalk's content kept to 20 000 bytes, our own bound (its robot has refused far longer
 * ones).
 */
const LIMITS: Record<RobotFormat, Record<MessageStyle, { bytes: number; of: 'content' | 'body' }>> = {
  wecom: { text: { bytes: 2_048, of: 'content' }, rich: { bytes: 4_096, of: 'content' } },
  dingtalk: { text: { bytes: 20_000, of: 'content' }, rich: { bytes: 20_000, of: 'content' } },
  feishu: { text: { bytes: 20 * 1_024, of: 'body' }, rich: { bytes: 20 * 1_024, of: 'body' } },
  slack: { text: { bytes: 40_000, of: 'content' }, rich: { bytes: 3_000, of: 'content' } },
};

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Slack's three escapes: its docs require them in every text it formats. */
export const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * User text (a rule's name, a label, a client's id) in markdown: never a link, emphasis, a
 * tag, a heading or a quote of its own. Only what could make one is escaped, so that the
 * usual "(> 0)" reads as it is.
 */
export const mdEscape = (s: string) => s.replace(/[\\`*_[\]<]/g, (c) => `\\${c}`).replace(/^([#>])/gm, '\\$1');

/** The words at the head of a message: what a phone's notification shows. `esc`: for the rule's name. */
function title(n: Notification, esc: (s: string) => string = (s) => s): string {
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const first = firing[0] ?? n.alerts[0];
  const more = n.alerts.length > 1 ? ` (+${n.alerts.length - 1})` : '';
  return `${n.test ? '[TEST] ' : ''}[${n.status.toUpperCase()}]${first ? ` ${esc(first.ruleName)}` : ''}${more}`;
}

interface Parts {
  head: string;
  alerts: string[];
  link: string;
  /** "… and N more alerts" in this platform's words. */
  more: (n: number) => string;
  join: string;
}

/**
 * As many whole alerts as fit in `fits`, then a line saying how many were left out; an
 * alert too long on its own is cut at a character boundary. The first alerts are kept:
 * the notice lists firing before resolved and the most severe first.
 */
function summarised(p: Parts, fits: (text: string) => boolean): string {
  const compose = (alerts: string[], left: number) =>
    [p.head, ...alerts, ...(left > 0 ? [p.more(left)] : []), p.link].filter(Boolean).join(p.join);
  const withFirst = (kept: number) => compose(p.alerts.slice(0, kept), p.alerts.length - kept);
  // The most alerts that fit, by bisection: a notice of hundreds of alerts is composed a few
  // times, not once per alert left out (fewer alerts never take more room).
  let lo = 0;
  let hi = p.alerts.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(withFirst(mid))) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0) return withFirst(lo);
  // Not even one alert fits whole: the first one, cut.
  let first = p.alerts[0] ?? '';
  const rest = p.alerts.length - 1;
  while (first.length > 0 && !fits(compose([`${first}…`], rest)))
    first = first.slice(0, Math.floor(first.length * 0.9));
  return compose(first ? [`${first}…`] : [], first ? rest : p.alerts.length);
}

function severityWord(a: AlertPayload): string {
  return a.status === 'resolved' ? 'RESOLVED' : a.severity === 'critical' ? 'CRITICAL' : 'WARNING';
}

function labelsOf(a: AlertPayload): string {
  return Object.entries(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** One alert in a platform's markdown (DingTalk, WeCom, Feishu's lark_md). */
function markdownAlert(a: AlertPayload, bold: (s: string) => string): string {
  const labels = labelsOf(a);
  const extra = alertText(a)
    .split('\n')
    .slice(1)
    .map((l) => `> ${mdEscape(l.trim())}`);
  return [
    `${bold(`[${severityWord(a)}] ${mdEscape(a.ruleName)}`)}${labels ? ` (${mdEscape(labels)})` : ''}`,
    mdEscape(a.summary),
    ...extra,
  ].join('\n');
}

function slackAlert(a: AlertPayload): string {
  const labels = labelsOf(a);
  const extra = alertText(a)
    .split('\n')
    .slice(1)
    .map((l) => `> ${slackEscape(l.trim())}`);
  return [
    `*[${severityWord(a)}] ${slackEscape(a.ruleName)}*${labels ? ` (${slackEscape(labels)})` : ''}`,
    slackEscape(a.summary),
    ...extra,
  ].join('\n');
}

const moreAlerts = (n: number) => `… and ${n} more alert${n === 1 ? '' : 's'} (the Monitor lists them all)`;

/** Feishu's card header colour: red for a critical alert firing, orange for a warning, green resolved. */
function cardColour(n: Notification): string {
  if (n.status === 'resolved') return 'green';
  return n.alerts.some((a) => a.status === 'firing' && a.severity === 'critical') ? 'red' : 'orange';
}

/** DingTalk: sign = Base64(HMAC-SHA256(key = secret, timestamp + "\n" + secret)), on the URL. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** Feishu/Lark: sign = Base64(HMAC-SHA256(key = timestamp + "\n" + secret, empty message)), in the body. */
export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

export interface RobotOptions {
  style: MessageStyle;
  /** The platform's signing secret (DingTalk, Feishu); unused by WeCom and Slack, whose URL is the secret. */
  secret?: string | undefined;
  now: number;
}

/** The request one notification makes to a robot. */
export function robotRequest(format: RobotFormat, url: string, n: Notification, o: RobotOptions): RobotRequest {
  const limit = LIMITS[format][o.style];
  const link = n.alerts[0]?.context.monitorUrl ?? '';
  const plain: Parts = {
    head: n.test ? '[TEST]' : '',
    alerts: n.alerts.map(alertText),
    link,
    more: moreAlerts,
    join: '\n',
  };
  const withinContent = (text: string) => bytes(text) <= limit.bytes;
  switch (format) {
    case 'dingtalk': {
      const signed = o.secret ? signedDingtalkUrl(url, o.secret, o.now) : url;
      if (o.style === 'text')
        return { url: signed, body: { msgtype: 'text', text: { content: summarised(plain, withinContent) } } };
      const text = summarised(
        {
          head: `### ${title(n, mdEscape)}`,
          alerts: n.alerts.map((a) => markdownAlert(a, (s) => `**${s}**`)),
          link: link ? `[Open the Monitor](${link})` : '',
          more: moreAlerts,
          join: '\n\n',
        },
        withinContent,
      );
      return { url: signed, body: { msgtype: 'markdown', markdown: { title: title(n), text } } };
    }
    case 'wecom': {
      if (o.style === 'text')
        return { url, body: { msgtype: 'text', text: { content: summarised(plain, withinContent) } } };
      const content = summarised(
        {
          head: `**${title(n, mdEscape)}**`,
          alerts: n.alerts.map((a) => markdownAlert(a, (s) => `**${s}**`)),
          link: link ? `[Open the Monitor](${link})` : '',
          more: moreAlerts,
          join: '\n\n',
        },
        withinContent,
      );
      return { url, body: { msgtype: 'markdown', markdown: { content } } };
    }
    case 'feishu': {
      const seconds = Math.floor(o.now / 1_000);
      const signing = o.secret ? { timestamp: String(seconds), sign: feishuSign(o.secret, seconds) } : {};
      const whole = (message: (text: string) => Record<string, unknown>) => (text: string) =>
        bytes(JSON.stringify({ ...signing, ...message(text) })) <= limit.bytes;
      if (o.style === 'text') {
        const message = (text: string) => ({ msg_type: 'text', content: { text } });
        return { url, body: { ...signing, ...message(summarised(plain, whole(message))) } };
      }
      const message = (content: string) => ({
        msg_type: 'interactive',
        card: {
          config: { wide_screen_mode: true },
          header: { title: { tag: 'plain_text', content: title(n) }, template: cardColour(n) },
          elements: [
            { tag: 'div', text: { tag: 'lark_md', content } },
            ...(link
              ? [
                  {
                    tag: 'action',
                    actions: [
                      {
                        tag: 'button',
                        text: { tag: 'plain_text', content: 'Open the Monitor' },
                        url: link,
                        type: 'primary',
                      },
                    ],
                  },
                ]
              : []),
          ],
        },
      });
      const content = summarised(
        {
          head: '',
          alerts: n.alerts.map((a) => markdownAlert(a, (s) => `**${s}**`)),
          link: '',
          more: moreAlerts,
          join: '\n\n',
        },
        whole(message),
      );
      return { url, body: { ...signing, ...message(content) } };
    }
    case 'slack': {
      const escapedPlain = {
        ...plain,
        alerts: n.alerts.map((a) => slackEscape(alertText(a))),
        link: link ? `<${link}|Open the Monitor>` : '',
      };
      // The whole message as text too: what a phone's notification and a screen reader get.
      const text = summarised(escapedPlain, (t) => bytes(t) <= LIMITS.slack.text.bytes);
      if (o.style === 'text') return { url, body: { text } };
      const section = summarised(
        { head: '', alerts: n.alerts.map(slackAlert), link: '', more: moreAlerts, join: '\n\n' },
        withinContent,
      );
      return {
        url,
        body: {
          text,
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: title(n).slice(0, 150) } },
            { type: 'section', text: { type: 'mrkdwn', text: section } },
            ...(link ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `<${link}|Open the Monitor>` }] }] : []),
          ],
        },
      };
    }
  }
}

function signedDingtalkUrl(url: string, secret: string, now: number): string {
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}timestamp=${now}&sign=${encodeURIComponent(dingtalkSign(secret, now))}`;
}

/**
 * Codes each platform answers when it wants the message again later (sending too fast):
 * DingTalk 130101, WeCom 45009, Feishu 11232. Any other code is a refusal that
 * another try would not change (a bad signature, a message too long, a robot removed).
 */
const RATE_LIMITED: Record<RobotFormat, readonly number[]> = {
  dingtalk: [130101],
  wecom: [45009],
  feishu: [11232],
  slack: [],
};

/**
 * What a 2xx answer of the robot means: null when the message was taken, else the
 * platform's code and words. DingTalk and WeCom answer `errcode`, Feishu `code` (or, in its
 * older API, `StatusCode`); Slack answers the text `ok` (its refusals are 4xx already).
 */
export function robotRefusal(format: RobotFormat, answer: string): { error: string; retry: boolean } | null {
  if (format === 'slack') return null;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer) as Record<string, unknown>;
  } catch {
    // Not JSON: nothing here says it was refused.
    return null;
  }
  const code = body.errcode ?? body.code ?? body.StatusCode;
  if (typeof code !== 'number' || code === 0) return null;
  const words = body.errmsg ?? body.msg ?? body.StatusMessage;
  return {
    error: `${format} refused it: code ${code}${typeof words === 'string' ? ` (${words})` : ''}`,
    retry: RATE_LIMITED[format].includes(code),
  };
}
