// Webhook URL masking by a rule an operator can predict: scheme, host and port, the
// well-known path words (PATH_WORDS), versions and segments of at most 4 characters
// stay readable; every other path
// segment, every query value and a bare query name are masked. The miss: a
// short secret of letters alone in the path was shown as it is.
import { describe, expect, it } from 'vitest';
import { maskUrl } from '../../src/alerts/mask-url.js';

describe('maskUrl', () => {
  it.each([
    // The miss: short, letters only.
    ['https://hooks.example.com/hook/QuietOtter', 'https://hooks.example.com/hook/…'],
    ['https://ntfy.sh/alertsforteamx', 'https://ntfy.sh/…eamx'],
    ['https://hooks.example.com/abcdefgh/send', 'https://hooks.example.com/…/send'],
    // The receivers people use keep their shape.
    [
      'https://oapi.dingtalk.com/robot/send?access_token=9f0c1d2e3b4a59687766554433221100aa3f2a',
      'https://oapi.dingtalk.com/robot/send?access_token=…3f2a',
    ],
    [
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa',
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…5aaa',
    ],
    [
      'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXwxyz',
      'https://hooks.slack.com/services/…/…/…wxyz',
    ],
    [
      'https://open.feishu.cn/open-apis/bot/v2/hook/0d3c1a5e-8b7f-4c2d-9e6a-1b2c3d4e5f60',
      'https://open.feishu.cn/open-apis/bot/v2/hook/…5f60',
    ],
    [
      'https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz',
      'https://discord.com/api/webhooks/…5678/…WxYz',
    ],
    ['http://am-1.example:9093/api/v2/alerts', 'http://am-1.example:9093/api/v2/alerts'],
    // User, password and a bare query name are secrets too.
    ['https://user:pw@alerts.internal:8443/push?Tr0ub4dor', 'https://…@alerts.internal:8443/push?…'],
    ['https://x.example/?key=abcd', 'https://x.example/?key=…'],
  ])('%s → %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it('masks every segment longer than 4 characters that is not a listed word, whatever it looks like', () => {
    for (const segment of ['HOOKS', 'Hooks', 'send2', 'abcde', 'team-alpha', 'v1000']) {
      expect(maskUrl(`https://h.example/${segment}`), segment).toBe('https://h.example/…');
    }
    for (const segment of ['ops', 'am-0', 'a', 'v12']) {
      expect(maskUrl(`https://h.example/${segment}`), segment).toBe(`https://h.example/${segment}`);
    }
  });
});
