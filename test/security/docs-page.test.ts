// /docs over plain http under a host name: Swagger UI's policy carried
// `upgrade-insecure-requests`, so the browser asked for the page's own scripts over
// https and the page stayed blank. The policy keeps everything else; real Chromium
// shows the page.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../ui/browser.js';
import { startApp, type TestApp } from '../helpers.js';

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startApp({ ALLOWED_HOSTS: 'docs.test' }, { probes: false });
  // docs.test is a name for this machine, as a server's host name would be.
  browser = await launch(); // docs.test resolves to 127.0.0.1 there (test/ui/chromium.ts)
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('/docs over plain http', () => {
  it('carries a policy without upgrade-insecure-requests, and keeps the rest of it', async () => {
    for (const url of ['/docs', '/docs/static/swagger-initializer.js']) {
      const res = await app.app.inject({ url, headers: { host: 'docs.test:7860' } });
      const policy = String(res.headers['content-security-policy']);
      expect(policy, url).not.toContain('upgrade-insecure-requests');
      expect(policy, url).toContain("script-src 'self'");
      expect(policy, url).toContain("object-src 'none'");
    }
  });

  it('shows the API in Chromium at http://docs.test', async () => {
    const port = new URL(app.baseUrl).port;
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`http://docs.test:${port}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 20_000 });
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('Qwen3-VL');
    expect(failed).toEqual([]);
    await page.close();
  }, 60_000);
});
