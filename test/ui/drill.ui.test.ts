// The tutorial's drill (its section 5), played end to end in real Chromium against the
// simulated model server and the fake NVML: a calm baseline, then the incident (students
// upload 3264×2448 blackboard photos, OCR slows down, confident answers drop, some
// uploads arrive cut off, some answers fail, GPUs at 95–98 %), then an operator opens a
// fresh Monitor tab and finds the cause with clicks, hovers and typing only. The test
// measures how long that scripted path took (test-artifacts/drill.json), and takes the
// README's screenshots at 1280×800, 1920×1080 and 390×844 in English and Chinese.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { blackboardPhoto, dataUrl, truncated } from '../../src/demo/images.js';
import { fakeNvml } from '../fake-nvml/build.js';
import { postJson, steppedClock } from '../helpers.js';
import { openPage, uiFixture } from './browser.js';
import { clippedInside } from './layout-check.js';

const ARTIFACTS = 'test-artifacts/drill';
mkdirSync(ARTIFACTS, { recursive: true });
const MiB = 1024 * 1024;
const TOTAL = 81_559;
const nvml = fakeNvml('current');
nvml.reset(2);
function gpus(util: number, memPercent: number): void {
  for (let i = 0; i < 2; i++) {
    nvml.setMemory(i, TOTAL * MiB, Math.round((TOTAL * (memPercent - i * 3)) / 100) * MiB, 0);
    nvml.setUtil(i, util - i, 40);
    nvml.setTemp(i, util > 90 ? 78 : 52);
  }
}
gpus(41, 46);

// The app's clock is stepped: ten-second checks without waiting ten seconds.
const clock = steppedClock(Date.now() - 5 * 60_000);
const ui = uiFixture({
  behavior: { ttftMs: 250, spread: 0.2, tokens: 6, tokenIntervalMs: 5, errorRate: 0.02, tokenLogprob: Math.log(0.95) },
  env: { NVML_LIBRARY: nvml.path },
  appOptions: { clock },
});

const ocr = (image: string, client: string) =>
  postJson(`${ui.app.baseUrl}/api/ocr`, { image }, { 'x-client-id': client });
async function check(): Promise<void> {
  clock.advance(10_000);
  await ui.app.monitor!.tick(clock());
}

/** Step 1–3 of the drill as an operator does them; returns the milliseconds it took. */
async function operator(page: Page): Promise<{ ms: number; seen: Record<string, string> }> {
  const seen: Record<string, string> = {};
  const t0 = Date.now();
  await page.goto(`${ui.app.baseUrl}/#monitor`);
  // The alert that fired before this tab was opened is listed at once.
  await page.waitForSelector('#firing .firing-row');
  seen.firing = await page.$$eval('#firing .firing-row .rule', (els) => els.map((e) => e.textContent).join(', '));
  // (1) The overview: GPU busy and full, each request slower, P95/P99 on the latency card,
  // coloured by the rule that watches P95 ("P95 latency high", a warning above 5 s).
  await page.waitForSelector('[data-card="latency"]:is(.warn, .crit)');
  seen.gpuUtil = (await page.textContent('[data-card="gpu_utilization"] .number'))!;
  seen.gpuMemory = (await page.textContent('[data-card="gpu_memory"] .number'))!;
  seen.latency = `${await page.textContent('[data-card="latency"] .number')} ${await page.textContent('[data-card="latency"] .trend')} | ${await page.textContent('[data-card="latency"] .facts')}`;
  seen.latencyLines = (
    await page.$$eval('[data-card="latency"] .lines span', (els) => els.map((e) => e.textContent))
  ).join(' | ');
  seen.rps = `${await page.textContent('[data-card="rps"] .number')} ${await page.textContent('[data-card="rps"] .trend')}`;
  // Playwright's innerText (what is rendered), not the DOM property the rule means.
  // biome-ignore lint/performance/useDomNodeTextContent: the visible text is the point
  seen.host = (await page.innerText('#host-strip')).replace(/\s+/g, ' ');
  await page.hover('[data-card="latency"]');
  await page.waitForSelector('[data-card="latency"] .hover-chart canvas');
  // (2) Model Metrics, filtered to ocr.
  await page.click('[data-sub="model"]');
  await page.waitForSelector('.model-card[data-metric="ocr_confidence_mean"] .number');
  await page.selectOption('#sub-model .module-filter', 'ocr');
  for (const m of ['ocr_avg_duration', 'ocr_error_count', 'ocr_confidence_mean']) {
    seen[m] =
      `${await page.textContent(`.model-card[data-metric="${m}"] .number`)} ${await page.textContent(`.model-card[data-metric="${m}"] .trend`)}`;
  }
  // (3) The log: type `WARN ocr`, read its lines by event, narrow to the preprocessing
  // failures with a click, look at one's request.
  await page.click('[data-sub="overview"]');
  await page.fill('.log-search', 'WARN ocr');
  await page.waitForFunction(() => / lines match /.test(document.querySelector('.log-status')?.textContent ?? ''));
  seen.summary = (await page.textContent('.log-summary'))!;
  await page.click('.log-summary .log-event[data-event="Image preproc failed"]');
  await page.waitForSelector('.log-summary .log-event.active');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.log-lines > .log-line')].some((l) =>
      l.textContent!.includes('WARN ocr Image preproc failed'),
    ),
  );
  const line = page.locator('.log-lines > .log-line', { hasText: 'Image preproc failed' }).last();
  seen.log = (await line.textContent())!;
  await line.click();
  // What else did this classroom send? The lines before and after, of the same client.
  await page.click('.log-detail button[data-by="client"]');
  await page.waitForSelector('.log-context .log-line.current');
  seen.context = `${await page.$$eval('.log-context .log-line', (els) => els.length)} lines of the same client`;
  return { ms: Date.now() - t0, seen };
}

/**
 * The same incident from the notice alone: open the firing OCR alert's "Why", read what
 * changed with it (the first three lines, then the rest), and follow its log event into
 * the log. Returns the milliseconds it took and the lines read.
 */
async function fromTheNotice(page: Page): Promise<{ ms: number; first: string[]; all: string[] }> {
  const t0 = Date.now();
  await page.goto(`${ui.app.baseUrl}/#monitor`);
  const row = page.locator('#firing .firing-row', { hasText: 'OCR service degradation' });
  await row.locator('.why summary').click();
  const lines = row.locator('.why-lines li');
  const first = await lines.allTextContents();
  await row.locator('.why-more').click();
  const all = await lines.allTextContents();
  await row.locator('.why-lines li button', { hasText: 'Image preproc failed' }).click();
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.log-lines > .log-line')].some((l) =>
      l.textContent!.includes('WARN ocr Image preproc failed'),
    ),
  );
  return { ms: Date.now() - t0, first, all };
}

describe('the tutorial drill', () => {
  it('finds the cause of the OCR incident inside the Monitor, and says how long it took', {
    timeout: 240_000,
  }, async () => {
    for (const id of ['p95-latency', 'ocr-degradation', 'ocr-preprocessing']) {
      expect((await postJson(`${ui.app.baseUrl}/api/monitor/alerts/presets/${id}/import`, {})).status).toBe(200);
    }
    const small = dataUrl(await blackboardPhoto(640, 480));
    // Baseline: four minutes of calm, five OCR requests every ten seconds.
    for (let i = 0; i < 24; i++) {
      await Promise.all(Array.from({ length: 5 }, (_, k) => ocr(small, `classroom-${k + 1}`)));
      await check();
    }
    expect(ui.app.monitor!.lastSnapshot()!.cards.find((c) => c.id === 'latency')!.status).toBe('ok');

    // The incident: full-size photos, some cut off; slow, unsure and sometimes failing answers.
    gpus(97, 72);
    const photo = await blackboardPhoto(3264, 2448);
    const full = dataUrl(photo);
    const cut = dataUrl(truncated(photo, 0.6));
    // Slow past the P95 line, with a short tail: each round waits for its slowest answer
    // (at a spread of 0.55 that took up to 13 s a round).
    ui.fake.behavior = {
      ...ui.fake.behavior,
      ttftMs: 5_500,
      spread: 0.15,
      errorRate: 0.15,
      tokenLogprob: Math.log(0.38),
    };
    // Two minutes of it: thirty uploads at the start of each (OCR requests take seconds now).
    for (const checks of [6, 4]) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, k) => ocr(k % 10 === 3 ? cut : full, `classroom-${(k % 6) + 1}`)),
      );
      expect(answers.filter((a) => a.status === 400).map((a) => a.json.error.code)).toEqual([
        'IMAGE_UNREADABLE',
        'IMAGE_UNREADABLE',
        'IMAGE_UNREADABLE',
      ]);
      for (let i = 0; i < checks; i++) await check();
    }

    const { page, errors } = await openPage(ui.browser, 'about:blank', 'en-US', { width: 1280, height: 800 });
    const { ms, seen } = await operator(page);
    const report = { scriptedPathMs: ms, under3Minutes: ms < 180_000, seen };
    writeFileSync(`${ARTIFACTS}/drill.json`, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `\n  Drill: the operator's scripted path took ${(ms / 1000).toFixed(1)} s (target < 180 s)\n${JSON.stringify(seen, null, 2)}\n`,
    );

    // What the tutorial's operator reads off the screen.
    expect(seen.firing).toMatch(/P95 latency high/);
    expect(seen.firing).toMatch(/OCR service degradation/);
    expect(Number.parseInt(seen.gpuUtil!, 10)).toBeGreaterThanOrEqual(95);
    expect(seen.gpuMemory).toBe('72 %');
    // The change is the P95's when the P95 set the card's colour.
    expect(seen.latency).toMatch(/^[\d.]+ s (P95 )?↑ [\d,]+ % \| P95 [\d.]+ s\s*P99 [\d.]+ s\s*avg [\d.]+ s$/);
    expect(seen.latencyLines).toContain('P95 warning > 5.00 s · rule “P95 latency high”');
    // The anomaly signal: P95 above 5 s (the rule's warning line, and the card's), P99 beyond it.
    const p95 = Number(/P95 ([\d.]+) s/.exec(seen.latency!)![1]);
    const p99 = Number(/P99 ([\d.]+) s/.exec(seen.latency!)![1]);
    expect(p95).toBeGreaterThan(5);
    expect(p99).toBeGreaterThanOrEqual(p95);
    expect(seen.host).toMatch(/CPU \d/);
    expect(seen.ocr_avg_duration).toMatch(/^[\d.]+ s ↑ [\d,]+ % vs normal$/);
    expect(seen.ocr_error_count).toMatch(/^[\d.]+ \/min ↑ [\d,]+ % vs normal$/);
    expect(seen.ocr_confidence_mean).toMatch(/^0\.38 ↓ 60 % vs normal$/);
    // 30 uploads twice: the cut-off ones refused, the rest answered unsure or failed.
    expect(seen.summary).toMatch(/^By event:Low-confidence OCR \d+Image preproc failed 6$/);
    expect(seen.log).toMatch(
      /WARN ocr Image preproc failed reason="truncated JPEG: data ends at about \d+ % of the image \(3264x2448\)[^"]*" .*input_size=[\d.]+ ?(KiB|MiB) .*request_id=\S+ client=classroom-\d/,
    );
    expect(ms).toBeLessThan(180_000);
    await page.locator('#log-panel').screenshot({ path: `${ARTIFACTS}/drill-3-log-1280x800-en.png` });
    expect(errors).toEqual([]);
    await page.context().close();

    // From the notice alone: its "Why" names the photos' size and the failing steps first,
    // the new classroom after them, and its log event leads to the cut-off uploads' lines.
    const notice = await openPage(ui.browser, 'about:blank', 'en-US', { width: 1280, height: 800 });
    const why = await fromTheNotice(notice.page);
    writeFileSync(`${ARTIFACTS}/drill.json`, `${JSON.stringify({ ...report, fromTheNotice: why }, null, 2)}\n`);
    process.stdout.write(`  From the notice: ${(why.ms / 1000).toFixed(1)} s\n${why.all.join('\n')}\n`);
    expect(why.first).toHaveLength(3);
    expect(why.first.join('\n')).toMatch(/images of 3264×2448: (9\d|100) % of ocr requests now, 0 % normally/);
    expect(why.first.join('\n')).toMatch(
      /WARN ocr “(Low-confidence OCR|Image preproc failed)”: \d+ since it began \(normally 0\)/,
    );
    // Client shares are counted by the minute: the breach's minute leaks a little into "normally".
    expect(why.all.join('\n')).toMatch(/client classroom-6: 1\d % of ocr requests now, \d % normally/);
    expect(why.all.join('\n')).toMatch(/WARN ocr “Image preproc failed”: \d+ since it began \(normally 0\)/);
    expect(why.all.join('\n')).not.toMatch(/WARN alert/); // the Monitor's own lines are no cause
    await notice.page.locator('#firing').screenshot({ path: `${ARTIFACTS}/drill-why-1280x800-en.png` });
    expect(notice.errors).toEqual([]);
    await notice.page.context().close();

    // The README's screenshots: the same moment, every size, both languages.
    for (const lang of ['en-US', 'zh-CN']) {
      for (const size of [
        { width: 1280, height: 800 },
        { width: 1920, height: 1080 },
        { width: 390, height: 844 },
      ]) {
        const shot = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, size);
        await shot.page.waitForSelector('[data-card="latency"]:is(.warn, .crit)');
        await shot.page.waitForSelector('#firing .firing-row');
        expect(await clippedInside(shot.page)).toEqual([]);
        const tag = `${size.width}x${size.height}-${lang.slice(0, 2)}`;
        await shot.page.screenshot({ path: `${ARTIFACTS}/monitor-${tag}.png`, fullPage: size.width < 600 });
        if (size.width === 1280) {
          await shot.page.click('[data-sub="model"]');
          await shot.page.selectOption('#sub-model .module-filter', 'ocr');
          await shot.page.waitForSelector('.model-card[data-metric="ocr_confidence_mean"] .number');
          await shot.page.screenshot({ path: `${ARTIFACTS}/drill-2-model-${tag}.png` });
        }
        expect(shot.errors).toEqual([]);
        await shot.page.context().close();
      }
    }
  });
});
