// The overview as an operator reads it: latency with P95, P99 and the mean on the card,
// one request moving the RPS card, the error rate of 4xx and 5xx with its split and the
// 5xx-only share, one tab counted as one user, the host strip, and a hover chart with
// units on its axis that follows new checks while hovered.
import { describe, expect, it, vi } from 'vitest';
import { postJson } from '../helpers.js';
import { openPage, uiFixture, waitForLive } from './browser.js';

const ui = uiFixture({
  behavior: { tokens: 4, tokenIntervalMs: 1, ttftMs: 20 },
  env: { NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
});

describe('overview cards', () => {
  it('shows P95, P99 and the mean on the latency card, one request on the RPS card, the error rate with its split, and this tab as one user', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="latency"]');
    // The tab's own WebSocket open before the checks below, so that they count it.
    await waitForLive(page);
    await postJson(`${ui.app.baseUrl}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
    await postJson(`${ui.app.baseUrl}/api/ocr`, { image: 'not an image' }); // a 4xx
    // CPU load and IO wait are deltas of /proc/stat: the second reading after the first.
    await ui.app.monitor!.tick(Date.now());
    await vi.waitFor(async () => {
      await ui.app.monitor!.tick(Date.now());
      expect(ui.app.monitor!.lastSnapshot()!.host.every((x) => x.value !== null)).toBe(true);
    });
    await page.waitForFunction(() =>
      /P95 \d/.test(document.querySelector('[data-card="latency"] .facts')?.textContent ?? ''),
    );
    const facts = await page.textContent('[data-card="latency"] .facts');
    expect(facts).toMatch(/P95 [\d.,]+ m?s/);
    expect(facts).toMatch(/P99 [\d.,]+ m?s/);
    expect(facts).toMatch(/avg [\d.,]+ m?s/);
    expect(await page.textContent('[data-card="rps"] .facts')).toBe('2 requests in the last minute');
    // The tutorial's error rate: the 4xx counts as much as a 5xx would.
    expect(await page.textContent('[data-card="error_rate"] .number')).toBe('50 %');
    expect(await page.textContent('[data-card="error_rate"] .facts')).toContain('2xx 1 · 4xx 1 · 5xx 0');
    expect(await page.textContent('[data-card="error_rate"] .facts')).toContain('5xx only 0 %');
    expect(await page.$$eval('[data-card="error_rate"] .lines span', (els) => els.map((e) => e.textContent))).toEqual([
      'warning ≥ 1.5 %',
      'critical > 5 %',
    ]);
    // This tab is the one user: its WebSocket; the keep-alive sockets of the posts above are none.
    expect(await page.textContent('[data-card="connections"] .number')).toBe('1');
    expect(await page.textContent('[data-card="connections"] .facts')).toMatch(/streams 0\s*requests 0\s*WebSockets 1/);
    // The host strip: CPU, memory, IO wait, load and the event loop, each with a value.
    for (const id of ['cpu', 'memory', 'io_wait', 'load', 'event_loop']) {
      expect(await page.textContent(`.host-item[data-host="${id}"] .hv`)).toMatch(/\d/);
    }
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('hover chart', () => {
  // Its own app: the series below is the only history of its metric.
  const ui = uiFixture({ appOptions: { probes: false } });
  it('draws a hover chart that reads values in their unit and takes each new check while hovered', async () => {
    const m = ui.app.monitor!;
    const now = Date.now();
    for (let k = 20; k >= 1; k--)
      m.store.record('latency_ms_p50', { endpoint: '*' }, now - k * 10_000, 1_000 + k * 100);
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="latency"] .spark polyline');
    await page.hover('[data-card="latency"]');
    await page.waitForSelector('[data-card="latency"] .hover-chart canvas');
    const box = await page.$eval('[data-card="latency"] .hover-chart canvas', (c) => c.getBoundingClientRect().height);
    expect(box).toBeGreaterThanOrEqual(100); // a real plot, not a strip
    expect(await page.textContent('[data-card="latency"] .hover-chart .u-legend')).toContain('P95');
    const canvas = await page.$('[data-card="latency"] .hover-chart canvas');
    // The operator points at the chart's right end: the newest point, read in its unit.
    const over = (await page.$('[data-card="latency"] .hover-chart .u-over'))!;
    const newestInLegend = async () => {
      const ob = (await over.boundingBox())!;
      await page.mouse.move(ob.x + ob.width - 3, ob.y + ob.height / 2);
      await page.mouse.move(ob.x + ob.width - 1, ob.y + ob.height / 2);
      return page.textContent('[data-card="latency"] .hover-chart .u-legend');
    };
    await vi.waitFor(async () => expect(await newestInLegend()).toMatch(/P50\s*1\.10 s/));
    m.store.record('latency_ms_p50', { endpoint: '*' }, now, 9_000);
    m.hub.broadcast('snapshot', m.snapshot(now));
    await page.waitForFunction(
      () => (document.querySelector('[data-card="latency"] .number')?.textContent ?? '') === '9.00 s',
    );
    await vi.waitFor(async () => expect(await newestInLegend()).toMatch(/P50\s*9\.00 s/));
    // The chart is drawn over the cards below it, not under them.
    const onTop = await page.evaluate(() => {
      const c = document.querySelector('[data-card="latency"] .hover-chart canvas')!.getBoundingClientRect();
      const hit = document.elementFromPoint(c.left + c.width / 2, c.bottom - 5);
      return Boolean(hit?.closest('.hover-chart'));
    });
    expect(onTop).toBe(true);
    await page.screenshot({ path: 'test-artifacts/hover-latency.png' });
    // Still hovered, the same chart: updated in place, not rebuilt.
    expect(await page.evaluate((c) => c!.isConnected, canvas)).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('chart axes', () => {
  const ui = uiFixture({ appOptions: { probes: false } });
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    it(`write every y label whole at ${viewport.width}×${viewport.height}: 0.5 req/s is not cut to "5 req/s"`, async () => {
      const m = ui.app.monitor!;
      const now = Date.now();
      for (let k = 30; k >= 0; k--)
        m.store.record('requests_per_second', { endpoint: '*' }, now - k * 10_000, 0.4 + (k % 5) * 0.05);
      const context = await ui.browser.newContext({ viewport, locale: 'en-US' });
      const page = await context.newPage();
      // Every text a canvas draws, with where it starts: the axis labels are canvas text.
      await page.addInitScript(() => {
        const drawn: Array<{ text: string; left: number }> = [];
        (window as unknown as { drawnTexts: typeof drawn }).drawnTexts = drawn;
        const fillText = CanvasRenderingContext2D.prototype.fillText;
        CanvasRenderingContext2D.prototype.fillText = function (text: string, x: number, y: number) {
          const width = this.measureText(text).width;
          const align = this.textAlign;
          const left = align === 'right' || align === 'end' ? x - width : align === 'center' ? x - width / 2 : x;
          drawn.push({ text: String(text), left });
          return fillText.call(this, text, x, y);
        };
      });
      await page.goto(`${ui.app.baseUrl}/#monitor`);
      await page.click('[data-card="rps"] .expand');
      await page.waitForSelector('#side-panel:not([hidden]) canvas');
      const labels = await page.evaluate(() =>
        (window as unknown as { drawnTexts: Array<{ text: string; left: number }> }).drawnTexts.filter((d) =>
          d.text.endsWith('req/s'),
        ),
      );
      expect(labels.map((l) => l.text)).toContain('0.5 req/s');
      expect(labels.filter((l) => !/^\d\.\d+ req\/s$/.test(l.text))).toEqual([]);
      // Drawn from x ≥ 0 of the canvas: nothing of a label falls off its left edge.
      expect(labels.filter((l) => l.left < 0)).toEqual([]);
      await page.screenshot({ path: `test-artifacts/axis-rps-${viewport.width}.png` });
      await context.close();
    });
  }
});
