// The log as the tutorial's step 3 uses it, in real Chromium: typing `WARN ocr` finds the
// preprocessing failure anywhere in the server's ring (not only in the lines the page
// holds), a click shows the lines of the same request around it, values read as
// people write them, and the empty log explains sampling and can keep every INFO line.
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_MODULES } from '../../src/log/event-log.js';
import { formatLine } from '../../src/log/log-format.js';
import { matchesSearch, parseLogSearch } from '../../src/log/log-search.js';
import { StdoutLog } from '../../src/log/stdout.js';
import { endDraining, stalledPipe } from '../log/stalled-pipe.js';
import { openPage, uiFixture } from './browser.js';
import { clippedInside } from './layout-check.js';

mkdirSync('test-artifacts', { recursive: true });

describe('log search', () => {
  const ui = uiFixture({ env: { LOG_SAMPLE_RATE: '1', LOG_RING_SIZE: '5000' }, appOptions: { probes: false } });

  it('finds `WARN ocr` on the server, shows the line formatted, and its request context on a click', async () => {
    const log = ui.app.log;
    log.info('http', 'request received', { requestId: 'req-42', client: 'classroom-3' });
    log.warn('ocr', 'Image preproc failed', {
      reason: 'input is 3264x2448, cannot decode',
      image_hash: 'ab3f77aa00112233',
      input_size: '3264x2448',
      request_id: 'req-42',
      client: 'classroom-3',
    });
    log.error('http', 'request failed', {
      requestId: 'req-42',
      client: 'classroom-3',
      status: 400,
      code: 'IMAGE_UNREADABLE',
    });
    log.warn('alert', 'Alert firing', { rule: 'GPU hot', value: 93.04, labels: JSON.stringify({ gpu: '0' }) });
    // 2 000 newer lines: more than the page keeps (1 000), so only the server can find the WARN.
    for (let i = 0; i < 2_000; i++) log.info('vlm', 'chat completion', { requestId: `c${i}`, durationMs: 800 });
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('.log-line');
    expect(
      await page.$$eval('.log-line', (els) => els.some((e) => e.textContent!.includes('Image preproc failed'))),
    ).toBe(false);

    await page.fill('.log-search', 'WARN ocr');
    await page.waitForFunction(() => document.querySelectorAll('.log-lines > .log-line').length === 1);
    const text = (await page.textContent('.log-lines > .log-line'))!;
    expect(text).toMatch(
      /^\d\d:\d\d:\d\d WARN ocr Image preproc failed reason="input is 3264x2448, cannot decode" image_hash=ab3f77aa00112233 input_size=3264x2448 request_id=req-42 client=classroom-3$/,
    );
    expect(await page.textContent('.log-status')).toBe('1 of 2,004 lines match (searched on the server)');

    await page.click('.log-lines > .log-line');
    await page.click('.log-detail button[data-by="request"]');
    await page.waitForSelector('.log-context .log-line');
    const ctx = await page.$$eval('.log-context .log-line', (els) =>
      els.map((e) => e.textContent!.replace(/^\S+ /, '')),
    );
    expect(ctx).toHaveLength(3);
    expect(ctx[0]).toMatch(/^INFO http request received /);
    expect(ctx[1]).toMatch(/^WARN ocr Image preproc failed /);
    expect(ctx[2]).toMatch(/^ERROR http request failed .*code=IMAGE_UNREADABLE/);
    expect(await page.getAttribute('.log-context .log-line.current', 'class')).toContain('WARN');
    await page.locator('.log-panel').screenshot({ path: 'test-artifacts/log-context.png' });

    await page.fill('.log-search', 'image_hash=ab3f');
    await page.waitForFunction(() => (document.querySelector('.log-status')?.textContent ?? '').startsWith('1 of '));
    await page.fill('.log-search', 'gpu=0');
    await page.waitForFunction(() =>
      (document.querySelector('.log-lines > .log-line')?.textContent ?? '').includes('Alert firing'),
    );
    expect(await page.textContent('.log-lines > .log-line')).toContain('rule="GPU hot" value=93.0 gpu=0');

    // A live line that matches the search waits to be asked for: the results hold still.
    await page.fill('.log-search', 'ERROR vlm');
    await page.waitForSelector('.log-empty');
    log.error('vlm', 'upstream failed', { requestId: 'req-77', status: 502 });
    await page.waitForSelector('.log-held:not([hidden])');
    expect(await page.textContent('.log-held')).toBe('1 new line, paused — resume');
    expect(await page.$$('.log-lines > .log-line')).toHaveLength(0);
    await page.click('.log-held');
    await page.waitForFunction(() =>
      (document.querySelector('.log-lines > .log-line')?.textContent ?? '').includes('ERROR vlm upstream failed'),
    );
    expect(await page.isHidden('.log-held')).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe("the browser's search is the server's", () => {
  const ui = uiFixture({ env: { LOG_SAMPLE_RATE: '1' }, appOptions: { probes: false } });

  it('is served as the compiled server module, and formats and matches in Chromium exactly as the server does', async () => {
    // One copy: what the page loads is dist/log/, compiled from src/log/ (and nothing else is served there).
    for (const file of ['log-search.js', 'log-format.js']) {
      const served = await fetch(`${ui.app.baseUrl}/js/shared/${file}`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/javascript/);
      expect(await served.text()).toBe(readFileSync(new URL(`../../dist/log/${file}`, import.meta.url), 'utf8'));
    }
    expect((await fetch(`${ui.app.baseUrl}/js/shared/event-log.js`)).status).toBe(404);

    const log = ui.app.log;
    log.warn('ocr', 'Image preproc failed', {
      reason: 'input is 3264x2448, decoding failed',
      image_hash: 'ab3f91c2d4e5f607',
      request_id: 'req-7',
      client: 'classroom-3',
    });
    log.error('vlm', 'upstream failed', { requestId: 'req-8', client: 'classroom-3', status: 502 });
    log.warn('alert', 'Alert firing', { rule: 'GPU hot', value: 93.04, labels: JSON.stringify({ gpu: '0' }) });
    log.info('gui', 'GUI step failed', { action: 'click', target: '登录按钮', duration: 842.4 });
    log.info('ocr', 'OCR done', { confidence: 0.9512, dimensions: '640x480' });
    const lines = log.query({ limit: 100 });
    const queries = [
      'WARN ocr',
      'ERROR vlm',
      'error chat',
      'image_hash=ab3f',
      'imageHash=AB3F',
      'gpu=0',
      '3264x2448 decoding',
      '"ocr"',
      'level=warn',
      'module=gui failed',
      'reason="input is"',
      'WARN event="Image preproc failed"',
      'event="ocr done"',
      '3264×2448',
      '',
    ];
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    // A string, not a function: vitest rewrites import() inside this file's functions.
    const inBrowser = (await page.evaluate(`(async () => {
      const { lines, queries, modules } = ${JSON.stringify({ lines, queries, modules: LOG_MODULES })};
      const search = await import('/js/shared/log-search.js');
      const format = await import('/js/shared/log-format.js');
      return {
        formatted: lines.map((l) => format.formatLine(l)),
        parsed: queries.map((q) => search.parseLogSearch(q, modules)),
        matched: queries.map((q) => lines.map((l) => search.matchesSearch(l, search.parseLogSearch(q, modules)))),
      };
    })()`)) as { formatted: string[]; parsed: unknown[]; matched: boolean[][] };
    expect(inBrowser.formatted).toEqual(lines.map(formatLine));
    expect(inBrowser.parsed).toEqual(queries.map((q) => parseLogSearch(q, LOG_MODULES)));
    expect(inBrowser.matched).toEqual(
      queries.map((q) => lines.map((l) => matchesSearch(l, parseLogSearch(q, LOG_MODULES)))),
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('the empty log', () => {
  const ui = uiFixture({ env: { LOG_SAMPLE_RATE: '0.1' }, appOptions: { probes: false } });

  it('says INFO lines are sampled at 10 % and keeps all INFO for the minutes asked', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('.log-empty');
    expect(await page.textContent('.log-empty')).toContain(
      'INFO lines are sampled at 10 % (LOG_SAMPLE_RATE); WARN and ERROR lines are always kept.',
    );
    await page.locator('.log-panel').screenshot({ path: 'test-artifacts/log-empty.png' });
    await page.fill('.log-empty .boost-minutes', '15');
    await page.click('.log-empty button.boost');
    await page.waitForFunction(() =>
      (document.querySelector('.log-sampling')?.textContent ?? '').startsWith('every INFO line kept until'),
    );
    expect(ui.app.log.sampleRate()).toBe(1);
    expect(ui.app.log.boostedUntil).toBeGreaterThan(Date.now() + 14 * 60_000);
    // The boost itself is logged: the operator sees it arrive.
    await page.waitForFunction(() =>
      (document.querySelector('.log-lines')?.textContent ?? '').includes('log sampling raised to 100 %'),
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('a stalled stdout', () => {
  // The server's JSON log goes into a pipe its shipper stopped reading (src/log/stdout.ts).
  const pipe = stalledPipe();
  const stdout = new StdoutLog({ fd: pipe.fd, backlogBytes: 16 * 1024 });
  // Registered before the fixture, so it runs after the app has closed.
  afterAll(() => endDraining(stdout, pipe));
  const ui = uiFixture({ env: { LOG_LEVEL: 'info' }, appOptions: { probes: false, logger: true, stdout } });

  it('says under the log how many lines did not reach stdout, and still shows them', async () => {
    for (let i = 0; i < 400; i++)
      ui.app.log.warn('ocr', 'Image preproc failed', { reason: 'x'.repeat(200), request_id: `r${i}` });
    const before = stdout.dropped;
    expect(before).toBeGreaterThan(0);
    const views = [
      { lang: 'en-US', size: { width: 1280, height: 800 } },
      { lang: 'zh-CN', size: { width: 390, height: 844 } },
      { lang: 'en-US', size: { width: 1920, height: 1080 } },
    ];
    for (const { lang, size } of views) {
      const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, size);
      await page.waitForSelector('.log-line');
      const text = (await page.textContent('.log-sampling'))!;
      const shown =
        lang === 'en-US'
          ? /^INFO lines sampled at 10 % · ([\d,]+) lines not written to stdout: it stopped draining \(they are still here\)$/.exec(
              text,
            )
          : /^INFO 日志按 10 % 采样 · ([\d,]+) 行未写入 stdout：stdout 未被读取（此处仍保留）$/.exec(text);
      expect(shown, text).not.toBeNull();
      expect(Number(shown![1]!.replaceAll(',', ''))).toBeGreaterThanOrEqual(before);
      // The lines stdout lost are in the Monitor's log.
      expect(await page.textContent('.log-lines')).toContain('request_id=r399');
      expect(await clippedInside(page, '.log-meta')).toEqual([]);
      await page
        .locator('.log-panel')
        .screenshot({ path: `test-artifacts/log-stdout-dropped-${size.width}x${size.height}-${lang.slice(0, 2)}.png` });
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });
});
