// Webhook URLs carry their secret (DingTalk's access_token, WeCom's key, the path of a
// Slack, Feishu or ntfy hook), so the API shows them masked, like passwords. The rule is
// one an operator can predict: the scheme, host and port stay readable, and so does a
// path segment only when it is one of the well-known words of webhook paths below, a
// version such as v2, or at most 4 characters long (too short to be a secret worth the
// name: /ops, /am-0); every other segment, every query value and a query name without a
// value are masked, showing the last four characters of what has at least 12
// (https://oapi.dingtalk.com/robot/send?access_token=…3f2a). A short secret made of
// letters alone (`/hook/QuietOtter`) is masked like any other.

import { fieldError } from './channel-type.js';

export const MASK = '…';

/** Path words that stay readable: the fixed parts of the webhook URLs of common receivers. */
export const PATH_WORDS: ReadonlySet<string> = new Set([
  'api',
  'apis',
  'open-apis',
  'cgi-bin',
  'bot',
  'bots',
  'robot',
  'hook',
  'hooks',
  'webhook',
  'webhooks',
  'services',
  'incoming',
  'send',
  'message',
  'messages',
  'notify',
  'notifications',
  'alert',
  'alerts',
  'alertmanager',
  'prometheus',
  'grafana',
  'receive',
  'receiver',
  'event',
  'events',
  'chat',
  'push',
  'triggers',
  'workflows',
]);

const VERSION = /^v\d{1,2}$/;

const hide = (s: string) => (s.length >= 12 ? `${MASK}${s.slice(-4)}` : MASK);

const readable = (segment: string) => segment.length <= 4 || PATH_WORDS.has(segment) || VERSION.test(segment);

export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  const path = u.pathname
    .split('/')
    .map((seg) => (readable(seg) ? seg : hide(seg)))
    .join('/');
  // A name with a value reads as what it is (access_token=…); a bare one may be the secret itself.
  const query = [...u.searchParams].map(([k, v]) => (v ? `${k}=${hide(v)}` : hide(k))).join('&');
  const userinfo = u.username || u.password ? `${MASK}@` : '';
  return `${u.protocol}//${userinfo}${u.host}${path}${query ? `?${query}` : ''}`;
}

export const looksMasked = (url: string) => url.includes(MASK) || url.includes(encodeURIComponent(MASK));

/**
 * The URL an edit keeps: a new one as given; none, or the masked form the API showed, keeps
 * the stored one. A masked URL that matches nothing stored is refused (it cannot be sent to).
 */
export function keptUrl(given: string, stored: string | undefined, field?: string): string;
export function keptUrl(given: string | undefined, stored: string | undefined, field?: string): string | undefined;
export function keptUrl(given: string | undefined, stored: string | undefined, field = 'url'): string | undefined {
  if (given === undefined) return stored;
  if (stored !== undefined && given === maskUrl(stored)) return stored;
  if (looksMasked(given)) throw fieldError(field, 'this is a masked URL (…); send the full URL');
  return given;
}
