// The host strip's arrows as an operator checks them against the API: an IO wait of 0.6 %
// against a normal of 0.5 % is 20 % up and flat (its band is 1 %), and both the snapshot
// and the arrow's hover say why; a CPU from 40 % to 60 % is "↑ 50 %" in both.
import { describe, expect, it } from 'vitest';
import type { HostItem } from '../../src/metrics/snapshot.js';
import { openPage, uiFixture } from './browser.js';

// The store is written by hand: no probe adds its own points.
const ui = uiFixture({ appOptions: { probes: false } });
const INTERVAL = 10_000;

/** Eleven minutes of checks ending now: IO wait 0.5 % then 0.6 %, CPU 40 % then 60 %. */
function record(now: number): void {
  const m = ui.app.monitor!;
  for (let k = 66; k >= 0; k--) {
    const t = now - k * INTERVAL;
    m.store.record('disk_io_wait_percent', {}, t, k === 0 ? 0.6 : 0.5);
    m.store.record('cpu_load_percent', {}, t, k === 0 ? 60 : 40);
  }
  m.hub.broadcast('snapshot', m.snapshot(now));
}

const HOVER = {
  'en-US': /^against normal 0\.5 %: .* changes up to 1 % or 5 % of the normal show as →$/,
  'zh-CN': /^对比正常值 0\.5 %：.*不超过 1 % 或正常值 5 % 的变化显示为 →$/,
} as const;

describe('host strip: the arrow and the API agree on what is flat', () => {
  const now = Date.now();
  it('says in the snapshot why +20 % is flat: the normal and the band it was measured by', async () => {
    record(now);
    const res = await fetch(`${ui.app.baseUrl}/api/monitor/snapshot`);
    const host = ((await res.json()) as { host: HostItem[] }).host;
    const io = host.find((x) => x.id === 'io_wait')!;
    expect(io).toMatchObject({ value: 0.6, trend: 'flat', baseline: 0.5, noCalmBaseline: false });
    expect(io.changePercent).toBeCloseTo(20, 9);
    expect(io.trendRule).toMatchObject({ minDelta: 1, flatPercent: 5 });
    const cpu = host.find((x) => x.id === 'cpu')!;
    expect(cpu).toMatchObject({ value: 60, trend: 'up', changePercent: 50, baseline: 40 });
  });

  for (const lang of ['en-US', 'zh-CN'] as const) {
    it(`${lang}: the arrows read as the snapshot says, and hovering one names its normal and band`, async () => {
      const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, {
        width: 1280,
        height: 800,
      });
      const io = '.host-item[data-host="io_wait"] .trend';
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '→', io);
      expect(await page.textContent('.host-item[data-host="cpu"] .trend')).toBe('↑ 50 %');
      expect(await page.getAttribute(io, 'title')).toMatch(HOVER[lang]);
      expect(await page.getAttribute('.host-item[data-host="cpu"] .trend', 'title')).toMatch(
        lang === 'en-US' ? /^against normal 40 %: / : /^对比正常值 40 %：/,
      );
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }
});
