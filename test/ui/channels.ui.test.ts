// ⚙ Settings → Channels in real Chromium, as an operator uses it: add a webhook and an
// Alertmanager channel by name, see them listed with secrets hidden and URLs masked,
// edit one without retyping its secret, send a test through each to a real receiver,
// read a mistake at the field it concerns, pick channels by name in the rule form, and
// delete a channel a rule uses (the button says which). At 1280×800, 1920×1080 and
// 390×844, in English and Chinese, nothing clipped and nothing scrolling sideways.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, uiFixture } from './browser.js';
import { clippedInside, sidewaysOverflow } from './layout-check.js';

mkdirSync('test-artifacts/channels', { recursive: true });
const ui = uiFixture({ appOptions: { probes: false } });

/** One real HTTP server standing in for a webhook receiver and an Alertmanager. */
const got: Array<{ path: string; body: any; auth: string | undefined }> = [];
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(raw), auth: req.headers.authorization });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);

const channelsNow = async () =>
  ((await (await fetch(`${ui.app.baseUrl}/api/monitor/alerts/channels`)).json()) as { channels: any[] }).channels;

async function openChannels(page: Page): Promise<void> {
  await page.click('#open-settings');
  await page.waitForSelector('#settings:not([hidden]) .settings-tabs');
  await page.click('[data-settings-tab="channels"]');
  await page.waitForSelector('#channels-table');
}

/** Waits for the list to show a row for `name` (the panel re-renders after a save). */
const rowFor = async (page: Page, name: string) => page.waitForSelector(`#channels-table tr[data-channel="${name}"]`);

describe('Settings → Channels', () => {
  it('adds, edits, tests and deletes named channels, secrets never shown', { timeout: 60_000 }, async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await openChannels(page);
    expect(
      await page.$$eval('#channels-table tr[data-channel]', (rows) =>
        rows.map((r) => (r as HTMLElement).dataset.channel),
      ),
    ).toEqual(['console']);

    // A webhook whose URL carries its token, with a signing secret.
    await page.selectOption('[name=new-channel-type]', 'webhook');
    await page.click('#add-channel');
    expect(await page.textContent('#channel-form h4')).toBe('New Webhook channel');
    await page.fill('#channel-form [name=name]', 'ops-hook');
    await page.fill('#channel-form [name=url]', `${base}/robot/send?access_token=9f0c1d2e3b4a5968aa3f2a`);
    // The message style is a chat robot's: offered once a robot is chosen.
    expect(await page.isHidden('#channel-form [name=style]')).toBe(true);
    await page.selectOption('#channel-form [name=format]', 'dingtalk');
    expect(await page.isVisible('#channel-form [name=style]')).toBe(true);
    expect(
      await page.$eval('#channel-form [name=style]', (s) => (s as HTMLSelectElement).selectedOptions[0]!.textContent),
    ).toBe('Markdown or card');
    await page.selectOption('#channel-form [name=style]', 'text');
    await page.fill('#channel-form [name=secret]', 'sign-me-secret');
    await page.click('#channel-form button[type=submit]');
    await rowFor(page, 'ops-hook');
    expect(await page.textContent('#channels-table tr[data-channel="ops-hook"] .where')).toBe(
      `dingtalk · ${base}/robot/send?access_token=…3f2a`,
    );
    expect(await page.textContent('#channels-table tr[data-channel="ops-hook"]')).toContain('set');

    // An Alertmanager channel with two URLs and a cluster label; a bad label name first.
    await page.selectOption('[name=new-channel-type]', 'alertmanager');
    await page.click('#add-channel');
    await page.fill('#channel-form [name=name]', 'fleet-am');
    await page.fill('#channel-form [name=urls]', `${base}/am-0\n${base}/am-1`);
    await page.fill('#channel-form [name=labels]', '1cluster=gpu-a');
    await page.fill('#channel-form [name=secret]', 'am-bearer-token');
    await page.click('#channel-form button[type=submit]');
    await page.waitForSelector('#channel-form .field-error');
    expect(await page.textContent('#channel-form label:has([name=labels]) .field-error')).toBe(
      'labels.1cluster: expected a label name: letters, digits and _, not starting with a digit',
    );
    await page.fill('#channel-form [name=labels]', 'cluster=gpu-a');
    await page.click('#channel-form button[type=submit]');
    await rowFor(page, 'fleet-am');
    expect(await page.textContent('#channels-table tr[data-channel="fleet-am"] .where')).toMatch(
      new RegExp(`^${base}/am-0, ${base}/am-1 · instance=\\S+ · cluster=gpu-a$`),
    );

    // Edit it: the token field shows it is set, stays empty, and the token is kept.
    await page.click('#channels-table tr[data-channel="fleet-am"] button.edit');
    expect(await page.getAttribute('#channel-form [name=name]', 'readonly')).toBe('');
    expect(await page.getAttribute('#channel-form [name=secret]', 'placeholder')).toBe('••••• (set)');
    expect(await page.inputValue('#channel-form [name=secret]')).toBe('');
    await page.fill('#channel-form [name=instance]', 'gpu-node-3');
    await page.click('#channel-form button[type=submit]');
    await page.waitForFunction(() =>
      document
        .querySelector('#channels-table tr[data-channel="fleet-am"] .where')
        ?.textContent?.endsWith('instance=gpu-node-3 · cluster=gpu-a'),
    );
    expect((await channelsNow()).find((c) => c.name === 'fleet-am')).toMatchObject({
      instance: 'gpu-node-3',
      labels: { cluster: 'gpu-a' },
      secretSet: true,
    });

    // A test through each, to the real receiver.
    await page.click('#channels-table tr[data-channel="ops-hook"] button.test');
    await page.waitForFunction(() =>
      document.querySelector('#channels-panel .result')?.textContent?.startsWith('ops-hook: delivered'),
    );
    // Signed as DingTalk requires (加签: timestamp and sign on the URL), in the style chosen.
    expect(got.at(-1)!.path).toMatch(/^\/robot\/send\?access_token=9f0c1d2e3b4a5968aa3f2a&timestamp=\d+&sign=[\w%]+$/);
    expect(got.at(-1)).toMatchObject({ body: { msgtype: 'text' } });
    await page.click('#channels-table tr[data-channel="fleet-am"] button.test');
    await page.waitForFunction(() =>
      document.querySelector('#channels-panel .result')?.textContent?.includes('accepted by 2 of 2 Alertmanager(s)'),
    );
    const am = got.filter((g) => g.path.endsWith('/api/v2/alerts'));
    expect(am.map((g) => g.path).sort()).toEqual(['/am-0/api/v2/alerts', '/am-1/api/v2/alerts']);
    expect(am[0]).toMatchObject({
      auth: 'Bearer am-bearer-token',
      body: [{ labels: { alertname: 'Test notification', instance: 'gpu-node-3', cluster: 'gpu-a', test: 'true' } }],
    });

    // Nothing secret is on the page.
    const html = await page.content();
    for (const secret of ['sign-me-secret', 'am-bearer-token', '9f0c1d2e3b4a5968aa3f2a'])
      expect(html).not.toContain(secret);

    // The rule form lists channels by name.
    await page.click('[data-settings-tab="rules"]');
    await page.click('#add-rule');
    expect(
      await page.$$eval('#rule-form [name=channels]', (els) => els.map((e) => (e as HTMLInputElement).value)),
    ).toEqual(['console', 'ops-hook', 'fleet-am']);
    await page.fill('#rule-form [name=name]', 'Hot GPU to the fleet');
    await page.fill('#rule-form .metric-search >> nth=0', 'temperature');
    await page.selectOption('#rule-form [name=metric]', 'gpu_temperature_celsius');
    await page.fill('#rule-form [name=threshold]', '85');
    await page.check('#rule-form [name=channels][value=fleet-am]');
    expect(await page.isHidden('#rule-form .channel-warning')).toBe(true);
    await page.click('#rule-form button[type=submit]');
    await page.waitForSelector('#rules-table tr:has-text("Hot GPU to the fleet")');
    expect(await page.textContent('#rules-table tr:has-text("Hot GPU to the fleet") td:nth-child(4)')).toBe(
      'Console, fleet-am',
    );

    // Deleting a channel a rule uses: the first click says so, the second deletes.
    await page.click('[data-settings-tab="channels"]');
    await page.click('#channels-table tr[data-channel="fleet-am"] button.delete');
    expect(await page.textContent('#channels-table tr[data-channel="fleet-am"] button.delete')).toBe(
      'Used by 1 rule (Hot GPU to the fleet): click again to delete',
    );
    await page.click('#channels-table tr[data-channel="fleet-am"] button.delete');
    await page.waitForSelector('#channels-table tr[data-channel="fleet-am"]', { state: 'detached' });
    expect((await channelsNow()).map((c) => c.name)).toEqual(['console', 'ops-hook']);
    // The rule still names it, and its form says it is not configured.
    await page.click('[data-settings-tab="rules"]');
    await page.click('#rules-table tr:has-text("Hot GPU to the fleet") button.edit');
    expect(await page.isChecked('#rule-form [name=channels][value=fleet-am]')).toBe(true);
    expect(await page.textContent('#rule-form .channel-warning')).toBe(
      'fleet-am not configured yet: set it up in the Channels tab, or these notices are recorded as not sent.',
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });

  const views: Array<[string, { width: number; height: number }]> = [
    ['en-US', { width: 1280, height: 800 }],
    ['en-US', { width: 1920, height: 1080 }],
    ['en-US', { width: 390, height: 844 }],
    ['zh-CN', { width: 1280, height: 800 }],
    ['zh-CN', { width: 390, height: 844 }],
  ];
  for (const [lang, viewport] of views) {
    it(`reads whole at ${viewport.width}×${viewport.height} in ${lang}, the Alertmanager form open`, async () => {
      if (!(await channelsNow()).some((c) => c.name === 'fleet-am')) {
        await fetch(`${ui.app.baseUrl}/api/monitor/alerts/channels`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'fleet-am',
            type: 'alertmanager',
            urls: [
              'http://alertmanager-0.monitoring.svc.cluster.local:9093',
              'http://alertmanager-1.monitoring.svc.cluster.local:9093',
            ],
            labels: { cluster: 'gpu-a' },
          }),
        });
        await fetch(`${ui.app.baseUrl}/api/monitor/alerts/channels`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'oncall-mail',
            type: 'email',
            host: 'smtp.example.com',
            port: 465,
            secure: true,
            from: 'monitor@example.com',
            to: ['oncall@example.com', 'gpu-team@example.com'],
            password: 'x-secret',
          }),
        });
      }
      const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, viewport);
      await openChannels(page);
      await page.click('#channels-table tr[data-channel="fleet-am"] button.edit');
      await page.waitForSelector('#channel-form[data-type=alertmanager]');
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await clippedInside(page, '#settings td, #settings .field')).toEqual([]);
      if (lang === 'zh-CN') {
        expect(await page.textContent('#channels-table tr[data-channel="fleet-am"] td:nth-child(2)')).toBe(
          'Alertmanager',
        );
        expect(await page.textContent('#channel-form .field:has([name=urls]) .field-label')).toBe('Alertmanager 地址');
        expect(await page.textContent('#add-channel')).toBe('+ 添加渠道');
        expect(await page.textContent('#channels-table tr[data-channel="oncall-mail"] td:nth-child(2)')).toBe('邮件');
      }
      await page.screenshot({
        path: `test-artifacts/channels/channels-${viewport.width}x${viewport.height}-${lang.slice(0, 2)}.png`,
        fullPage: true,
      });
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }
});
