// Chat robots as their platforms require: signed when the channel has a secret, within each
// platform's size limit, markdown or a card by default, escaped where the platform needs it,
// and a 200 carrying an error code is a failed delivery with that code. Against receivers
// that check and answer as the platforms do (test/robots.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertPayload, Notification } from '../../src/alerts/notifier.js';
import { webhookNotifier } from '../../src/alerts/notifiers/webhook.js';
import { postJson, startApp } from '../helpers.js';
import { startRobot } from '../robots.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const NOW = Date.UTC(2026, 11, 6, 15, 0, 0);
const signal = new AbortController().signal;

function alert(i: number, over: Partial<AlertPayload> = {}): AlertPayload {
  return {
    ruleId: `r${i}`,
    ruleName: `GPU memory critical ${i}`,
    severity: 'critical',
    metric: 'gpu_memory_utilization_percent',
    labels: { gpu: String(i) },
    status: 'firing',
    startsAt: '2026-12-06T14:59:00.000Z',
    endsAt: null,
    summary: `gpu_memory_utilization_percent = 96.${i} % (threshold > 92 %)`,
    context: {
      value: 96,
      threshold: 92,
      op: '>',
      breachPoints: [],
      lastError: `CUDA out of memory while serving request ${'x'.repeat(300)}`,
      warningsBefore: [],
      gpuTemperatureCelsius: { [String(i)]: 81 },
      topClient: 'classroom-6: 62 % of request seconds',
      topClientLoad: null,
      monitorUrl: 'https://vlm.example.com/#monitor',
    },
    ...over,
  };
}

const notice = (count: number, over: Partial<AlertPayload> = {}): Notification => ({
  id: 'n1',
  status: 'firing',
  alerts: Array.from({ length: count }, (_, i) => alert(i, over)),
});

const send = (
  url: string,
  format: 'dingtalk' | 'feishu' | 'wecom' | 'slack',
  n: Notification,
  o: { secret?: string; style?: 'rich' | 'text' } = {},
) => webhookNotifier({ url, format, timeoutMs: 2_000, clock: () => NOW, ...o }).send(n, signal);

describe('chat robots', () => {
  it('DingTalk: signed on the URL from the secret (加签), refused with its code when the secret is wrong', async () => {
    const robot = await startRobot(cleanups, 'dingtalk', { secret: 'SEC-right', now: () => NOW });
    expect(await send(robot.url, 'dingtalk', notice(1), { secret: 'SEC-right' })).toMatchObject({ ok: true });
    expect(robot.calls[0]!.code).toBe(0);
    expect(robot.calls[0]!.url.searchParams.get('access_token')).toBe('9f0c1d2e3b4a5968');
    expect(robot.calls[0]!.url.searchParams.get('timestamp')).toBe(String(NOW));
    // Markdown by default: a title for the phone's notification, the alert in bold.
    expect(robot.calls[0]!.body).toMatchObject({
      msgtype: 'markdown',
      markdown: {
        title: '[FIRING] GPU memory critical 0',
        text: expect.stringContaining('**[CRITICAL] GPU memory critical 0**'),
      },
    });
    const refused = await send(robot.url, 'dingtalk', notice(1), { secret: 'SEC-wrong' });
    expect(refused).toEqual({
      ok: false,
      retry: false,
      error: expect.stringContaining('dingtalk refused it: code 310000 (sign not match'),
    });
  });

  it('Feishu: signed in the body, a card coloured by severity; a wrong secret is its 19021', async () => {
    const robot = await startRobot(cleanups, 'feishu', { secret: 'feishu-secret', now: () => NOW });
    expect(await send(robot.url, 'feishu', notice(2), { secret: 'feishu-secret' })).toMatchObject({ ok: true });
    const body = robot.calls[0]!.body;
    expect(body).toMatchObject({
      timestamp: String(NOW / 1_000),
      msg_type: 'interactive',
      card: { header: { title: { content: '[FIRING] GPU memory critical 0 (+1)' }, template: 'red' } },
    });
    expect(JSON.stringify(body.card.elements)).toContain('https://vlm.example.com/#monitor');
    const resolved = await send(
      robot.url,
      'feishu',
      { ...notice(1, { status: 'resolved' }), status: 'resolved' },
      {
        secret: 'feishu-secret',
      },
    );
    expect(resolved.ok).toBe(true);
    expect(robot.calls[1]!.body.card.header.template).toBe('green');
    expect(await send(robot.url, 'feishu', notice(1), { secret: 'other' })).toEqual({
      ok: false,
      retry: false,
      error: expect.stringContaining('code 19021'),
    });
  });

  it('WeCom: 17 alerts are summarised within its 2 048-byte text and 4 096-byte markdown, not refused', async () => {
    const robot = await startRobot(cleanups, 'wecom');
    const many = notice(17);
    for (const style of ['text', 'rich'] as const) {
      expect(await send(robot.url, 'wecom', many, { style }), style).toMatchObject({ ok: true });
    }
    const [text, markdown] = robot.calls;
    expect(text!.code).toBe(0);
    expect(Buffer.byteLength(text!.body.text.content)).toBeLessThanOrEqual(2_048);
    expect(text!.body.text.content).toMatch(/… and \d+ more alerts \(the Monitor lists them all\)/);
    expect(text!.body.text.content).toContain('GPU memory critical 0');
    expect(markdown!.body.msgtype).toBe('markdown');
    expect(Buffer.byteLength(markdown!.body.markdown.content)).toBeLessThanOrEqual(4_096);
    expect(markdown!.body.markdown.content).toMatch(/… and \d+ more alerts/);
    // The receiver does refuse what is too long, as WeCom does.
    const strict = await startRobot(cleanups, 'wecom');
    const big = JSON.stringify({ msgtype: 'text', text: { content: 'x'.repeat(2_049) } });
    const direct = await fetch(strict.url, { method: 'POST', body: big });
    expect(await direct.json()).toMatchObject({ errcode: 40058 });
  });

  it('a rate-limit code is tried again; other codes are not', async () => {
    const busy = await startRobot(cleanups, 'dingtalk', { answerCode: 130101 });
    expect(await send(busy.url, 'dingtalk', notice(1))).toMatchObject({ ok: false, retry: true });
    const wecomBusy = await startRobot(cleanups, 'wecom', { answerCode: 45009 });
    expect(await send(wecomBusy.url, 'wecom', notice(1))).toMatchObject({ ok: false, retry: true });
    const gone = await startRobot(cleanups, 'wecom', { answerCode: 93000 });
    expect(await send(gone.url, 'wecom', notice(1))).toMatchObject({ ok: false, retry: false });
  });

  it('Slack: & < > escaped as its docs require, in blocks and in the text', async () => {
    const robot = await startRobot(cleanups, 'slack');
    const n = notice(1, { ruleName: '<b>&</b> <!channel>' });
    expect(await send(robot.url, 'slack', n)).toMatchObject({ ok: true });
    expect(await send(robot.url, 'slack', n, { style: 'text' })).toMatchObject({ ok: true });
    const [rich, text] = robot.calls;
    // Every text Slack formats (mrkdwn, and the plain message) carries the name escaped …
    const formatted = [rich!.body.text, rich!.body.blocks[1].text.text, text!.body.text];
    for (const t of formatted) {
      expect(t).not.toContain('<b>');
      expect(t).not.toContain('<!channel>');
      expect(t).toContain('&lt;b&gt;&amp;&lt;/b&gt; &lt;!channel&gt;');
    }
    // … and the header, plain_text, which Slack shows as it is, carries it literally.
    expect(rich!.body.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(rich!.body.blocks[0].text.text).toBe('[FIRING] <b>&</b> <!channel>');
  });

  it('markdown robots: a rule name cannot make a link or a heading of its own', async () => {
    const robot = await startRobot(cleanups, 'dingtalk');
    await send(robot.url, 'dingtalk', notice(1, { ruleName: '[click](https://evil.example) # x' }));
    expect(robot.calls[0]!.body.markdown.text).toContain('\\[click\\](https://evil.example) # x');
  });

  it("a refusal is a failed delivery in the channel's test and the history, with the platform's code", async () => {
    const robot = await startRobot(cleanups, 'dingtalk', { secret: 'right' });
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const base = `${app.baseUrl}/api/monitor/alerts/channels`;
    expect(
      (await postJson(base, { name: 'ding', type: 'webhook', format: 'dingtalk', url: robot.url, secret: 'wrong' }))
        .status,
    ).toBe(201);
    const test = await postJson(`${base}/ding/test`, {});
    expect(test.json).toMatchObject({ channel: 'ding', delivered: false });
    expect(test.json.attempts[0]).toMatchObject({ ok: false, detail: expect.stringContaining('code 310000') });
    const history = await (await fetch(`${app.baseUrl}/api/monitor/alerts/history`)).json();
    expect(JSON.stringify(history)).toContain('code 310000');
    // With the right secret it is taken.
    const put = await fetch(`${base}/ding`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'webhook', format: 'dingtalk', secret: 'right', style: 'text' }),
    });
    expect((await put.json()).style).toBe('text');
    expect((await postJson(`${base}/ding/test`, {})).json).toMatchObject({ delivered: true });
    expect(robot.calls.at(-1)!.body.msgtype).toBe('text');
  });
});
