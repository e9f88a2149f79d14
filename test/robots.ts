// Chat robots as their platforms answer, written from the published robot APIs: each checks
// the signature and the size the way its platform documents, and refuses the way it does:
// HTTP 200 with an error code in the body (DingTalk and WeCom `errcode`, Feishu `code`),
// Slack with a 4xx. Each records what it was sent, accepted or not.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export type Platform = 'dingtalk' | 'feishu' | 'wecom' | 'slack';

export interface RobotCall {
  url: URL;
  body: any;
  raw: string;
  /** The platform's code (0: taken). */
  code: number;
  why: string;
}

const HOUR_MS = 3_600_000;
const b64hmac = (key: string, message: string) => createHmac('sha256', key).update(message).digest('base64');

/** What the platform says to one request: its code and words. */
function judge(platform: Platform, url: URL, raw: string, body: any, secret: string | undefined, now: number) {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  switch (platform) {
    case 'dingtalk': {
      if (secret) {
        // https://open.dingtalk.com/document/robots/customize-robot-security-settings
        const timestamp = Number(url.searchParams.get('timestamp'));
        const sign = url.searchParams.get('sign') ?? '';
        if (!(Math.abs(now - timestamp) < HOUR_MS) || sign !== b64hmac(secret, `${timestamp}\n${secret}`))
          return { code: 310000, why: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' };
      }
      const content = body.msgtype === 'markdown' ? body.markdown?.text : body.text?.content;
      if (typeof content !== 'string') return { code: 40035, why: 'missing parameter' };
      if (bytes(content) > 20_000) return { code: 460101, why: 'message too long' };
      return { code: 0, why: 'ok' };
    }
    case 'feishu': {
      if (secret) {
        // https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
        const ts = Number(body.timestamp);
        if (
          !(Math.abs(now / 1_000 - ts) < 3_600) ||
          body.sign !== createHmac('sha256', `${ts}\n${secret}`).update('').digest('base64')
        )
          return { code: 19021, why: 'sign match fail or timestamp is not within one hour from current time' };
      }
      if (bytes(raw) > 20 * 1_024) return { code: 9499, why: 'Bad Request: the request body is over 20 KB' };
      if (body.msg_type !== 'text' && body.msg_type !== 'interactive') return { code: 9499, why: 'Bad Request' };
      return { code: 0, why: 'success' };
    }
    case 'wecom': {
      // https://developer.work.weixin.qq.com/document/path/91770
      const [content, limit] =
        body.msgtype === 'markdown' ? [body.markdown?.content, 4_096] : [body.text?.content, 2_048];
      if (typeof content !== 'string') return { code: 40008, why: 'invalid message type' };
      if (bytes(content) > limit)
        return { code: 40058, why: `Warning: wrong json format. content exceed max length ${limit}` };
      return { code: 0, why: 'ok' };
    }
    case 'slack': {
      if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return { code: 400, why: 'no_text' };
      return { code: 0, why: 'ok' };
    }
  }
}

export async function startRobot(
  cleanups: Array<() => Promise<void>>,
  platform: Platform,
  opts: { secret?: string; now?: () => number; answerCode?: number } = {},
) {
  const calls: RobotCall[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://robot');
      const body = JSON.parse(raw);
      const verdict =
        opts.answerCode !== undefined
          ? { code: opts.answerCode, why: 'as the test asked' }
          : judge(platform, url, raw, body, opts.secret, (opts.now ?? Date.now)());
      calls.push({ url, body, raw, ...verdict });
      if (platform === 'slack') {
        res.writeHead(verdict.code === 0 ? 200 : verdict.code, { 'content-type': 'text/plain' });
        res.end(verdict.code === 0 ? 'ok' : verdict.why);
        return;
      }
      const answer =
        platform === 'feishu'
          ? { code: verdict.code, msg: verdict.why, data: {} }
          : { errcode: verdict.code, errmsg: verdict.why };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // The URL as the platform gives it: the robot's token is in it.
  const url =
    platform === 'dingtalk'
      ? `${base}/robot/send?access_token=9f0c1d2e3b4a5968`
      : platform === 'feishu'
        ? `${base}/open-apis/bot/v2/hook/8d5e7c3a-1111-2222-3333-444455556666`
        : platform === 'wecom'
          ? `${base}/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa`
          : `${base}/services/T000/B000/XXXX`;
  return { url, calls };
}
