// Webhook URLs carry their secret (DingTalk's access_token, WeCom's key, the path of a
// Slack or Feishu hook), so the API shows them masked, like passwords: the host and the
// words of the path stay readable, every query value and every token-like path segment
// shows only its last four characters (https://oapi.dingtalk.com/robot/send?access_token=…3f2a).

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
  const path = u.pathname.split('/').map((seg) => (tokenLike(seg) ? hide(seg) : seg)).join('/');
  const query = [...u.searchParams].map(([k, v]) => `${k}=${v ? hide(v) : ''}`).join('&');
  const userinfo = u.username || u.password ? `${MASK}@` : '';
  return `${u.protocol}//${userinfo}${u.host}${path}${query ? `?${query}` : ''}`;
}

export const looksMasked = (url: string) => url.includes(MASK) || url.includes(encodeURIComponent(MASK));
