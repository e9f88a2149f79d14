// ⚙ Settings when the server says no, in real Chromium: every button that asks the
// server something (enable, delete, save, import, test, add) shows the refusal next to
// what it concerns, in the page's language with the server's reason, and the page stays
// as the server has it (a toggle that was refused flips back). Refusals are real: a
// server with MONITOR_ADMIN_TOKEN set (the browser does not send it), a DATA_DIR whose
// disk is full (507), and a server that went away. No script error and no unhandled
// promise rejection; at 1280×800, 1920×1080 and 390×844 nothing is clipped.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failingDisk } from '../failing-disk.js';
import { startApp, type TestApp } from '../helpers.js';
import { launch } from './browser.js';
import { clippedInside, sidewaysOverflow } from './layout-check.js';

const SHOTS = 'test-artifacts/settings-failures';
mkdirSync(SHOTS, { recursive: true });
const ADMIN = 'admin-token-only-the-operator-has';

let browser: Browser;
let guarded: TestApp;
let full: TestApp;
const disk = failingDisk();

/** Seeds a rule, a silence and a webhook channel, with the admin token where one is set. */
async function seed(app: TestApp, headers: Record<string, string> = {}): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${app.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBe(201);
  };
  await post('/api/monitor/alerts/rules', {
    name: 'Hot GPU',
    metric: 'gpu_temperature_celsius',
    op: '>',
    threshold: 85,
  });
  await post('/api/monitor/alerts/silences', { kind: 'daily', start: '01:50', end: '02:10', timeZone: 'UTC' });
  await post('/api/monitor/alerts/channels', { name: 'ops-hook', type: 'webhook', url: 'http://127.0.0.1:9/hook' });
}

beforeAll(async () => {
  guarded = await startApp({ MONITOR_ADMIN_TOKEN: ADMIN }, { probes: false });
  await seed(guarded, { 'x-admin-token': ADMIN });
  full = await startApp({}, { probes: false, stateIo: disk.io });
  await seed(full);
  disk.state.mode = 'full';
  browser = await launch();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await guarded?.close();
  await full?.close();
});

/** A page that records script errors and unhandled promise rejections. */
async function open(app: TestApp, locale: string, viewport: { width: number; height: number }) {
  const context = await browser.newContext({ locale, viewport });
  await context.addInitScript(() => {
    window.addEventListener('unhandledrejection', (e) =>
      console.error(`unhandled rejection: ${e.reason?.message ?? e.reason}`),
    );
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A request or the stream failing to connect is the network's report, not a script error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^(Failed to load resource|WebSocket connection to)/.test(m.text()))
      errors.push(m.text());
  });
  await page.goto(`${app.baseUrl}/#monitor`);
  await page.click('#open-settings');
  await page.waitForSelector('#settings:not([hidden]) .settings-tabs');
  return { page, errors };
}

const state = async (app: TestApp) => {
  const get = async (path: string) => (await fetch(`${app.baseUrl}${path}`)).json();
  return {
    rules: await get('/api/monitor/alerts/rules'),
    silences: await get('/api/monitor/alerts/silences'),
    channels: await get('/api/monitor/alerts/channels'),
    presets: await get('/api/monitor/alerts/presets'),
  };
};

/** The text of the failure shown inside `scope`, once it appears. */
async function failure(page: Page, scope: string): Promise<string> {
  const el = await page.waitForSelector(`${scope} .action-error`);
  return (await el.textContent()) ?? '';
}

async function checkLayout(page: Page, name: string): Promise<void> {
  expect(await sidewaysOverflow(page)).toEqual([]);
  expect(
    await clippedInside(
      page,
      '#settings td, #settings .field, #settings .preset-list li, #settings .silence-list li, #settings .action-error',
    ),
  ).toEqual([]);
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

interface Expect {
  /** Each failure reads `${prefix(action)}${reason}`. */
  says: (action: string) => string;
  reason: RegExp;
  /** Whether sending a test notice is refused too (it changes nothing, but needs the admin token). */
  testRefused: boolean;
}

/** Presses every button of every tab that asks the server something; each says it failed. */
async function pressEveryButton(page: Page, tag: string, e: Expect): Promise<void> {
  const says = async (scope: string, action: string) => {
    const text = await failure(page, scope);
    expect(text.startsWith(e.says(action)), `${scope}: "${text}" should start with "${e.says(action)}"`).toBe(true);
    expect(text).toMatch(e.reason);
  };

  // Alert Rules: enable, delete, save (an edit and a new rule).
  const row = '#rules-table tr[data-rule]:has-text("Hot GPU")';
  // A click, not uncheck(): the switch flips back once the server refuses, as it should.
  await page.click(`${row} input[type=checkbox]`);
  await says('#settings-rules', 'toggleRule');
  expect(await page.isChecked(`${row} input[type=checkbox]`)).toBe(true);
  await page.click(`${row} button.delete`);
  await page.waitForFunction(
    () =>
      document.querySelectorAll('#settings-rules .action-error').length === 1 &&
      !document.querySelector('#rules-table button.delete[disabled]'),
  );
  await says('#settings-rules', 'deleteRule');
  expect(await page.isVisible(row)).toBe(true);
  await checkLayout(page, `rules-${tag}`);
  await page.click(`${row} button.edit`);
  await page.fill('#rule-form [name=threshold]', '80');
  await page.click('#rule-form button[type=submit]');
  await says('#rule-form', 'saveRule');
  await page.click('#rule-form button.cancel');
  await page.click('#add-rule');
  await page.fill('#rule-form [name=name]', 'Never saved');
  await page.fill('#rule-form [name=threshold]', '1');
  await page.click('#rule-form button[type=submit]');
  await says('#rule-form', 'saveRule');
  await checkLayout(page, `rule-form-${tag}`);

  // Presets: import.
  await page.click('[data-settings-tab="presets"]');
  await page.click('.preset-list li[data-preset="gpu-lost"] button.import');
  await says('.preset-list li[data-preset="gpu-lost"]', 'importPreset');
  await checkLayout(page, `presets-${tag}`);

  // Silences: delete, add.
  await page.click('[data-settings-tab="silences"]');
  await page.click('.silence-list li button.delete');
  await says('.silence-list li', 'deleteSilence');
  await page.fill('#silence-form [name=start]', '03:00');
  await page.fill('#silence-form [name=end]', '04:00');
  await page.click('#silence-form button[type=submit]');
  await says('#silence-form', 'addSilence');
  await checkLayout(page, `silences-${tag}`);

  // Channels: test, delete (confirmed), save an edit, save a new one.
  await page.click('[data-settings-tab="channels"]');
  const hook = '#channels-table tr[data-channel="ops-hook"]';
  await page.click(`${hook} button.test`);
  if (e.testRefused) await says('#channels-panel', 'testChannel');
  else
    await page.waitForFunction(
      () =>
        /^ops-hook: .+/.test(document.querySelector('#channels-panel .result')?.textContent ?? '') &&
        !document.querySelector('#channels-panel .result')!.textContent!.endsWith('…'),
    );
  await page.click(`${hook} button.delete`);
  await page.click(`${hook} button.delete`);
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('#channels-panel .action-error')].some((x) => x.textContent!.length > 0) &&
      !document.querySelector('#channels-table button[disabled]'),
  );
  const channelErrors = await page.$$eval('#channels-panel .action-error', (els) => els.map((x) => x.textContent!));
  expect(
    channelErrors.some((x) => x.startsWith(e.says('deleteChannel')) && e.reason.test(x)),
    channelErrors.join(' | '),
  ).toBe(true);
  expect(await page.isVisible(hook)).toBe(true);
  await page.click(`${hook} button.edit`);
  await page.fill('#channel-form [name=url]', 'http://127.0.0.1:9/elsewhere');
  await page.click('#channel-form button[type=submit]');
  await says('#channel-form', 'saveChannel');
  await page.click('#channel-form button.cancel');
  await page.selectOption('[name=new-channel-type]', 'webhook');
  await page.click('#add-channel');
  await page.fill('#channel-form [name=name]', 'never-saved');
  await page.fill('#channel-form [name=url]', 'http://127.0.0.1:9/new');
  await page.click('#channel-form button[type=submit]');
  await says('#channel-form', 'saveChannel');
  await checkLayout(page, `channels-${tag}`);
}

const EN: Record<string, string> = {
  toggleRule: 'change the rule',
  deleteRule: 'delete the rule',
  saveRule: 'save the rule',
  importPreset: 'import the preset',
  deleteSilence: 'delete the silence',
  addSilence: 'add the silence',
  saveChannel: 'save the channel',
  deleteChannel: 'delete the channel',
  testChannel: 'send the test',
};
const ZH: Record<string, string> = {
  toggleRule: '修改规则',
  deleteRule: '删除规则',
  saveRule: '保存规则',
  importPreset: '导入预设',
  deleteSilence: '删除静默',
  addSilence: '添加静默',
  saveChannel: '保存渠道',
  deleteChannel: '删除渠道',
  testChannel: '发送测试',
};

describe('Settings says when the server refuses a change', () => {
  it('with an admin token set: every change is refused, said in English at 1280×800, nothing changed', {
    timeout: 90_000,
  }, async () => {
    const before = await state(guarded);
    const { page, errors } = await open(guarded, 'en-US', { width: 1280, height: 800 });
    await pressEveryButton(page, '1280-en', {
      says: (a) => `Could not ${EN[a]}: `,
      reason: /needs the admin token/,
      testRefused: true,
    });
    expect(await state(guarded)).toEqual(before);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  for (const [locale, viewport] of [
    ['zh-CN', { width: 390, height: 844 }],
    ['en-US', { width: 1920, height: 1080 }],
  ] as const) {
    it(`with a full disk: every save is refused (507), said in ${locale} at ${viewport.width}×${viewport.height}`, {
      timeout: 90_000,
    }, async () => {
      const before = await state(full);
      const { page, errors } = await open(full, locale, viewport);
      const says = locale === 'zh-CN' ? (a: string) => `无法${ZH[a]}：` : (a: string) => `Could not ${EN[a]}: `;
      await pressEveryButton(page, `${viewport.width}-${locale}`, {
        says,
        reason: /full \(ENOSPC\)/,
        testRefused: false,
      });
      expect(await state(full)).toEqual(before);
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }

  it('when the server has gone: a button says it did not answer, and Settings says it could not load', {
    timeout: 60_000,
  }, async () => {
    const app = await startApp({}, { probes: false });
    await seed(app);
    const { page, errors } = await open(app, 'en-US', { width: 1280, height: 800 });
    await app.close();
    await page.click('#rules-table tr[data-rule] button.delete');
    expect(await failure(page, '#settings-rules')).toBe('Could not delete the rule: the server did not answer');
    await page.click('#settings .close');
    await page.click('#open-settings');
    const text = await failure(page, '#settings');
    expect(text).toBe('Could not load the settings: the server did not answer');
    expect(await page.isVisible('#settings button.retry')).toBe(true);
    await page.screenshot({ path: `${SHOTS}/gone-1280-en.png` });
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
