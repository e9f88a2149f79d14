// In 简体中文 every screen speaks Chinese: the overview, the log, Model Metrics, each
// Settings tab with the rule form open, and the Chat/GUI/OCR/Video pages. What may stay
// in Latin letters: metric and label names, units, codes, protocol and product names,
// and what users or the log wrote.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture } from './browser.js';

const ui = uiFixture({ env: { NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' } });

/** Names that are the same in both languages. */
const ALLOWED = new Set([
  'gpu',
  'ocr',
  'cpu',
  'io',
  'psi',
  'kv',
  'http',
  'https',
  'tls',
  'smtp',
  'url',
  'nvml',
  'mib',
  'gib',
  'min',
  'req',
  'ms',
  'websocket',
  'webhook',
  'info',
  'warn',
  'error',
  'qwen3',
  'webui',
  'english',
  'utc',
  'asia',
  'shanghai',
  'p50',
  'p95',
  'p99',
  'generic',
  'alertmanager',
  'dingtalk',
  'feishu',
  'wecom',
  'slack',
  'mp4',
  'bool',
  'vlm',
  'gui',
  'video',
  'alert',
  'image_hash',
  'api',
  'sha256',
  'json',
  'post',
  'get',
  'gpu_is_lost',
  'hooks',
  'example',
  'com',
  'tokens',
  'token',
  'frames',
  'connections',
  'requests',
  'errors',
  'preemptions',
  'tasks',
  'ratio',
  'chat',
  'nvidia',
  'endpoint',
  'module',
  'stage',
]);

/** Latin words on screen that are neither allowed nor a code, a metric name or user text. */
async function englishWords(page: Page): Promise<string[]> {
  const texts = await page.evaluate(() => {
    const out: string[] = [];
    const skip =
      '.log-lines, .log-detail, .metric-name, code, .condition, #rules-table td:first-child, option, .u-legend, .u-axis, .hover-chart, .muted.metric-about';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement!;
      if (!el || el.closest(skip) || el.closest('[hidden]') || el.closest('script, style')) continue;
      if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
      out.push(n.textContent ?? '');
    }
    for (const i of document.querySelectorAll('input[placeholder]'))
      if ((i as HTMLElement).offsetParent !== null) out.push((i as HTMLInputElement).placeholder);
    return out;
  });
  const words = new Set<string>();
  for (const text of texts) {
    for (const w of text.match(/[A-Za-z][A-Za-z0-9_.-]*/g) ?? []) {
      // Names, codes, units like 5m, host names and paths.
      if (
        w.includes('_') ||
        w.includes('.') ||
        /^[A-Z0-9_]+$/.test(w) ||
        /\d/.test(w) ||
        w.length < 3 ||
        text.includes(`/${w}/`)
      )
        continue;
      if (!ALLOWED.has(w.toLowerCase())) words.add(w);
    }
  }
  return [...words];
}

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
