// The GPU cards on GPUs read from a DCGM exporter (GPU_METRICS_URL), in real Chromium:
// they name the GPU and where it was read, and say why they are empty when its host is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h100, startDcgmExporter, type FakeDcgmExporter } from '../dcgm-exporter.js';
import { openPage, uiFixture } from './browser.js';

const cleanups: Array<() => Promise<void>> = [];
const env: Record<string, string> = {};
let exporter: FakeDcgmExporter;
// Before the fixture's app starts (hooks run in order): the app reads GPU_METRICS_URL at start.
beforeAll(async () => {
  exporter = await startDcgmExporter(
    cleanups,
    [h100(0, 1, { fbUsed: 14_280, util: 37 }), h100(1, 1, { fbUsed: 2_000, util: 3 })],
    'gpu-node-1',
  );
  env.GPU_METRICS_URL = `gpu-node-1=${exporter.url}`;
});
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
const ui = uiFixture({ env });

describe('GPU cards from a DCGM exporter', () => {
  it('name the GPU and the host it was read at, in English and in Chinese', async () => {
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="gpu_memory"].ok');
    const facts = await page.textContent('[data-card="gpu_memory"] .facts');
    expect(facts).toContain('GPU 0 of 2');
    expect(facts).toContain('DCGM exporter at gpu-node-1');
    expect(await page.textContent('[data-card="gpu_utilization"] .number')).toBe('37 %');
    expect(await page.textContent('[data-card="gpu_utilization"] .facts')).toContain('DCGM exporter at gpu-node-1');
    expect(errors).toEqual([]);
    await page.context().close();

    const zh = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'zh-CN');
    await zh.page.waitForSelector('[data-card="gpu_memory"].ok');
    expect(await zh.page.textContent('[data-card="gpu_memory"] .facts')).toContain('来自 gpu-node-1 的 DCGM 导出器');
    expect(zh.errors).toEqual([]);
    await zh.page.context().close();
  });

  it('say why they are empty when the host is gone', async () => {
    await exporter.stop();
    await ui.app.monitor!.tick(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'zh-CN');
    await page.waitForSelector('[data-card="gpu_memory"].unavailable');
    const reason = await page.textContent('[data-card="gpu_memory"] .reason');
    expect(reason).toContain('GPU 数据源不可用：gpu-node-1 上的 DCGM 导出器 (http://127.0.0.1:');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
