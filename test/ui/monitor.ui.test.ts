// The Monitor in real Chromium (Debian's package, driven by playwright-core).
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture, waitForLive } from './browser.js';

const ARTIFACTS = 'test-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });
const ui = uiFixture({
  behavior: { tokens: 6, tokenIntervalMs: 2 },
  env: { LOG_SAMPLE_RATE: '1', NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1' },
});

const check = () => ui.app.monitor!.check(Date.now());

describe('Monitor in a browser', () => {
  it('a chat request made in the Chat page moves RPS in the Monitor page, and hovering shows its chart', async () => {
    const monitor = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await monitor.page.waitForSelector('[data-card="rps"]');
    await waitForLive(monitor.page);
    check();
    const chat = await openPage(ui.browser, `${ui.app.baseUrl}/#chat`);
    await chat.page.fill('#chat-form textarea', 'What is on the screen?');
    await chat.page.click('#chat-form button[type=submit]');
    await chat.page.waitForFunction(() =>
      (document.getElementById('chat-answer')?.textContent ?? '').includes('login'),
    );
    check();
    // The check before the request already showed "0 req/s": wait for the check after it
    // (waiting for any "req/s" read that 0 once, when the new snapshot had not arrived yet).
    await monitor.page.waitForFunction(() => {
      const text = document.querySelector('[data-card="rps"] .number')?.textContent ?? '';
      return /req\/s/.test(text) && Number.parseFloat(text) > 0;
    });
    const rps = await monitor.page.textContent('[data-card="rps"] .number');
    expect(Number.parseFloat(rps!)).toBeGreaterThan(0);
    // The chat request's log line reached the Monitor's log.
    await monitor.page.waitForFunction(() =>
      [...document.querySelectorAll('.log-line')].some((l) => l.textContent!.includes('INFO vlm Chat completion')),
    );
    await monitor.page.hover('[data-card="rps"]');
    await monitor.page.waitForSelector('[data-card="rps"] .hover-chart canvas');
    expect(monitor.errors).toEqual([]);
    expect(chat.errors).toEqual([]);
    await monitor.page.context().close();
    await chat.page.context().close();
  });

  it('says plainly why the GPU cards are empty', async () => {
    await ui.app.monitor!.tick(Date.now());
    const { page, failedRequests } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('[data-card="gpu_memory"] .reason');
    expect(await page.textContent('[data-card="gpu_memory"] .reason')).toBe(
      'no NVIDIA GPU: /nonexistent/libnvidia-ml.so.1 not found',
    );
    expect(await page.textContent('[data-card="gpu_memory"] .status')).toBe('unavailable');
    expect(failedRequests).toEqual([]); // no missing asset
    await page.context().close();
  });

  it('renders a log line carrying markup as text, running nothing', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    let dialogs = 0;
    page.on('dialog', async (d) => {
      dialogs++;
      await d.dismiss();
    });
    await page.waitForSelector('.log-lines');
    // A line written before the stream is open reaches neither the page's first load nor the stream.
    await waitForLive(page);
    ui.app.log.error('http', '<img src=x onerror=alert(1)>', { payload: '<script>alert(2)</script>' });
    await page.waitForFunction(() =>
      [...document.querySelectorAll('.log-line')].some((l) => l.textContent!.includes('<img src=x onerror=alert(1)>')),
    );
    expect(await page.$$eval('.log-lines img, .log-lines script', (els) => els.length)).toBe(0);
    await page.click('.log-line.ERROR');
    expect(await page.textContent('.log-detail')).toContain('<script>alert(2)</script>');
    expect(dialogs).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('creates a rule in the form that survives a reload, shows field errors, and pops up a firing alert', async () => {
    const { page, errors, failedRequests } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await page.click('#open-settings');
    await page.click('#add-rule');
    await page.waitForSelector('#rule-form');
    await page.fill('#rule-form [name=name]', 'Hot GPU');
    await page.selectOption('#rule-form [name=metric]', 'gpu_temperature_celsius');
    await page.fill('#rule-form [name=threshold]', '85');
    await page.fill('#rule-form [name=consecutiveChecks]', '2');
    await page.fill('#rule-form [name=for]', '30s');
    await page.click('#rule-form button[type=submit]');
    // Both durations at once: the server's message appears at the field.
    await page.waitForSelector('#rule-form .field-error');
    expect(await page.textContent('#rule-form .field-error')).toContain('consecutiveChecks and for are alternatives');
    expect(failedRequests).toHaveLength(1); // that 400, and nothing else
    await page.fill('#rule-form [name=for]', '');
    await page.click('#rule-form button[type=submit]');
    await page.waitForSelector('#rules-table tr[data-rule]');
    await page.reload();
    await page.click('#open-settings');
    await page.waitForSelector('#rules-table tr[data-rule]');
    expect(await page.textContent('#rules-table tr[data-rule] td')).toBe('Hot GPU');

    // The rule fires at its 2nd breaching check; every open tab gets the popup.
    const t0 = Date.now();
    ui.app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, t0, 91);
    ui.app.monitor!.check(t0);
    ui.app.monitor!.store.record('gpu_temperature_celsius', { gpu: '0' }, t0 + 10_000, 92);
    ui.app.monitor!.check(t0 + 10_000);
    await page.waitForSelector('.popup');
    expect(await page.textContent('.popup strong')).toContain('Hot GPU');
    // Settings lies over the page: closed first (Escape), as an operator closes it to reach the notice.
    await page.keyboard.press('Escape');
    await page.waitForSelector('#settings', { state: 'hidden' });
    await page.click('.popup button');
    await page.waitForSelector('.popup', { state: 'detached' });
    expect(
      ((await (await fetch(`${ui.app.baseUrl}/api/monitor/alerts/active`)).json()) as any).alerts[0].acknowledgedBy,
    ).toBe('operator');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('switches to Chinese and back, and saves screenshots of both', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'en-US');
    check();
    await page.waitForSelector('[data-card="gpu_memory"]');
    expect(await page.textContent('[data-tab="monitor"] [data-i18n]')).toBe('Monitor');
    await page.screenshot({ path: `${ARTIFACTS}/monitor-en.png`, fullPage: true });
    await page.click('#lang');
    expect(await page.textContent('[data-tab="monitor"] [data-i18n]')).toBe('监控');
    expect(await page.textContent('[data-card="gpu_memory"] .title')).toBe('GPU 显存');
    expect(await page.textContent('.log-panel strong')).toBe('日志');
    await page.screenshot({ path: `${ARTIFACTS}/monitor-zh.png`, fullPage: true });
    await page.click('#lang');
    expect(await page.textContent('[data-card="gpu_memory"] .title')).toBe('GPU memory');
    // A browser set to Chinese starts in Chinese.
    const zh = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, 'zh-CN');
    await zh.page.waitForSelector('[data-card="rps"]');
    expect(await zh.page.textContent('[data-card="rps"] .title')).toBe('每秒请求数');
    expect(errors).toEqual([]);
    await page.context().close();
    await zh.page.context().close();
  });
});

describe('Settings in a browser', () => {
  it('edits a rule, adds a daily silence, and keeps channel secrets write-only', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    await fetch(`${ui.app.baseUrl}/api/monitor/alerts/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Slow P95',
        metric: 'latency_ms_p95',
        labels: { endpoint: '*' },
        op: '>',
        threshold: 5000,
        consecutiveChecks: 3,
      }),
    });
    await page.click('#open-settings');
    await page.waitForSelector('#rules-table tr[data-rule]');
    const row = page.locator('#rules-table tr', { hasText: 'Slow P95' });
    await row.locator('button.edit').click();
    expect(await page.inputValue('#rule-form [name=labels]')).toBe('endpoint=*');
    await page.fill('#rule-form [name=threshold]', '8000');
    await page.click('#rule-form button[type=submit]');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#rules-table tr')].some((r) => r.textContent!.includes('> 8.00 s × 3')),
    );
    const rules = ((await (await fetch(`${ui.app.baseUrl}/api/monitor/alerts/rules`)).json()) as any).rules.filter(
      (r: any) => r.name === 'Slow P95',
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ threshold: 8000, labels: { endpoint: '*' }, consecutiveChecks: 3 });

    await page.click('[data-settings-tab="silences"]');
    await page.selectOption('#silence-form [name=kind]', 'daily');
    await page.fill('#silence-form [name=start]', '01:50');
    await page.fill('#silence-form [name=end]', '02:10');
    await page.fill('#silence-form [name=timeZone]', 'Asia/Shanghai');
    await page.fill('#silence-form [name=comment]', 'model hot update');
    await page.click('#silence-form button[type=submit]');
    await page.waitForFunction(() =>
      document.querySelector('.settings')!.textContent!.includes('01:50–02:10 Asia/Shanghai'),
    );

    await page.click('[data-settings-tab="channels"]');
    await page.selectOption('[name=new-channel-type]', 'webhook');
    await page.click('#add-channel');
    await page.fill('#channel-form [name=name]', 'webhook');
    await page.fill('#channel-form [name=url]', 'http://127.0.0.1:9/hook');
    await page.fill('#channel-form [name=secret]', 'sekrit-value');
    await page.click('#channel-form button[type=submit]');
    await page.click('#channels-table tr[data-channel="webhook"] button.edit');
    await page.waitForFunction(() =>
      (document.querySelector('#channel-form [name=secret]') as HTMLInputElement).placeholder.includes('(set)'),
    );
    expect(await page.inputValue('#channel-form [name=secret]')).toBe('');
    expect(await page.content()).not.toContain('sekrit-value');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('opens the full series of a card in the side panel', async () => {
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`);
    check();
    await page.waitForSelector('[data-card="latency"] .expand');
    await page.click('[data-card="latency"] .expand');
    await page.waitForSelector('#side-panel:not([hidden]) canvas');
    await page.click('#side-panel button:has-text("1h")');
    await page.waitForSelector('#side-panel:not([hidden]) canvas');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
