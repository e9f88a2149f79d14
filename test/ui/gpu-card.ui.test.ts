// The GPU cards and the Model Metrics sub-tab with data, in real Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startFakeUpstream, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson, startApp, type TestApp } from '../helpers.js';
import { launch, openPage } from './browser.js';

const MiB = 1024 * 1024;
let browser: Browser;
let app: TestApp;
let fake: FakeUpstream;

beforeAll(async () => {
  const nvml = fakeNvml('current');
  nvml.reset(1);
  nvml.setMemory(0, 24_576 * MiB, 14_280 * MiB, 0);
  nvml.setUtil(0, 37, 10);
  fake = await startFakeUpstream({ behavior: { errorRate: 0, ttftMs: 2, tokenIntervalMs: 0, spread: 0, tokenLogprob: Math.log(0.8) } });
  app = await startApp({ NVML_LIBRARY: nvml.path, UPSTREAM_URL: fake.url });
  browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fake?.close();
});

describe('GPU card and model metrics', () => {
  it('prints GPU memory as used / total MiB with the share, and utilisation', async () => {
    await app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(browser, `${app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="gpu_memory"].ok');
    expect(await page.textContent('[data-card="gpu_memory"] .number')).toBe('14,280 / 24,576 MiB (58 %)');
    expect(await page.textContent('[data-card="gpu_utilization"] .number')).toBe('37.0 %');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows the model layer per module in the Model Metrics sub-tab', async () => {
    await postJson(`${app.baseUrl}/api/ocr`, { image: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==' }, { 'x-client-id': 'scanner' });
    await app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(browser, `${app.baseUrl}/#monitor`);
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
});
