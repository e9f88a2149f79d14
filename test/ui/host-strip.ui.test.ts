// The host strip as an operator reads it after the server was blind: the event loop item
// with its worst stall, in words and colour, at a laptop, a desktop and a phone, in English
// and 中文, with the widest values every item can print and nothing clipped; its hover chart
// inside the window, its side panel on a click, the line broken where checks were missed.
// Screenshots go to test-artifacts/.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture } from './browser.js';
import { clippedInside, sidewaysOverflow } from './layout-check.js';

const ARTIFACTS = 'test-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });
// The store is written by hand: no probe adds its own points.
const ui = uiFixture({ appOptions: { probes: false } });

const INTERVAL = 10_000;
/** The loop held 30.5 s three minutes ago (three checks missed), and 13.2 s just now. */
const EARLIER_STALL_MS = 30_500;
const NOW_STALL_MS = 13_200;

let recordedUntil = 0;

/** Ten minutes of checks ending now, the widest numbers on every host item. */
function incident(now: number): number {
  const m = ui.app.monitor!;
  const stallAt = now - 18 * INTERVAL;
  for (let k = 60; k >= 0; k--) {
    const t = now - k * INTERVAL;
    if (t <= recordedUntil) continue; // each series stays in time order across tests
    if (t > stallAt - 4 * INTERVAL && t < stallAt) continue; // blind: no check ran
    recordedUntil = t;
    m.store.record('cpu_load_percent', {}, t, 100);
    m.store.record('memory_utilization_percent', {}, t, 99.9);
    m.store.record('memory_used_mib', {}, t, 2_045_000);
    m.store.record('memory_total_mib', {}, t, 2_047_000);
    m.store.record('disk_io_wait_percent', {}, t, 99.9);
    m.store.record('io_pressure_some_avg10', {}, t, 99.99);
    m.store.record('load_average_1m', {}, t, 1_234.56);
    m.store.record('load_average_5m', {}, t, 1_234.56);
    m.store.record('load_average_15m', {}, t, 1_234.56);
    const delay = t === stallAt ? EARLIER_STALL_MS : k === 0 ? NOW_STALL_MS : 0.4;
    m.store.record('event_loop_delay_max_ms', {}, t, delay);
    m.store.record('event_loop_delay_p99_ms', {}, t, k === 0 ? 1.2 : 0.3);
  }
  m.hub.broadcast('snapshot', m.snapshot(now));
  return stallAt;
}

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
  { width: 390, height: 844 },
];

const TEXT = {
  'en-US': { status: 'critical', blocked: /^P99 1\.2 ms · blocked 30\.5 s at \d{2}:\d{2}:\d{2}$/ },
  'zh-CN': { status: '严重', blocked: /^P99 1\.2 ms · \d{2}:\d{2}:\d{2} 阻塞 30\.5 s$/ },
} as const;

describe('host strip: the event loop', () => {
  for (const lang of ['en-US', 'zh-CN'] as const) {
    for (const size of SIZES) {
      it(`${size.width}×${size.height} ${lang}: says how long the server was blind, nothing clipped`, async () => {
        const now = Date.now();
        incident(now);
        const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, size);
        const item = '.host-item[data-host="event_loop"]';
        await page.waitForFunction((sel) => document.querySelector(`${sel} .hv`)?.textContent === '13.2 s', item);
        expect(await page.getAttribute(item, 'class')).toBe('host-item crit');
        expect(await page.textContent(`${item} .label`)).toBe(lang === 'en-US' ? 'Event loop' : '事件循环');
        expect(await page.textContent(`${item} .hstatus`)).toBe(TEXT[lang].status);
        expect(await page.textContent(`${item} .hdetail`)).toMatch(TEXT[lang].blocked);
        for (const id of ['cpu', 'memory', 'io_wait', 'load'])
          expect(await page.textContent(`.host-item[data-host="${id}"] .hv`)).toMatch(/\d/);
        expect(await clippedInside(page, '.host-item')).toEqual([]);
        expect(await sidewaysOverflow(page)).toEqual([]);
        const tag = `${size.width}x${size.height}-${lang.slice(0, 2)}`;
        await page.locator('#host-strip').screenshot({ path: `${ARTIFACTS}/host-strip-${tag}.png` });

        // Hovering draws the last 5 minutes inside the window, even at a phone's right edge.
        await page.hover(item);
        await page.waitForSelector(`${item} .hover-chart canvas`);
        const box = await page.$eval(`${item} .hover-chart`, (el) => {
          const r = el.getBoundingClientRect();
          return { left: r.left, right: r.right, vw: document.documentElement.clientWidth };
        });
        expect(box.left).toBeGreaterThanOrEqual(0);
        expect(box.right).toBeLessThanOrEqual(box.vw);
        expect(await sidewaysOverflow(page)).toEqual([]);
        await page.screenshot({ path: `${ARTIFACTS}/host-strip-hover-${tag}.png` });

        // A click opens the full series in the side panel.
        await page.click(item);
        await page.waitForSelector('#side-panel:not([hidden]) canvas');
        expect(await page.textContent('#side-panel .panel-title')).toContain('event_loop_delay_max_ms');
        await page.screenshot({ path: `${ARTIFACTS}/host-strip-panel-${tag}.png` });
        expect(await sidewaysOverflow(page)).toEqual([]);
        expect(errors).toEqual([]);
        await page.context().close();
      });
    }
  }

  it('breaks the line where checks were missed instead of joining across the blind stretch', async () => {
    const now = Date.now();
    incident(now);
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('.host-item[data-host="event_loop"]');
    // The page's own module, as the strip loads it (a string: vitest would rewrite import()).
    const breakGaps = (points: Array<[number, number]>) =>
      page.evaluate(
        `import('/js/monitor/chart.js').then((m) => m.breakGaps(${JSON.stringify(points)}, ${INTERVAL * 1.5}))`,
      ) as Promise<Array<[number, number | null]>>;
    const lines = {
      // Checks at 0, 10 and 20 s; the loop held 30 s; the next check at 51 s.
      missed: await breakGaps([
        [0, 0.4],
        [10_000, 0.5],
        [20_000, 0.4],
        [51_000, 30_500],
        [61_000, 0.3],
      ]),
      // A check late by 4 s is still a line.
      late: await breakGaps([
        [0, 0.4],
        [14_000, 4_000],
        [24_000, 0.4],
      ]),
    };
    expect(lines.missed).toEqual([
      [0, 0.4],
      [10_000, 0.5],
      [20_000, 0.4],
      [35_500, null],
      [51_000, 30_500],
      [61_000, 0.3],
    ]);
    expect(lines.late.map(([, v]) => v)).not.toContain(null);
    // The snapshot the hover chart draws has the blind stretch as a gap, not made-up points.
    const snap = ui.app.monitor!.snapshot(now);
    const spark = snap.host.find((x) => x.id === 'event_loop')!.spark;
    const steps = spark.slice(1).map(([t], i) => t - spark[i]![0]);
    expect(Math.max(...steps)).toBeGreaterThan(INTERVAL * 1.5);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
