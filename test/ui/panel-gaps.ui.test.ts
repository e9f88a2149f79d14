// The side panel's chart breaks its line where the series has no points, as the host
// strip's do: an error rate over a stretch with no requests (no value then) was drawn as a
// straight line from the last 100 % down to the next value, as if measured all along.
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture } from './browser.js';

// The store is written by hand: no probe adds its own points.
const ui = uiFixture({ appOptions: { probes: false } });
const INTERVAL = 10_000;

describe('the side panel chart', () => {
  it('shows no value where the error rate had none: hovering the stretch without requests reads —', async () => {
    const m = ui.app.monitor!;
    const now = Date.now();
    const all = { endpoint: '*' };
    // Checks every 10 s for 5 minutes; no requests (no error rate) from 3 minutes ago to 1 minute ago.
    for (let k = 30; k >= 0; k--) {
      const t = now - k * INTERVAL;
      const quiet = k < 18 && k > 6;
      m.store.record('http_status_2xx', all, t, quiet ? 0 : 9);
      m.store.record('http_status_5xx', all, t, quiet ? 0 : 1);
      if (!quiet) m.store.record('error_rate_percent', all, t, k > 6 ? 100 : 6);
    }
    m.hub.broadcast('snapshot', m.snapshot(now));
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'en-US', {
      width: 1280,
      height: 800,
    });
    await page.click('[data-card="error_rate"] .expand');
    await page.click('#side-panel button:has-text("5m")');
    await page.waitForSelector('#side-panel .u-over');
    const over = (await page.locator('#side-panel .u-over').boundingBox())!;
    // The legend's value as the pointer crosses the chart from left to right.
    const read: string[] = [];
    for (let x = over.x + 2; x < over.x + over.width - 2; x += over.width / 60) {
      await page.mouse.move(x, over.y + over.height / 2);
      read.push((await page.locator('#side-panel .u-legend .u-series').nth(1).locator('.u-value').textContent()) ?? '');
    }
    expect(read[0]).toBe('100 %');
    expect(read.at(-1)).toBe('6 %');
    // Across the quiet stretch: no value, not a line from 100 % to 6 %.
    expect(read).toContain('—');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
