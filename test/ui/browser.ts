// Real Chromium for the UI tests (Debian's package, driven by playwright-core).
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import type { AppOptions } from '../../src/app.js';
import { startFakeUpstream, type FakeBehavior, type FakeUpstream } from '../../src/demo/fake-upstream.js';
import { startApp, type TestApp } from '../helpers.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

export { CHROMIUM };

/**
 * A connection to the run's Chromium (test/browser-setup.ts), or a Chromium of this file's
 * own when there is none (a file run under another config). close() ends either.
 */
export async function launch(): Promise<Browser> {
  const endpoint = inject('chromiumEndpoint');
  if (endpoint) return chromium.connect(endpoint);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A page whose script errors are collected (`errors`), and whose failed requests are
 * collected apart (`failedRequests`): a 400 the UI shows at a field is not a script error.
 */
export async function openPage(
  browser: Browser,
  url: string,
  lang = 'en-US',
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; errors: string[]; failedRequests: string[] }> {
  const context = await browser.newContext({ locale: lang, viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const failedRequests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (m.text().startsWith('Failed to load resource')) failedRequests.push(m.text());
    else errors.push(m.text());
  });
  await page.goto(url);
  return { page, errors, failedRequests };
}

/**
 * Waits until the Monitor's live stream is connected and has had its first snapshot
 * ("live · 15:04:50"): what a check pushes after this reaches the page. A check pushed before
 * the WebSocket is open is not replayed (the page reloads its state only on a snapshot).
 */
export async function waitForLive(page: Page): Promise<void> {
  await page.waitForFunction(() => /·/.test(document.querySelector('#stream-status')?.textContent ?? ''));
}

/**
 * One browser, one simulated model server and one app for a UI test file, started before
 * its tests and closed after them. Read the fields inside tests (they are set in beforeAll).
 */
export function uiFixture(
  opts: { behavior?: Partial<FakeBehavior>; env?: Record<string, string>; appOptions?: AppOptions } = {},
) {
  const f = {} as { browser: Browser; fake: FakeUpstream; app: TestApp };
  beforeAll(async () => {
    f.fake = await startFakeUpstream({
      behavior: { errorRate: 0, ttftMs: 5, tokenIntervalMs: 1, spread: 0, ...opts.behavior },
    });
    f.app = await startApp({ UPSTREAM_URL: f.fake.url, ...opts.env }, opts.appOptions ?? {});
    f.browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await f.browser?.close();
    await f.app?.close();
    await f.fake?.close();
  });
  return f;
}
