// The GPU cards and the Model Metrics sub-tab with data, in real Chromium.
import { describe, expect, it } from 'vitest';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson } from '../helpers.js';
import { openPage, uiFixture } from './browser.js';

const MiB = 1024 * 1024;
const nvml = fakeNvml('current');
nvml.reset(1);
nvml.setMemory(0, 24_576 * MiB, 14_280 * MiB, 0);
nvml.setUtil(0, 37, 10);
const ui = uiFixture({ behavior: { tokenLogprob: Math.log(0.8) }, env: { NVML_LIBRARY: nvml.path } });

describe('GPU card and model metrics', () => {
  it('prints GPU memory as its share, used / total MiB under it, and utilisation', async () => {
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="gpu_memory"].ok');
    // The share is the big number; the MiB figures sit under it, so nothing is clipped.
    expect(await page.textContent('[data-card="gpu_memory"] .number')).toBe('58 %');
    expect(await page.textContent('[data-card="gpu_memory"] .facts')).toContain('14,280 / 24,576 MiB');
    expect(await page.textContent('[data-card="gpu_utilization"] .number')).toBe('37 %');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows the model layer per module in the Model Metrics sub-tab', async () => {
    await postJson(
      `${ui.app.baseUrl}/api/ocr`,
      { image: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==' },
      { 'x-client-id': 'scanner' },
    );
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.click('[data-sub="model"]');
    await page.waitForFunction(() => (document.getElementById('sub-model')?.textContent ?? '').includes('scanner'));
    const text = (await page.textContent('#sub-model'))!;
    expect(text).toContain('ocr');
    expect(text).toContain('0.80'); // OCR confidence
    await page.selectOption('#sub-model select', 'ocr');
    await page.waitForFunction(() => !(document.getElementById('sub-model')?.textContent ?? '').includes('frames/s'));
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('writes a rule\u2019s threshold as it was set: on the card, in Settings and in the firing list', async () => {
    const added = await postJson(`${ui.app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'GPU busy',
      metric: 'gpu_utilization_percent',
      op: '>',
      threshold: 95.5,
      severity: 'warning',
    });
    expect(added.status).toBe(201);
    nvml.setUtil(0, 96, 10);
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="gpu_utilization"] .number:text-is("96 %")');
    // It read "warning > 96 % · rule “GPU busy”" beside a value of 96 %: as if it should not fire.
    expect(await page.textContent('[data-card="gpu_utilization"] .lines')).toContain(
      'warning > 95.5 % · rule “GPU busy”',
    );
    const row = page.locator('#firing .firing-row', { hasText: 'GPU busy' });
    expect(await row.locator('.val').textContent()).toBe('gpu_utilization_percent 96 %');
    await page.click('#open-settings');
    await page.waitForSelector('#settings:not([hidden]) #rules-table');
    const condition = page.locator('#rules-table tr', { hasText: 'GPU busy' }).locator('.condition');
    expect(await condition.textContent()).toContain('gpu_utilization_percent > 95.5 %');
    expect(errors).toEqual([]);
    await page.context().close();
    nvml.setUtil(0, 37, 10);
  });

  it('prints the big number on its own side of the card\u2019s line: 45.7 % under "critical > 45.75 %", not 46 %', async () => {
    const added = await postJson(`${ui.app.baseUrl}/api/monitor/alerts/rules`, {
      name: 'Memory tight',
      metric: 'gpu_memory_utilization_percent',
      op: '>',
      threshold: 45.75,
      severity: 'critical',
    });
    expect(added.status).toBe(201);
    nvml.setMemory(0, 24_576 * MiB, 11_236 * MiB, 0); // 45.72 %
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    const card = '[data-card="gpu_memory"]';
    await page.waitForSelector(`${card} .lines:has-text("45.75")`);
    // It read "46 %", green, under "critical > 45.75 %": as if the colour were wrong.
    expect(await page.textContent(`${card} .number`)).toBe('45.7 %');
    expect(await page.getAttribute(card, 'class')).toContain('ok');
    expect(await page.textContent(`${card} .lines`)).toContain('critical > 45.75 % · rule “Memory tight”');
    expect(errors).toEqual([]);
    await page.context().close();
    const { id } = added.json as { id: string };
    await fetch(`${ui.app.baseUrl}/api/monitor/alerts/rules/${id}`, { method: 'DELETE' });
    nvml.setMemory(0, 24_576 * MiB, 14_280 * MiB, 0);
  });
});
