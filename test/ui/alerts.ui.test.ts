// Alerts on screen, in real Chromium: an alert that fired before the Monitor was opened is
// listed when it opens (severity, rule, value, since when, acknowledge); notices sit in the
// page's flow, never over the Settings button or a card's value, at desktop and phone
// sizes; a resolved notice fades by itself; thumbnails of OCR samples are pictures.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers.js';
import { startReceiver } from '../receiver.js';
import { openPage, uiFixture, waitForLive } from './browser.js';
import { clippedInside } from './layout-check.js';

mkdirSync('test-artifacts', { recursive: true });
const ui = uiFixture({ appOptions: { probes: false } });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function addRule(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${ui.app.baseUrl}/api/monitor/alerts/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return ((await res.json()) as { id: string }).id;
}

let t = Date.now();
/** One check with a GPU temperature reading, its alerts settled (before a page asks for them). */
async function checkWithTemperature(celsius: number): Promise<void> {
  t += 10_000;
  ui.app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, t, celsius);
  ui.app.monitor!.check(t);
  await ui.app.alerts!.idle();
}

/** Rectangles of the notices that overlap the Settings button or a card's value. */
async function coveredByNotices(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const overlap = (a: DOMRect, b: DOMRect) =>
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const targets = [
      document.getElementById('open-settings')!,
      ...document.querySelectorAll('.card .number, .card .trend'),
    ];
    const out: string[] = [];
    for (const n of document.querySelectorAll('.popup, .firing')) {
      const r = n.getBoundingClientRect();
      for (const el of targets)
        if (overlap(r, el.getBoundingClientRect())) out.push(`${n.className} covers ${el.id || el.className}`);
    }
    return out;
  });
}

describe('alerts on screen', () => {
  it('lists an alert that fired before the Monitor was opened, and acknowledges it from the list', async () => {
    await addRule({ name: 'GPU hot', metric: 'gpu_temperature_celsius', op: '>', threshold: 85, severity: 'critical' });
    await checkWithTemperature(91.4);
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('#firing:not([hidden]) .firing-row');
    const row = (await page.textContent('#firing .firing-row'))!;
    expect(row).toContain('critical');
    expect(row).toContain('GPU hot');
    expect(row).toContain('gpu=0');
    expect(row).toContain('gpu_temperature_celsius 91.4 °C');
    // How long ago it fired, the time it fired on hover.
    expect(row).toMatch(/fired \d+ (s|min) ago/);
    expect(await page.getAttribute('#firing .firing-row .since', 'title')).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await page.textContent('#firing .firing-head')).toContain('1 alert firing');
    expect(await page.textContent('[data-tab="monitor"] .badge')).toBe('1');
    await page.click('#firing .firing-row button.ack');
    await page.waitForFunction(() =>
      (document.querySelector('#firing .firing-row')?.textContent ?? '').includes('acknowledged by operator'),
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('lists a firing alert at the next check when the list could not load with the page', async () => {
    await addRule({ name: 'GPU warm', metric: 'gpu_temperature_celsius', op: '>', threshold: 80, severity: 'warning' });
    await checkWithTemperature(88);
    const context = await ui.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    // The first ask for the active alerts fails (a server restarting, a proxy's hiccup).
    let failed = 0;
    await page.route('**/api/monitor/alerts/active', (route) => (failed++ ? route.continue() : route.abort()));
    await page.goto(`${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="rps"]');
    // Shown already only if the page asked again (the live stream's snapshot may come first).
    if ((await page.locator('#firing .firing-row', { hasText: 'GPU warm' }).count()) > 0)
      expect(failed).toBeGreaterThanOrEqual(2);
    await ui.app.monitor!.tick(t);
    await page.waitForSelector('#firing:not([hidden]) .firing-row >> text=GPU warm');
    expect(failed).toBeGreaterThanOrEqual(2); // the failed ask, then at least one more
    await context.close();
  });

  it('keeps an acknowledgement that came while the list was asking the server again', async () => {
    const id = await addRule({
      name: 'GPU scorching',
      metric: 'gpu_temperature_celsius',
      op: '>',
      threshold: 90,
      severity: 'critical',
    });
    await checkWithTemperature(91.4);
    const context = await ui.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The page asks for the active alerts as it opens, then again after the live stream's
    // first snapshot: that second answer is taken as the server gives it (before the ack)
    // and held until the operator's ack has reached the page.
    let asked = 0;
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let caught = () => {};
    const held = new Promise<void>((r) => (caught = r));
    await page.route('**/api/monitor/alerts/active', async (route) => {
      if (asked++ !== 1) return route.continue();
      const stale = await route.fetch();
      caught();
      await gate;
      await route.fulfill({ response: stale });
    });
    await page.goto(`${ui.app.baseUrl}/#monitor`);
    const row = `#firing .firing-row[data-rule="${id}"]`;
    await page.waitForSelector(`${row} button.ack`);
    await held;
    await page.click(`${row} button.ack`);
    await page.waitForFunction(
      (sel) => (document.querySelector(sel)?.textContent ?? '').includes('acknowledged by operator'),
      row,
    );
    // From here on, the Acknowledge button must not come back, not even for a moment.
    await page.evaluate((sel) => {
      const w = window as unknown as { buttonBack: number };
      w.buttonBack = 0;
      new MutationObserver(() => {
        if (document.querySelector(`${sel} button.ack`)) w.buttonBack++;
      }).observe(document.getElementById('firing')!, { childList: true, subtree: true });
    }, row);
    const again = page.waitForRequest((r) => r.url().endsWith('/api/monitor/alerts/active'));
    release();
    // The list asks again (the held answer may predate the ack); without that, it would show
    // the stale answer's button, which the wait below catches at once.
    const flicker = page.waitForFunction(() => (window as unknown as { buttonBack: number }).buttonBack > 0);
    const first = await Promise.race([again.then(() => 'asked again'), flicker.then(() => 'button back')]);
    expect(first).toBe('asked again');
    await (await again).response();
    await page.waitForFunction(
      (sel) => (document.querySelector(sel)?.textContent ?? '').includes('acknowledged by operator'),
      row,
    );
    expect(await page.evaluate(() => (window as unknown as { buttonBack: number }).buttonBack)).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('keeps an acknowledged alert\u2019s value whole on a phone, the acknowledgement giving way', async () => {
    const id = await addRule({
      name: 'GPU memory nearly full on the shared node',
      metric: 'gpu_temperature_celsius',
      op: '>',
      threshold: 80.25,
      severity: 'warning',
    });
    await checkWithTemperature(91.4);
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'en-US', {
      width: 390,
      height: 844,
    });
    const row = `#firing .firing-row[data-rule="${id}"]`;
    await page.click(`${row} button.ack`);
    await page.waitForSelector(`${row} .acked`);
    // The value read "9.…" beside "acknowledged by operator" on one line.
    const val = await page.$eval(`${row} .val`, (el) => ({
      text: el.textContent,
      cut: el.scrollWidth > el.clientWidth + 1,
    }));
    expect(val).toEqual({ text: 'gpu_temperature_celsius 91.4 °C', cut: false });
    await page.screenshot({ path: 'test-artifacts/firing-acked-390.png' });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    // A browser page on a loaded 2-core machine: a minute, as the other page tests have.
    it(`shows a new notice in the page's flow at ${viewport.width}×${viewport.height}, covering neither Settings nor a card value`, {
      timeout: 60_000,
    }, async () => {
      const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'en-US', viewport);
      await page.waitForSelector('[data-card="rps"]');
      await waitForLive(page);
      // A real webhook receiver beside the page: the mail, webhooks and Alertmanager carry
      // the summary the notice shows (src/alert-summary.ts writes both).
      const hook = await startReceiver(cleanups);
      await fetch(`${ui.app.baseUrl}/api/monitor/alerts/channels`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ webhook: { url: hook.url, format: 'generic' } }),
      });
      await addRule({
        name: `P95 slow ${viewport.width}`,
        metric: 'latency_ms_p95',
        labels: { endpoint: '*' },
        op: '>',
        threshold: 5000,
        severity: 'warning',
        channels: ['console', 'webhook'],
      });
      t += 10_000;
      ui.app.monitor!.store.record('latency_ms_p95', { endpoint: '*' }, t, 13_000);
      ui.app.monitor!.check(t);
      const popup = `.popup[data-rule]:has-text("P95 slow ${viewport.width}")`;
      await page.waitForSelector(popup);
      expect(await page.textContent(`${popup} .summary .sentence`)).toBe(
        'latency_ms_p95 = 13.0 s (threshold > 5.00 s)',
      );
      // The value read when it fired, and the notice says when: the list below gives the current one.
      const firedAt = await page.evaluate(
        (at) => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(at),
        t,
      );
      expect(await page.textContent(`${popup} .summary .as-of`)).toMatch(
        new RegExp(`^ · as of (\\S+ \\d+ )?${firedAt}$`),
      );
      await ui.app.alerts!.idle();
      const sent = hook.bodies().find((b) => b.alerts[0].ruleName === `P95 slow ${viewport.width}`);
      expect(sent?.alerts[0].summary).toBe('latency_ms_p95 = 13.0 s (threshold > 5.00 s)');
      expect(await coveredByNotices(page)).toEqual([]);
      await page.screenshot({ path: `test-artifacts/alerts-${viewport.width}.png`, fullPage: true });
      // The Settings button still opens Settings with notices on screen.
      await page.click('#open-settings');
      await page.waitForSelector('#settings:not([hidden])');
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }

  for (const [lang, viewport, says] of [
    ['en-US', { width: 1280, height: 800 }, 'Could not acknowledge the alert: the server did not answer'],
    ['zh-CN', { width: 390, height: 844 }, '无法确认告警：服务器没有响应'],
  ] as const) {
    it(`says why an acknowledgement failed, in the list and in the notice (${lang}, ${viewport.width}×${viewport.height})`, {
      timeout: 60_000,
    }, async () => {
      const app = await startApp({}, { probes: false });
      await fetch(`${app.baseUrl}/api/monitor/alerts/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'GPU hot',
          metric: 'gpu_temperature_celsius',
          op: '>',
          threshold: 85,
          severity: 'critical',
        }),
      });
      const { page, errors } = await openPage(ui.browser, `${app.baseUrl}/#monitor`, lang, viewport);
      await page.waitForSelector('[data-card="rps"]');
      await waitForLive(page); // the notice is pushed: the stream must be open to get it
      const now = Date.now();
      app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, now, 91.4);
      app.monitor!.check(now);
      await page.waitForSelector('.popup.critical button:not(.dismiss)');
      await page.waitForSelector('#firing .firing-row button.ack');
      await app.close(); // the server goes away before the operator clicks
      await page.click('.popup.critical button:not(.dismiss)');
      await page.waitForSelector('.popup.critical .action-error');
      expect(await page.textContent('.popup.critical .action-error')).toBe(says);
      expect(await page.isEnabled('.popup.critical button:not(.dismiss)')).toBe(true); // it can be tried again
      await page.click('#firing .firing-row button.ack');
      await page.waitForSelector('#firing .firing-row .action-error');
      expect(await page.textContent('#firing .firing-row .action-error')).toBe(says);
      expect(await clippedInside(page, '.popup, .firing-row')).toEqual([]);
      await page.screenshot({ path: `test-artifacts/ack-failed-${viewport.width}.png` });
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }

  it('gives both values of an AND rule, in the notice (zh-CN, 390×844), the firing list, the webhook and History; its resolve names what came back', {
    timeout: 60_000,
  }, async () => {
    const app = await startApp({}, { probes: false, alertSleep: async () => {} });
    cleanups.push(() => app.close());
    const hook = await startReceiver(cleanups);
    const put = await fetch(`${app.baseUrl}/api/monitor/alerts/channels`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ webhook: { url: hook.url, format: 'generic' } }),
    });
    expect(put.status).toBe(200);
    const rule = await fetch(`${app.baseUrl}/api/monitor/alerts/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'GUI 代理变差',
        metric: 'gui_step_success_rate',
        op: '<',
        threshold: 85,
        and: { metric: 'gui_step_avg_duration', op: '>', threshold: 3000 },
        severity: 'warning',
        channels: ['console', 'webhook'],
      }),
    });
    expect(rule.status).toBe(201);
    const { page, errors } = await openPage(ui.browser, `${app.baseUrl}/#monitor`, 'zh-CN', {
      width: 390,
      height: 844,
    });
    await page.waitForSelector('[data-card="rps"]');
    await waitForLive(page);
    const now = Date.now();
    app.monitor!.store.record('gui_step_success_rate', {}, now, 80);
    app.monitor!.store.record('gui_step_avg_duration', {}, now, 4_200);
    app.monitor!.check(now);
    await app.alerts!.idle();
    // The webhook's summary, in English, names both conditions with their values …
    const sent = hook.bodies().find((b) => b.alerts[0].ruleName === 'GUI 代理变差');
    expect(sent?.alerts[0].summary).toBe(
      'gui_step_success_rate = 80 % (threshold < 85 %) and gui_step_avg_duration = 4.20 s (threshold > 3.00 s)',
    );
    // … and the notice says the same in the page's language.
    const popup = '.popup[data-rule]';
    await page.waitForSelector(popup);
    expect(await page.textContent(`${popup} .summary .sentence`)).toBe(
      'gui_step_success_rate = 80 %（阈值 < 85 %），且 gui_step_avg_duration = 4.20 s（阈值 > 3.00 s）',
    );
    // The firing list gives the second value beside the first (its title when a phone cuts it).
    await page.waitForSelector('#firing .firing-row');
    expect(await page.getAttribute('#firing .firing-row .val', 'title')).toBe('80 % · gui_step_avg_duration 4.20 s');
    expect(await clippedInside(page, '.popup')).toEqual([]);
    await page.screenshot({ path: 'test-artifacts/alerts-and-390-zh.png', fullPage: true });
    // It resolves because the steps got fast again, while the success rate is still low:
    // the resolve names what came back, not the condition that still holds.
    app.monitor!.store.record('gui_step_success_rate', {}, now + 10_000, 80);
    app.monitor!.store.record('gui_step_avg_duration', {}, now + 10_000, 2_000);
    app.monitor!.check(now + 10_000);
    await app.alerts!.idle();
    const resolved = hook.bodies().find((b) => b.alerts[0].ruleName === 'GUI 代理变差' && b.status === 'resolved');
    expect(resolved?.alerts[0].summary).toBe('gui_step_avg_duration is back to 2.00 s');
    await page.waitForSelector('.popup.resolved');
    expect(await page.textContent('.popup.resolved .summary .sentence')).toBe('gui_step_avg_duration 已恢复为 2.00 s');
    // History gives both values of each change, as the notices did.
    await page.click('#open-settings');
    await page.click('[data-settings-tab="history"]');
    await page.waitForSelector('#history-table tr:has-text("GUI 代理变差")');
    const changes = await page.$$eval('#history-table tr', (rows) =>
      rows.map((r) => r.textContent ?? '').filter((t) => t.includes('GUI 代理变差') && t.includes('gui_step_avg')),
    );
    expect(changes.some((t) => t.includes('80 % · gui_step_avg_duration 4.20 s'))).toBe(true);
    expect(changes.some((t) => t.includes('80 % · gui_step_avg_duration 2.00 s'))).toBe(true);
    // The resolve reads as its notice said it ("已恢复"), not as the state it goes back to ("未触发").
    expect(changes.some((t) => t.includes('触发中 → 已恢复'))).toBe(true);
    expect(changes.some((t) => t.includes('→ 未触发'))).toBe(false);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('fades a resolved notice out by itself, and shows sample thumbnails as images', async () => {
    const { page, errors } = await openPage(ui.browser, 'about:blank');
    // The page's own clock, moved on by the test: the notice's eight seconds and its one-second fade.
    await page.clock.install();
    await page.goto(`${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="rps"]');
    await waitForLive(page); // the resolve is pushed: the stream must be open to get it
    await checkWithTemperature(70); // GPU hot resolves
    await page.waitForSelector('.popup.resolved');
    expect(await page.$$('.popup.resolved button.ack')).toHaveLength(0); // nothing to acknowledge
    await page.clock.fastForward(7_000);
    expect(await page.isVisible('.popup.resolved')).toBe(true); // still there, read in full
    await page.clock.fastForward(1_000);
    await page.waitForSelector('.popup.resolved.fading');
    await page.clock.fastForward(1_000);
    await page.waitForSelector('.popup.resolved', { state: 'detached' });

    const sample = { file: 's.png', lang: 'en', requestId: 'r1', at: new Date().toISOString() };
    ui.app.monitor!.hub.broadcast('alert', {
      id: 'n1',
      status: 'firing',
      alerts: [
        {
          ruleId: 'ocr',
          ruleName: 'OCR service degradation',
          severity: 'warning',
          metric: 'ocr_confidence_mean',
          labels: {},
          status: 'firing',
          startsAt: new Date().toISOString(),
          endsAt: null,
          summary: 'ocr_confidence_mean = 0.38 (threshold < 0.60)',
          context: {
            value: 0.38,
            threshold: 0.6,
            op: '<',
            breachPoints: [],
            lastError: null,
            warningsBefore: [],
            gpuTemperatureCelsius: {},
            topClient: null,
            topClientLoad: null,
            monitorUrl: '',
            samples: [
              { ...sample, imageHash: '<img src=x onerror=alert(1)>', confidence: 0.21, url: '/favicon.ico?s=1' },
              { ...sample, imageHash: 'ab3f', confidence: 0.3, url: 'javascript:alert(2)' },
            ],
          },
        },
      ],
    });
    await page.waitForSelector('.popup .samples img');
    expect(
      await page.$$eval('.popup .samples img', (els) => els.map((e) => (e as HTMLImageElement).getAttribute('src'))),
    ).toEqual(['/favicon.ico?s=1']);
    expect(await page.getAttribute('.popup .samples img', 'alt')).toContain('<img src=x onerror=alert(1)>');
    expect(await page.$$('.popup .samples figcaption img')).toHaveLength(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
