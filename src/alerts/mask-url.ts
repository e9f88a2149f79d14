// Webhook URLs carry their secret (DingTalk's access_token, WeCom's key, the path of a
// Slack or Feishu hook), so the API shows them masked, like passwords: the host and the
// words of the path stay readable, every query value and every token-like path segment
// shows only its last four characters (https://oapi.dingtalk.com/robot/send?access_token=…3f2a).

import { fieldError } from './channel-type.js';

export const MASK = '…';

const hide = (s: string) => (s.length >= 12 ? `${MASK}${s.slice(-4)}` : MASK);

/** A path segment that is a key rather than a word: long, or long enough and with digits. */
const tokenLike = (segment: string) => segment.length >= 24 || (segment.length >= 8 && /\d/.test(segment));

export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  const path = u.pathname
    .split('/')
    .map((seg) => (tokenLike(seg) ? hide(seg) : seg))
    .join('/');
  const query = [...u.searchParams].map(([k, v]) => `${k}=${v ? hide(v) : ''}`).join('&');
  const userinfo = u.username || u.password ? `${MASK}@` : '';
  return `${u.protocol}//${userinfo}${u.host}${path}${query ? `?${query}` : ''}`;
}

export const looksMasked = (url: string) => url.includes(MASK) || url.includes(encodeURIComponent(MASK));

/**
 * The URL an edit keeps: a new one as given; none, or the masked form the API showed, keeps
 * the stored one. A masked URL that matches nothing stored is refused (it cannot be sent to).
 */
export function keptUrl(given: string | undefined, stored: string | undefined, field = 'url'): string | undefined {
  if (given === undefined) return stored;
  if (stored !== undefined && given === maskUrl(stored)) return stored;
  if (looksMasked(given)) throw fieldError(field, 'this is a masked URL (…); send the full URL');
  return given;
}
