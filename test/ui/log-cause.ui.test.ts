// The log leads to the cause, in real Chromium at 1280×800 and 390×844, English and
// 中文, while the live stream keeps running: `WARN ocr` answers with its lines by event
// (counted by the server over the whole ring, adding up to the lines matched), a click
// on an event narrows the search to it, its lines name the 3264x2448 photos, and the
// results hold still while they are read ("N new lines, paused — resume") until resumed.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson } from '../helpers.js';
import { blackboardPhoto, dataUrl, truncated } from '../pipeline/images.js';
import { openPage, uiFixture } from './browser.js';
import { clippedInside } from './layout-check.js';

const ARTIFACTS = 'test-artifacts/log';
mkdirSync(ARTIFACTS, { recursive: true });

const ui = uiFixture({
  behavior: { tokenLogprob: Math.log(0.38) },
  env: { LOG_SAMPLE_RATE: '1', LOG_RING_SIZE: '10000' },
  appOptions: { probes: false },
});

/** The live stream: lines of the incident keep arriving while the operator reads. */
let live: NodeJS.Timeout | undefined;
function startLiveStream(): void {
  let i = 0;
  live = setInterval(() => {
    i++;
    const log = ui.app.log;
    const request = { request_id: `live-${i}`, client: `classroom-${(i % 6) + 1}` };
    if (i % 3 === 0)
      log.warn('ocr', 'Image preproc failed', {
        reason: 'truncated JPEG: data ends at about 60 % of the image (3264x2448)',
        input_size: '1.1MiB',
        bytes: 1_153_433,
        dimensions: '3264x2448',
        outcome: 'refused',
        ...request,
      });
    else log.warn('ocr', 'Low-confidence OCR', { confidence: 0.38, dimensions: '3264x2448', ...request });
    log.info('vlm', 'Chat completion', { stream: false, ...request });
  }, 150);
}
afterAll(() => clearInterval(live));

/** What the operator sees of the results: each line's text and where it is on the screen. */
const view = (page: Page) =>
  page.$$eval('.log-lines > .log-line', (els) => ({
    scrollTop: document.querySelector('.log-lines')!.scrollTop,
    lines: els.map((e) => `${Math.round(e.getBoundingClientRect().top)} ${e.textContent}`),
  }));

const summaryOf = (page: Page) =>
  page.$$eval('.log-summary .log-event', (els) =>
    els.map((e) => ({
      event: (e as HTMLElement).dataset.event ?? 'other',
      count: Number((e.querySelector('.count')!.textContent ?? '').replace(/\D/g, '')),
      active: e.classList.contains('active'),
    })),
  );

/** The new lines the notice counts (0 while it is hidden). */
const heldCount = (page: Page) =>
  page.$eval('.log-held', (e) => ((e as HTMLElement).hidden ? 0 : Number(/\d+/.exec(e.textContent ?? '')?.[0])));
/** Until the notice counts at least n new lines. */
const heldAtLeast = (page: Page, n: number) =>
  page.waitForFunction((min) => {
    const e = document.querySelector<HTMLElement>('.log-held');
    return e !== null && !e.hidden && Number(/\d+/.exec(e.textContent ?? '')?.[0]) >= min;
  }, n);

describe('the log leads to the cause', () => {
  it('summarises `WARN ocr` by event, narrows to one on a click, and holds still while read', {
    timeout: 180_000,
  }, async () => {
    // The incident, replayed through the OCR route: full-size photos (unsure answers), two cut off.
    const photo = await blackboardPhoto(3264, 2448);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, k) =>
        postJson(
          `${ui.app.baseUrl}/api/ocr`,
          { image: dataUrl(k % 6 === 3 ? truncated(photo, 0.6) : photo) },
          { 'x-client-id': `classroom-${(k % 6) + 1}` },
        ),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(10).fill(200), 400, 400]);
    for (let i = 0; i < 300; i++) ui.app.log.info('vlm', 'Chat completion', { stream: true, request_id: `c${i}` });
    startLiveStream();

    for (const lang of ['en-US', 'zh-CN']) {
      for (const size of [
        { width: 1280, height: 800 },
        { width: 390, height: 844 },
      ]) {
        const tag = `${size.width}x${size.height}-${lang.slice(0, 2)}`;
        const en = lang === 'en-US';
        const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, size);
        // The live stream runs: the unfiltered log follows it.
        await page.waitForSelector('.log-lines > .log-line');
        const firstSeen = await page.$$eval('.log-lines > .log-line', (els) => els.length);
        await page.waitForFunction((n) => document.querySelectorAll('.log-lines > .log-line').length > n, firstSeen);

        // (1) `WARN ocr`: the lines by event, counted over every match, adding up to it.
        await page.fill('.log-search', 'WARN ocr');
        await page.waitForSelector('.log-summary:not([hidden]) .log-event');
        const summary = await summaryOf(page);
        expect(summary.map((e) => e.event)).toEqual(['Low-confidence OCR', 'Image preproc failed']);
        const status = (await page.textContent('.log-status'))!;
        const matched = Number((en ? /^([\d,]+) of/ : /中 ([\d,]+) 行匹配/).exec(status)![1]!.replace(/,/g, ''));
        expect(summary.reduce((a, e) => a + e.count, 0)).toBe(matched);
        expect(await page.textContent('.log-summary .muted')).toBe(en ? 'By event:' : '按事件：');
        await page.locator('.log-panel').screenshot({ path: `${ARTIFACTS}/summary-${tag}.png` });

        // (2) A click on an event narrows the search to it; its lines name the photo.
        await page.click('.log-summary .log-event[data-event="Image preproc failed"]');
        await page.waitForFunction(() => {
          const only = document.querySelectorAll('.log-summary .log-event');
          return only.length === 1 && only[0]!.classList.contains('active');
        });
        expect(await page.inputValue('.log-search')).toBe('WARN ocr event="Image preproc failed"');
        const [narrowed] = await summaryOf(page);
        const results = await view(page);
        expect(results.lines).toHaveLength(narrowed!.count);
        expect(narrowed!.count).toBeGreaterThanOrEqual(2);
        for (const line of results.lines)
          expect(line).toMatch(/ WARN ocr Image preproc failed reason="truncated JPEG.*dimensions=3264x2448/);

        // (3) The stream keeps running; the results do not move while they are read.
        await heldAtLeast(page, 1);
        await heldAtLeast(page, (await heldCount(page)) + 2);
        expect(await view(page)).toEqual(results);
        const held = (await page.textContent('.log-held'))!;
        expect(held).toMatch(en ? /^\d+ new lines, paused — resume$/ : /^\d+ 条新日志，已暂停 — 继续$/);
        expect(await page.textContent('.log-panel .pause')).toBe(en ? 'Resume' : '继续');
        // The notice floats over the list, inside it; nothing around it is clipped.
        const [bar, box] = await Promise.all([
          page.locator('.log-held').boundingBox(),
          page.locator('.log-view').boundingBox(),
        ]);
        expect(bar!.x).toBeGreaterThanOrEqual(box!.x);
        expect(bar!.x + bar!.width).toBeLessThanOrEqual(box!.x + box!.width);
        const problems = await clippedInside(page, '.log-panel .toolbar, .log-meta, .log-summary');
        expect(problems, JSON.stringify(problems)).toEqual([]);
        await page.locator('.log-panel').screenshot({ path: `${ARTIFACTS}/held-${tag}.png` });

        // (4) Resume: the search is asked again, the lines that came meanwhile in it.
        const heldNow = await heldCount(page);
        await page.click('.log-held');
        await page.waitForFunction(
          (n) => document.querySelectorAll('.log-lines > .log-line').length >= n,
          results.lines.length + heldNow,
        );
        const [after] = await summaryOf(page);
        expect(after!.count).toBe(await page.$$eval('.log-lines > .log-line', (els) => els.length));
        expect(after!.count).toBeGreaterThanOrEqual(narrowed!.count + heldNow);

        // (5) A click on the active event widens the search back.
        await page.click('.log-summary .log-event.active');
        await page.waitForFunction(() => document.querySelectorAll('.log-summary .log-event').length === 2);
        expect(await page.inputValue('.log-search')).toBe('WARN ocr');
        expect(errors).toEqual([]);
        await page.context().close();
      }
    }
  });

  it('holds the live log still while an older line is read, and follows again on resume', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'en-US', {
      width: 1280,
      height: 800,
    });
    await page.waitForSelector('.log-lines > .log-line');
    // Follows the stream: the newest line at the bottom.
    const atBottom = () =>
      page.$eval('.log-lines', (l) => l.scrollHeight - l.scrollTop - l.clientHeight < 2 && l.scrollHeight > 0);
    await page.waitForFunction(() => document.querySelectorAll('.log-lines > .log-line').length > 20);
    expect(await atBottom()).toBe(true);
    await page.$eval('.log-lines', (l) => {
      l.scrollTop = 100;
    });
    await page.waitForSelector('.log-held:not([hidden])');
    const reading = await view(page);
    await heldAtLeast(page, (await heldCount(page)) + 2);
    expect(await view(page)).toEqual(reading);
    const waiting = await heldCount(page);
    await page.click('.log-panel .pause');
    await page.waitForFunction(
      (n) => document.querySelectorAll('.log-lines > .log-line').length >= n,
      Math.min(1000, reading.lines.length + waiting),
    );
    expect(await atBottom()).toBe(true);
    expect(await page.textContent('.log-panel .pause')).toBe('Pause');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
