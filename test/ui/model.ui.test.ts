// The Model Metrics sub-tab as the tutorial's step 2 uses it, in real Chromium: filtered
// to `ocr`, each figure is a card with its change against normal, a stale figure shows
// its age greyed out, the stages add up to the total, hover and expand draw the series,
// and a refresh costs one request.
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/probes/prometheus-text.js';
import { readEngine } from '../../src/probes/upstream-metrics.js';
import { openPage, uiFixture, waitForLive } from './browser.js';
import { clippedInside } from './layout-check.js';

mkdirSync('test-artifacts', { recursive: true });
const ui = uiFixture({ appOptions: { probes: false } });
const minute = 60_000;

function incidentHistory(now: number): void {
  const store = ui.app.monitor!.store;
  for (let t = now - 40 * minute; t <= now; t += 10_000) {
    const incident = t > now - minute;
    store.record('ocr_avg_duration', {}, t, incident ? 2_140 : 700);
    store.record('ocr_error_count', {}, t, incident ? 12 : 3);
    store.record('ocr_confidence_mean', {}, t, incident ? 0.38 : 0.95);
    store.record('ocr_preproc_failure_rate', {}, t, incident ? 8 : 0);
  }
  // Stage means over the same 42 requests, as the check records them.
  for (const [stage, v] of Object.entries({
    preprocess: 240,
    inference: 1_860,
    postprocess: 20,
    other: 20,
    total: 2_140,
  }))
    store.record('request_stage_ms', { module: 'ocr', stage }, now, v);
  store.record('model_requests_ended', { module: 'ocr' }, now, 42);
  // One GUI step three minutes ago: its success rate was last fed then.
  for (let t = now - 4 * minute; t <= now - 3 * minute; t += 10_000) store.record('gui_step_success_rate', {}, t, 100);
}

const card = (metric: string) => `.model-card[data-metric="${metric}"]`;

describe('Model Metrics', () => {
  it('shows the OCR figures with their change against normal, stale ones with their age, and the stages adding up', async () => {
    const now = Date.now();
    incidentHistory(now);
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.click('[data-sub="model"]');
    await page.waitForSelector(`${card('ocr_error_count')} .number`);
    await page.selectOption('#sub-model .module-filter', 'ocr');
    expect(await page.isHidden('section.module[data-module="gui"]')).toBe(true);
    expect(await page.textContent(`${card('ocr_avg_duration')} .number`)).toBe('2.14 s');
    // Its lines, the catalogue's (no rule watches it here), beside the calm normal.
    expect(await page.textContent(`${card('ocr_avg_duration')} .lines`)).toBe('warning ≥ 800 mscritical ≥ 2.00 s');
    expect(await page.textContent(`${card('ocr_avg_duration')} .facts`)).toBe('normal 700 ms');
    expect(await page.textContent(`${card('ocr_avg_duration')} .metric-name`)).toBe('ocr_avg_duration');
    expect(await page.textContent(`${card('ocr_error_count')} .number`)).toBe('12 /min');
    expect(await page.textContent(`${card('ocr_error_count')} .trend`)).toBe('↑ 300 % vs normal');
    expect(await page.textContent(`${card('ocr_error_count')} .facts`)).toContain('normal 3 /min');
    expect(await page.textContent(`${card('ocr_confidence_mean')} .number`)).toBe('0.38');
    expect(await page.textContent(`${card('ocr_confidence_mean')} .trend`)).toBe('↓ 60 % vs normal');
    // Below 0.6 is the log's WARN and the OCR alarm: a warning; confidence has no critical line.
    expect(await page.getAttribute(card('ocr_confidence_mean'), 'class')).toContain('warn');
    expect(await page.textContent(`${card('ocr_confidence_mean')} .lines`)).toBe('warning < 0.60');
    expect(
      await page.$$eval('section.module[data-module="ocr"] .stage-legend span', (els) => els.map((e) => e.textContent)),
    ).toEqual([
      'preprocess 240 ms',
      '+',
      'inference 1.86 s',
      '+',
      'postprocess 20 ms',
      '+',
      'other 20 ms',
      '= total 2.14 s',
    ]);
    expect(await page.textContent('section.module[data-module="ocr"] .stages')).toContain(
      'Stage means over the same 42 requests',
    );
    await page.screenshot({ path: 'test-artifacts/model-ocr.png', fullPage: true });

    await page.selectOption('#sub-model .module-filter', 'gui');
    expect(await page.getAttribute(card('gui_step_success_rate'), 'class')).toContain('stale');
    expect(await page.textContent(`${card('gui_step_success_rate')} .age`)).toBe('3 min ago; no request since');
    expect(await page.textContent(`${card('gui_step_success_rate')} .trend`)).toBe('');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('draws a card on hover, opens its series on expand, and refreshes with one request per check', {
    timeout: 60_000,
  }, async () => {
    // Its own history: the first test's may have aged past fresh by now on a busy machine.
    incidentHistory(Date.now());
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    // Listeners from the start: Playwright has the browser send request events only once it
    // has been told a listener exists, and a waitForRequest made just before a check told it
    // too late on a loaded machine (the page asked 35 ms after the check; no event came).
    const asked: string[] = [];
    let seen = 0;
    let answered = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/')) asked.push(new URL(r.url()).pathname);
      if (r.url().endsWith('/api/monitor/model')) seen++;
    });
    page.on('response', (r) => {
      if (r.url().endsWith('/api/monitor/model')) answered++;
    });
    await page.click('[data-sub="model"]');
    // The figure first, then the hover: a card hovered before its series arrived has no chart to draw.
    await expect.poll(() => page.textContent(`${card('ocr_error_count')} .number`)).toBe('12 /min');
    await page.hover(card('ocr_error_count'));
    await page.waitForSelector(`${card('ocr_error_count')} .hover-chart canvas`);
    await page.click(`${card('ocr_error_count')} .expand`);
    await page.waitForSelector('#side-panel:not([hidden]) canvas');
    await page.click('#side-panel button:has-text("1h")');
    await page.waitForSelector('#side-panel:not([hidden]) canvas');

    await waitForLive(page); // each check is pushed: the stream must be open to hear it
    // A check's own request and its answer; after the first, every request made before it has been made.
    const checked = async () => {
      const before = seen;
      ui.app.monitor!.check(Date.now());
      await expect.poll(() => seen).toBeGreaterThan(before);
      await expect.poll(() => answered).toBe(seen);
    };
    await checked();
    asked.length = 0;
    // Two checks: whatever the first made the page ask for has been asked before the second answer.
    for (let i = 0; i < 2; i++) await checked();
    expect(asked).toEqual(['/api/monitor/model', '/api/monitor/model']);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows each of two vLLM engines and their fullest KV cache, never the sum, and says so', {
    timeout: 60_000,
  }, async () => {
    // A vLLM page with two data-parallel engines at 40 % and 60 % KV cache (a sum would read 100 %).
    const page2 = ['0', '1']
      .map(
        (e, i) =>
          `vllm:num_requests_running{engine="${e}"} ${3 + i}\nvllm:num_requests_waiting{engine="${e}"} ${i}\nvllm:kv_cache_usage_perc{engine="${e}"} ${i ? 0.6 : 0.4}\n`,
      )
      .join('');
    ui.app.monitor!.engine = readEngine(parsePrometheusText(page2), undefined).reading;
    for (const [lang, viewport] of [
      ['en-US', { width: 1280, height: 800 }],
      ['zh-CN', { width: 390, height: 844 }],
      ['en-US', { width: 1920, height: 1080 }],
    ] as const) {
      const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, viewport);
      await page.click('[data-sub="model"]');
      await page.waitForSelector('#sub-model .engine-note');
      const rows = await page.$$eval('#sub-model .engine-note', (n) =>
        [...n[0]!.parentElement!.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent)),
      );
      const all = lang === 'zh-CN' ? '合计' : 'all';
      const one = lang === 'zh-CN' ? '引擎 ' : 'engine ';
      expect(rows.slice(1)).toEqual([
        [all, '7', '1', '60 %', '—'],
        [`${one}0`, '3', '0', '40 %', '—'],
        [`${one}1`, '4', '1', '60 %', '—'],
      ]);
      expect(await page.textContent('#sub-model .engine-note')).toContain(
        lang === 'zh-CN' ? '2 个引擎：KV 缓存取最满的引擎' : "2 engines: KV cache is the fullest engine's",
      );
      expect(await clippedInside(page, '#sub-model .box')).toEqual([]);
      await page
        .locator('#sub-model .engine-note')
        .locator('..')
        .screenshot({ path: `test-artifacts/model-engines-${viewport.width}.png` });
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });
});
