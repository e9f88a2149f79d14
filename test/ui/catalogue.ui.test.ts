// The pickers offer what the server offers, in real Chromium: the rule form's operators,
// severities, no-data choices and metric groups, the channel kinds and webhook formats,
// the silence severities, the log's level and module filters and the Model Metrics
// module filter are the lists of GET /api/monitor/catalogue, in its order, labelled in the
// page's language. A value the server adds that the UI has no label for yet is offered
// all the same, under its own name.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture } from './browser.js';

const ui = uiFixture({ appOptions: { probes: false } });

const values = (page: Page, sel: string) => page.$$eval(sel, (os) => os.map((o) => (o as HTMLOptionElement).value));
const labels = (page: Page, sel: string) => page.$$eval(sel, (os) => os.map((o) => o.textContent));

async function catalogue(): Promise<any> {
  return (await fetch(`${ui.app.baseUrl}/api/monitor/catalogue`)).json();
}

async function openRuleForm(page: Page): Promise<void> {
  await page.waitForSelector('#monitor-body:not([hidden])');
  await page.click('#open-settings');
  await page.click('#add-rule');
  await page.waitForSelector('#rule-form:not([hidden])');
}

describe('pickers built from the catalogue', () => {
  it("offer the server's lists, in its order, labelled in English and Chinese", { timeout: 60_000 }, async () => {
    const c = await catalogue();
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await openRuleForm(page);
    expect(await values(page, '#rule-form [name=op] option')).toEqual(c.rules.ops);
    expect(await values(page, '#rule-form [name="and.op"] option')).toEqual(c.rules.ops);
    expect(await values(page, '#rule-form [name=severity] option')).toEqual(c.rules.severities);
    expect(await labels(page, '#rule-form [name=severity] option')).toEqual(['info', 'warning', 'critical']);
    expect(await page.inputValue('#rule-form [name=severity]')).toBe(c.rules.defaults.severity);
    expect(await values(page, '#rule-form [name=noData] option')).toEqual(c.rules.noData);
    expect(await page.inputValue('#rule-form [name=repeatInterval]')).toBe(c.rules.defaults.repeatInterval);
    expect(
      await page.$$eval('#rule-form [name=metric] optgroup', (gs) => gs.map((g) => g.getAttribute('label'))),
    ).toEqual(['Resources (GPU, host)', 'Service (requests)', 'Model']);
    expect(await values(page, '#rule-form [name=metric] option')).toEqual(
      c.metrics.map((m: { name: string }) => m.name),
    );
    // The kind that needs its metric names the one the server names.
    await page.check('#rule-form [name=kind][value=perRequest]');
    expect(await page.textContent('#rule-form .kinds .warn-text')).toBe(
      `This kind works on ${c.rules.perRequestMetric}: pick that metric.`,
    );

    await page.click('[data-settings-tab="silences"]');
    await page.selectOption('#silence-form [name=scope]', 'severity');
    expect(await values(page, '#silence-form [name=severity] option')).toEqual(c.rules.severities);

    await page.click('[data-settings-tab="channels"]');
    expect(await values(page, '[name=new-channel-type] option')).toEqual(c.channels.types);
    await page.selectOption('[name=new-channel-type]', 'webhook');
    await page.click('#add-channel');
    expect(await values(page, '#channel-form [name=format] option')).toEqual(c.channels.webhookFormats);
    expect(await labels(page, '#channel-form [name=format] option')).toEqual([
      'Generic JSON',
      'Alertmanager (webhook v4)',
      'DingTalk robot',
      'Feishu / Lark robot',
      'WeCom robot',
      'Slack',
    ]);
    await page.click('#settings .close');

    expect(await values(page, '#log-panel select >> nth=0 >> option')).toEqual(['', ...c.log.levels]);
    expect(await values(page, '#log-panel select >> nth=1 >> option')).toEqual(['', ...c.log.modules]);
    await page.click('.subtabs [data-sub=model]');
    expect(await values(page, '#sub-model .module-filter option')).toEqual(['', ...c.modelView.modules]);
    expect(errors).toEqual([]);
    await page.context().close();

    // 简体中文: the same values, Chinese labels.
    const zh = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'zh-CN');
    await openRuleForm(zh.page);
    expect(await labels(zh.page, '#rule-form [name=severity] option')).toEqual(['提示', '警告', '严重']);
    expect(await values(zh.page, '#rule-form [name=severity] option')).toEqual(c.rules.severities);
    await zh.page.click('[data-settings-tab="channels"]');
    expect(await labels(zh.page, '[name=new-channel-type] option')).toEqual(['Webhook', '邮件', 'Alertmanager']);
    await zh.page.click('#add-channel');
    expect(await labels(zh.page, '#channel-form [name=format] option')).toEqual([
      '通用 JSON',
      'Alertmanager（webhook v4）',
      '钉钉机器人',
      '飞书机器人',
      '企业微信机器人',
      'Slack',
    ]);
    expect(zh.errors).toEqual([]);
    await zh.page.context().close();
  });

  it('offers a value it has no label for yet under its own name, in both languages', async () => {
    // The server's own answer, with one severity and one format more than this UI knows.
    const c = await catalogue();
    const grown = {
      ...c,
      rules: { ...c.rules, severities: [...c.rules.severities, 'emergency'] },
      channels: { ...c.channels, webhookFormats: [...c.channels.webhookFormats, 'teams'] },
    };
    for (const locale of ['en-US', 'zh-CN']) {
      const { page, errors } = await openPage(ui.browser, 'about:blank', locale);
      await page.route('**/api/monitor/catalogue', (route) => route.fulfill({ json: grown }));
      await page.goto(`${ui.app.baseUrl}/#monitor`);
      await openRuleForm(page);
      expect(await values(page, '#rule-form [name=severity] option')).toEqual([
        'info',
        'warning',
        'critical',
        'emergency',
      ]);
      expect((await labels(page, '#rule-form [name=severity] option')).at(-1)).toBe('emergency');
      await page.click('[data-settings-tab="channels"]');
      await page.selectOption('[name=new-channel-type]', 'webhook');
      await page.click('#add-channel');
      expect((await labels(page, '#channel-form [name=format] option')).at(-1)).toBe('teams');
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });
});
