// The overview at every width an operator uses, 360 to 2560 px, with eight GPUs and the
// longest values the cards can hold: no value clipped, six cards filling rows evenly,
// nothing scrolling sideways. Screenshots of each size go to test-artifacts/.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeNvml } from '../fake-nvml/build.js';
import { openPage, uiFixture } from './browser.js';
import { cardRows, clippedInside, sidewaysOverflow } from './layout-check.js';

const ARTIFACTS = 'test-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });
const MiB = 1024 * 1024;
const nvml = fakeNvml('current');
nvml.reset(8);
for (let i = 0; i < 8; i++) {
  nvml.setMemory(i, 81_559 * MiB, (60_000 + i * 2_500) * MiB, 0);
  nvml.setUtil(i, 90 + i, 40);
}
const ui = uiFixture({ env: { NVML_LIBRARY: nvml.path } });

let recordedUntil = 0;

/** Ten minutes of history ending now with the widest numbers each card may print. */
async function widestValues(): Promise<void> {
  const m = ui.app.monitor!;
  const now = Date.now();
  await m.tick(now);
  const all = { endpoint: '*' };
  for (let k = 66; k >= 0; k--) {
    const t = now - k * 10_000;
    if (t <= recordedUntil) continue; // each series stays in time order across tests
    recordedUntil = t;
    const incident = k < 6; // the last minute is far above the ten before it
    m.store.record('gpu_memory_utilization_percent', { gpu: '7' }, t, incident ? 99.9 : 20);
    m.store.record('latency_ms_p50', all, t, incident ? 13_249 : 800);
    m.store.record('latency_ms_p95', all, t, incident ? 59_900 : 1_900);
    m.store.record('latency_ms_p99', all, t, incident ? 150_000 : 2_500);
    m.store.record('latency_ms_avg', all, t, incident ? 14_800 : 900);
    m.store.record('requests_per_second', all, t, incident ? 12_345.6 : 10);
    m.store.record('http_status_2xx', all, t, 123_456);
    m.store.record('http_status_4xx', all, t, 123_456);
    m.store.record('http_status_5xx', all, t, 123_456);
    m.store.record('error_rate_percent', all, t, incident ? 100 : 0.01);
    m.store.record('active_connections', {}, t, incident ? 12_345 : 3);
    m.store.record('model_requests_in_flight', {}, t, 12_345);
    m.store.record('websocket_active_connections', {}, t, 12_345);
  }
  m.hub.broadcast('snapshot', m.snapshot(now));
}

const SIZES = [
  { width: 360, height: 780, columns: 1 },
  { width: 390, height: 844, columns: 1 },
  { width: 800, height: 900, columns: 2 },
  { width: 1280, height: 800, columns: 3 },
  { width: 1920, height: 1080, columns: 6 },
  { width: 2560, height: 1440, columns: 6 },
];

describe('overview layout', () => {
  for (const lang of ['en-US', 'zh-CN']) {
    for (const size of SIZES) {
      it(`${size.width}×${size.height} ${lang}: no card value clipped, ${size.columns} per row, no sideways scroll`, async () => {
        await widestValues();
        const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, {
          width: size.width,
          height: size.height,
        });
        await page.waitForFunction(() =>
          (document.querySelector('[data-card="latency"] .number')?.textContent ?? '').includes('s'),
        );
        await page.waitForSelector('.host-item[data-host="cpu"]');
        expect(await page.textContent('[data-card="latency"] .trend')).toMatch(/^↑ [\d,]+ %$/);
        expect(await page.textContent('[data-card="gpu_memory"] .facts')).toContain('GPU 7');
        expect(await clippedInside(page)).toEqual([]);
        expect(await cardRows(page)).toEqual(Array(6 / size.columns).fill(size.columns));
        expect(await sidewaysOverflow(page)).toEqual([]);
        await page.screenshot({
          path: `${ARTIFACTS}/layout-${size.width}x${size.height}-${lang.slice(0, 2)}.png`,
          fullPage: true,
        });
        // The side panel and Model Metrics fit too.
        await page.click('[data-card="latency"] .expand');
        await page.waitForSelector('#side-panel:not([hidden]) canvas');
        expect(await sidewaysOverflow(page)).toEqual([]);
        await page.click('#side-panel button:has-text("1h") >> xpath=following-sibling::button');
        await page.click('[data-sub="model"]');
        await page.waitForSelector('.model-card .number');
        expect(await clippedInside(page, '.model-card')).toEqual([]);
        expect(await sidewaysOverflow(page)).toEqual([]);
        expect(errors).toEqual([]);
        await page.context().close();
      });
    }
  }
});

describe('the side panel when the window changes size', () => {
  it('keeps its chart inside the panel from 1280×800 to a phone at 390×844 and out to 1920×1080', async () => {
    await widestValues();
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'en-US', {
      width: 1280,
      height: 800,
    });
    await page.click('[data-card="latency"] .expand');
    await page.waitForSelector('#side-panel:not([hidden]) canvas');
    for (const size of [
      { width: 390, height: 844 },
      { width: 1920, height: 1080 },
      { width: 1280, height: 800 },
    ]) {
      // A phone turned, a window narrowed or widened, with the panel open.
      await page.setViewportSize(size);
      await page.waitForFunction(() => {
        const side = document.getElementById('side-panel')!.getBoundingClientRect();
        const chart = document.querySelector('#side-panel .uplot')!.getBoundingClientRect();
        return chart.left >= side.left && chart.right <= side.right;
      });
      expect(await sidewaysOverflow(page)).toEqual([]);
      expect(await clippedInside(page, '#side-panel')).toEqual([]);
      await page.screenshot({ path: `${ARTIFACTS}/side-panel-resized-${size.width}x${size.height}.png` });
    }
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
