// The Chat / GUI / OCR pages and the login, in real Chromium.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openPage, uiFixture } from './browser.js';
import { clippedInside } from './layout-check.js';

const ui = uiFixture({
  behavior: { tokens: 6, tokenLogprob: Math.log(0.9) },
  env: { MONITOR_TOKEN: 'browser-token-0123456789' },
  appOptions: { probes: false },
});
let screenshotFile: string;

beforeAll(async () => {
  screenshotFile = join(mkdtempSync(join(tmpdir(), 'ui-')), 'screen.png');
  writeFileSync(
    screenshotFile,
    await sharp({ create: { width: 800, height: 600, channels: 3, background: '#eef' } })
      .png()
      .toBuffer(),
  );
});

describe('model pages', () => {
  it('Chat streams the answer, whatever the line ends, and says so when the model server breaks off', async () => {
    ui.fake.behavior = { ...ui.fake.behavior, reply: undefined, tokens: 6, sseLineEnd: '\r\n' };
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#chat`);
    await page.fill('#chat-form textarea', 'What is on the screen?');
    await page.click('#chat-form button[type=submit]');
    await page.waitForFunction(
      () => document.getElementById('chat-answer')?.textContent === 'The image shows a login page',
    );
    ui.fake.behavior = { ...ui.fake.behavior, sseLineEnd: '\n', streamFault: 'cut', faultAfterTokens: 2 };
    await page.click('#chat-form button[type=submit]');
    await page.waitForSelector('#chat-answer .error');
    expect(await page.textContent('#chat-answer')).toMatch(
      /^The image.*The model server ended its answer before it was complete/,
    );
    ui.fake.behavior = { ...ui.fake.behavior, streamFault: undefined };
    expect(errors).toEqual([]);
    await page.context().close();
  });

  for (const [lang, viewport, field] of [
    ['en-US', { width: 1280, height: 800 }, 'reasoning'],
    ['zh-CN', { width: 1920, height: 1080 }, 'reasoning_content'],
    ['zh-CN', { width: 390, height: 844 }, 'reasoning'],
  ] as const) {
    it(`Chat shows a thinking model's reasoning folded above the answer (${lang}, ${viewport.width}×${viewport.height}, ${field})`, async () => {
      ui.fake.behavior = {
        ...ui.fake.behavior,
        reply: 'A login page.',
        reasoning: 'The screen has a user name field and a password field, so this is a login form.',
        reasoningField: field,
      };
      // The model goes back to answering without thinking, whether this test passes or not.
      onTestFinished(() => {
        ui.fake.behavior = { ...ui.fake.behavior, reply: undefined, reasoning: undefined, reasoningField: undefined };
      });
      const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#chat`, lang, viewport);
      await page.click('#chat-form button[type=submit]');
      await page.waitForFunction(() =>
        (document.getElementById('chat-answer')?.textContent ?? '').endsWith('login page.'),
      );
      expect(await page.textContent('#chat-answer .thinking summary')).toBe(lang === 'en-US' ? 'Thinking' : '思考过程');
      expect(await page.textContent('#chat-answer .thinking-text')).toBe(
        'The screen has a user name field and a password field, so this is a login form.',
      );
      expect(await page.isVisible('#chat-answer .thinking-text')).toBe(true);
      // The answer itself follows the fold, outside it.
      expect(await page.evaluate(() => document.getElementById('chat-answer')?.lastChild?.textContent)).toBe('page.');
      expect(await clippedInside(page, '.answer')).toEqual([]);
      await page.screenshot({ path: `test-artifacts/chat-thinking-${viewport.width}.png` });
      // Folded away by a click on its summary, as a reader does once the answer is there.
      await page.click('#chat-answer .thinking summary');
      expect(await page.isVisible('#chat-answer .thinking-text')).toBe(false);
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }

  it('OCR shows the text and the confidence', async () => {
    ui.fake.behavior = { ...ui.fake.behavior, reply: '登录 Sign in' };
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#ocr`);
    await page.setInputFiles('#page-ocr input[type=file]', screenshotFile);
    await page.click('#page-ocr button[type=submit]');
    await page.waitForFunction(() => document.getElementById('ocr-answer')?.textContent === '登录 Sign in');
    // A busy machine can take over a second: "1,329 ms", with the thousands separator.
    expect(await page.textContent('#page-ocr .muted')).toMatch(
      /^Confidence: 0\.900 · \d{1,3}(,\d{3})* ms · [0-9a-f]{16}$/,
    );
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('GUI draws the returned action on the screenshot', async () => {
    ui.fake.behavior = {
      ...ui.fake.behavior,
      reply:
        '<tool_call>{"name":"computer_use","arguments":{"action":"left_click","coordinate":[500,500],"target":"OK"}}</tool_call>',
    };
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#gui`);
    await page.setInputFiles('#page-gui input[type=file]', screenshotFile);
    await page.fill('#page-gui input[type=text]', 'press OK');
    await page.click('#page-gui button[type=submit]');
    await page.waitForFunction(() => (document.querySelector('#gui-canvas') as HTMLCanvasElement).width === 800);
    expect(JSON.parse((await page.textContent('#page-gui pre'))!)).toEqual({
      type: 'click',
      x: 400,
      y: 300,
      target: 'OK',
    });
    // The red ring is drawn at the action's point.
    const pixel = await page.evaluate(() => {
      const c = document.querySelector('#gui-canvas') as HTMLCanvasElement;
      const r = Math.max(12, 800 / 60);
      return [...c.getContext('2d')!.getImageData(400 + Math.round(r), 300, 1, 1).data];
    });
    expect(pixel[0]).toBeGreaterThan(150);
    expect(pixel[1]).toBeLessThan(120);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('video page', () => {
  it('asks about an MP4 and shows the answer with the frames used', async () => {
    const { createFile } = await import('mp4box');
    const f = createFile();
    const id = f.addTrack({
      timescale: 30_000,
      width: 640,
      height: 360,
      type: 'avc1',
      avcDecoderConfigRecord: new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe0, 0, 0]).buffer,
    });
    for (let i = 0; i < 150; i++) f.addSample(id, new Uint8Array(32), { duration: 1_000, is_sync: i % 30 === 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'ui-')), 'clip.mp4');
    writeFileSync(file, Buffer.from(f.getBuffer().buffer as ArrayBuffer));
    ui.fake.behavior = { ...ui.fake.behavior, reply: 'Someone waves.' };
    const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#video`);
    await page.setInputFiles('#page-video input[type=file]', file);
    await page.click('#page-video button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#page-video .answer')?.textContent === 'Someone waves.');
    expect(await page.textContent('#page-video .muted')).toMatch(/^10 frames · /);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('Monitor login', () => {
  it('asks a remote browser for the token once, then remembers it', async () => {
    // Behind a proxy the browser is remote: the Monitor wants the token.
    const context = await ui.browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': '203.0.113.7' } });
    const page = await context.newPage();
    await page.goto(`${ui.app.baseUrl}/#monitor`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#login input[name=token]', 'wrong-token-wrong-token');
    await page.click('#login button');
    await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '').length > 0);
    await page.fill('#login input[name=token]', 'browser-token-0123456789');
    await page.click('#login button');
    await page.waitForSelector('[data-card="rps"]');
    await page.reload();
    await page.waitForSelector('[data-card="rps"]');
    expect(await page.isHidden('#login')).toBe(true);
    await context.close();
  });
});

describe('with the Monitor switched off', () => {
  const off = uiFixture({ env: { MONITOR_ENABLED: 'false' }, appOptions: { probes: false } });
  it('says so on the Monitor tab, and chat still works', async () => {
    const { page, errors } = await openPage(off.browser, `${off.app.baseUrl}/#monitor`);
    await page.waitForFunction(() =>
      (document.getElementById('page-monitor')?.textContent ?? '').includes('MONITOR_ENABLED=false'),
    );
    await page.click('[data-tab="chat"]');
    await page.click('#chat-form button[type=submit]');
    await page.waitForFunction(() => (document.getElementById('chat-answer')?.textContent ?? '').length > 0);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
