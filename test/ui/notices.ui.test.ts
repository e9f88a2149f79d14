// Several notices at once, in real Chromium, as the demo's incident raises them: four
// presets fire and a long request raises a per-request notice. The newest
// notice is open, every other one is one line, so the cards' first row stays on the first
// screen at 1280×800 and 390×844, in English and Chinese; a one-line notice opens on a
// click; the per-request notice names its request and client and is dismissed; the
// language toggle says the notices again in the other language.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { postJson, startApp, userMessage, type TestApp } from '../helpers.js';
import { launch, openPage, waitForLive } from './browser.js';
import { clippedInside } from './layout-check.js';

const ARTIFACTS = 'test-artifacts/notices';
mkdirSync(ARTIFACTS, { recursive: true });

let browser: Awaited<ReturnType<typeof launch>>;
let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream({ behavior: { errorRate: 0, ttftMs: 5, tokenIntervalMs: 1, spread: 0, tokens: 2 } });
  browser = await launch();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await fake?.close();
});

/**
 * Four presets the incident fires, a per-request rule, and the incident's readings until
 * all four fire. (OCR degradation is left out: each check records the OCR error rate from
 * real requests, over any reading written here.)
 */
async function incident(app: TestApp): Promise<void> {
  for (const id of ['p95-latency', 'gpu-memory-pressure', 'ocr-preprocessing', 'error-rate'])
    expect((await postJson(`${app.baseUrl}/api/monitor/alerts/presets/${id}/import`, {})).status).toBe(200);
  await postJson(`${app.baseUrl}/api/monitor/alerts/rules`, {
    name: 'Long-context risk',
    metric: 'input_token_count',
    op: '>',
    threshold: 100,
    perRequest: true,
    severity: 'info',
  });
  app.log.warn('ocr', 'Image preproc failed', { width: 3264, height: 2448, bytes: 2_874_113 });
  app.log.error('ocr', 'OCR failed', { code: 'UPSTREAM_ERROR', request_id: 'req-41' });
  let t = Date.now();
  for (let i = 0; i < 8; i++) {
    t += 10_000;
    const store = app.monitor!.store;
    store.record('latency_ms_p95', { endpoint: '*' }, t, 9_800);
    store.record('error_rate_5xx_percent', { endpoint: '*' }, t, 7.3);
    store.record('gpu_memory_utilization_percent', { gpu: '0' }, t, 95);
    store.record('ocr_preproc_failure_rate', {}, t, 8);
    app.monitor!.check(t);
    await app.alerts!.idle();
  }
  expect(app.alerts!.active().filter((a) => a.state === 'firing')).toHaveLength(4);
}

/** Where the first row of cards ends, against the viewport's height (the page scrolled to the top). */
async function firstRowBottom(page: Page): Promise<{ bottom: number; height: number }> {
  return page.evaluate(() => {
    window.scrollTo(0, 0);
    const cards = [...document.querySelectorAll('#cards .card')].map((c) => c.getBoundingClientRect());
    const top = Math.min(...cards.map((r) => r.top));
    const row = cards.filter((r) => Math.abs(r.top - top) < 2);
    return { bottom: Math.max(...row.map((r) => r.bottom)), height: window.innerHeight };
  });
}

/**
 * What sticks out on the right: the page, or anything in the notices and the firing list
 * but the one-line heads, which clip their text on purpose (it is whole in their title).
 */
async function sideways(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > vw + 1)
      out.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll('#popups *, #firing *')) {
      if (el.closest('.popup.collapsed .popup-head, .firing-row:not(.open) .rule')) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 1)
        out.push(`${el.className} "${el.textContent?.slice(0, 30)}" ends at ${r.right}`);
    }
    return out;
  });
}

const SAYS = {
  'en-US': {
    request: /request \S+ · client batch-job/,
    dismiss: 'Dismiss',
    more: (n: number) => `${n} more in the list below`,
  },
  'zh-CN': { request: /请求 \S+ · 调用方 batch-job/, dismiss: '关闭', more: (n: number) => `另有 ${n} 条，见下方列表` },
} as const;

describe('several notices at once', () => {
  for (const lang of ['en-US', 'zh-CN'] as const)
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      it(`leave the cards' first row on the first screen at ${viewport.width}×${viewport.height} in ${lang}; one line each opens on a click`, {
        timeout: 60_000,
      }, async () => {
        const app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false, alertSleep: async () => {} });
        try {
          const { page, errors } = await openPage(browser, `${app.baseUrl}/#monitor`, lang, viewport);
          await page.waitForSelector('[data-card="rps"]');
          await waitForLive(page);
          await incident(app);
          const sent = await postJson(`${app.baseUrl}/v1/chat/completions`, userMessage('x '.repeat(500)), {
            'x-client-id': 'batch-job',
          });
          const requestId = sent.headers.get('x-request-id')!;
          await page.waitForSelector(`.popup[data-request="${requestId}"]`);
          await page.waitForFunction(() => document.querySelectorAll('#firing .firing-row').length === 4);
          const tag = `${viewport.width}-${lang}`;
          await page.screenshot({ path: `${ARTIFACTS}/notices-${tag}.png` });

          // The newest (the per-request one) is open; the other shown ones are one line each.
          const shown = await page.$$eval('#popups > .popup:not([hidden])', (els) =>
            els.map((e) => ({
              collapsed: e.classList.contains('collapsed'),
              height: e.getBoundingClientRect().height,
              expanded: e.querySelector('.popup-head')!.getAttribute('aria-expanded'),
            })),
          );
          // Four on a wide screen, three on a phone: the firing list below holds every alert.
          const n = viewport.width < 600 ? 3 : 4;
          expect(shown.map((s) => s.collapsed)).toEqual([false, ...Array(n - 1).fill(true)]);
          expect(shown.map((s) => s.expanded)).toEqual(['true', ...Array(n - 1).fill('false')]);
          expect(await page.textContent('#popups > .more')).toBe(SAYS[lang].more(5 - n));
          for (const s of shown.slice(1)) expect(s.height).toBeLessThan(40);
          const { bottom, height } = await firstRowBottom(page);
          expect(bottom).toBeLessThanOrEqual(height);

          // The per-request notice names its request and client, in the page's language.
          const perRequest = page.locator(`.popup[data-request="${requestId}"]`);
          expect(await perRequest.locator('.summary').textContent()).toMatch(SAYS[lang].request);
          expect(await perRequest.locator('.summary').textContent()).toContain(requestId);
          expect(await perRequest.locator('button').textContent()).toBe(SAYS[lang].dismiss);
          // Nothing clipped but the one-line rows' ellipses, whose whole text is their title.
          expect(await clippedInside(page, '.popup:not(.collapsed)')).toEqual([]);
          if (viewport.width >= 600) expect(await clippedInside(page, '.firing-row')).toEqual([]);
          // Every piece of text the row shows is in its title.
          for (const [pieces, title] of await page.$$eval('.popup.collapsed .popup-head, .firing-row .rule', (els) =>
            els.map((e) => {
              const texts: string[] = [];
              const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
              for (let n = walk.nextNode(); n; n = walk.nextNode())
                if (n.textContent!.trim()) texts.push(n.textContent!.trim());
              return [texts, e.getAttribute('title') ?? ''] as const;
            }),
          )) {
            expect(pieces.length).toBeGreaterThan(0);
            for (const p of pieces) expect(title).toContain(p);
          }
          expect(await sideways(page)).toEqual([]);

          // A one-line notice opens on a click and shows its context (the error rate has no module of its
          // own: the last ERROR of any service module, not the Monitor's own).
          await page.locator('.popup.collapsed[data-rule="preset:error-rate"] .popup-head').click();
          const opened = page.locator('.popup[data-rule="preset:error-rate"]');
          expect(await opened.getAttribute('class')).not.toContain('collapsed');
          expect(await opened.locator('.popup-head').getAttribute('aria-expanded')).toBe('true');
          expect(await opened.locator('pre').textContent()).toContain('ERROR ocr OCR failed');
          expect(await opened.locator('pre').isVisible()).toBe(true);
          await page.screenshot({ path: `${ARTIFACTS}/notices-${tag}-opened.png` });
          // …and closes on a second one (the keyboard does the same).
          await opened.locator('.popup-head').focus();
          await page.keyboard.press('Enter');
          expect(await opened.getAttribute('class')).toContain('collapsed');

          // Dismissed: it closes in this tab (and every other) and stays dismissed.
          await perRequest.locator('button.dismiss').click();
          await perRequest.waitFor({ state: 'detached' });
          expect(
            (await postJson(`${app.baseUrl}/api/monitor/alerts/active/ack`, { ruleId: 'x', requestId })).status,
          ).toBe(404);
          // The one the operator closed stays closed; the next one from the list takes the freed place.
          expect(
            await page.$$eval('#popups > .popup:not([hidden])', (els) =>
              els.map((e) => `${e.dataset.rule} ${e.classList.contains('collapsed') ? 'line' : 'open'}`),
            ),
          ).toEqual(
            ['preset:error-rate line', 'preset:gpu-memory-pressure line', 'preset:p95-latency line'].concat(
              viewport.width < 600 ? [] : ['preset:ocr-preprocessing line'],
            ),
          );
          // The language toggle says the notices on screen again in the other language.
          await page.click('#lang');
          expect(await page.textContent('#popups > .popup strong')).toMatch(
            lang === 'en-US' ? /^告警 · / : /^FIRING · /,
          );
          expect(errors).toEqual([]);
          await page.context().close();
        } finally {
          await app.close();
        }
      });
    }
});
