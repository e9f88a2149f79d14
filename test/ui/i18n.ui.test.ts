// In 简体中文 every screen speaks Chinese: the overview, the log, Model Metrics, each
// Settings tab with the rule form open, and the Chat/GUI/OCR/Video pages. What may stay
// in Latin letters (screen-text.ts): metric and label names, units, codes, protocol and
// product names, and what users or the log wrote. (The Monitor during an incident, with
// notices and a log line open: words.ui.test.ts.)
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture } from './browser.js';
import { REASON_TEMPLATES } from '../../src/reasons.js';
import { englishWords as englishWordsIn } from './screen-text.js';

const ui = uiFixture({ env: { NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' } });

/** Records and names: log lines, metric names, code, rule conditions and names, option lists, charts. */
const SKIP =
  '.log-lines .log-line, .log-record, .metric-name, code, .condition, #rules-table td:first-child, option, .u-legend, .u-axis, .hover-chart, .muted.metric-about';
const englishWords = (page: Page) => englishWordsIn(page, SKIP, false);

describe('简体中文', () => {
  it('leaves no English on the Monitor, its tabs and forms, or the pages', { timeout: 60_000 }, async () => {
    await fetch(`${ui.app.baseUrl}/api/monitor/alerts/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: '显存',
        metric: 'gpu_memory_utilization_percent',
        op: '>',
        threshold: 90,
        consecutiveChecks: 3,
      }),
    });
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'zh-CN');
    await page.waitForSelector('[data-card="rps"]');
    const found: Record<string, string[]> = {};
    const look = async (where: string) => {
      const w = await englishWords(page);
      if (w.length) found[where] = w;
    };
    await look('overview');
    await page.click('[data-sub="model"]');
    await page.waitForSelector('.model-card');
    await look('model');
    await page.click('[data-sub="overview"]');
    await page.click('#open-settings');
    await page.waitForSelector('.settings-tabs');
    await page.click('#add-rule');
    for (const tab of ['rules', 'presets', 'silences', 'channels', 'history']) {
      await page.click(`[data-settings-tab="${tab}"]`);
      await look(`settings ${tab}`);
    }
    await page.click('.settings .close');
    for (const tab of ['chat', 'gui', 'ocr', 'video']) {
      await page.click(`[data-tab="${tab}"]`);
      await look(tab);
    }
    expect(found).toEqual({});
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('the reasons a figure is missing', () => {
  it('have Chinese words for every code the server has, with the same parameters', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'zh-CN');
    // A string, not a function: vitest rewrites import() inside this file's functions.
    const served = (await page.evaluate(`(async () => ({
      en: (await import('/js/shared/reasons.js')).REASON_TEMPLATES,
      zh: (await import('/js/i18n.js')).REASONS_ZH,
    }))()`)) as { en: Record<string, string>; zh: Record<string, string | undefined> };
    expect(served.en).toEqual(REASON_TEMPLATES);
    const names = (s: string | undefined) => [...(s ?? '').matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const mismatched = Object.entries(REASON_TEMPLATES)
      .filter(([code, en]) => served.zh[code] === undefined || names(served.zh[code]).join() !== names(en).join())
      .map(([code]) => code);
    expect(mismatched).toEqual([]);
    // The empty GPU card says why in Chinese, from the codes (no NVIDIA library here).
    await page.waitForSelector('[data-card="gpu_memory"] .reason:not([hidden])');
    expect(await page.textContent('[data-card="gpu_memory"] .reason')).toBe(
      '没有 NVIDIA GPU：未找到 /nonexistent/libnvidia-ml.so.1',
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
