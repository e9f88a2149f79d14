// Real Chromium for the UI tests (Debian's package, driven by playwright-core).
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/**
 * A page whose script errors are collected (`errors`), and whose failed requests are
 * collected apart (`failedRequests`): a 400 the UI shows at a field is not a script error.
 */
export async function openPage(browser: Browser, url: string, lang = 'en-US'): Promise<{ page: Page; errors: string[]; failedRequests: string[] }> {
  const context = await browser.newContext({ locale: lang, viewport: { width: 1280, height: 900 } });
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
