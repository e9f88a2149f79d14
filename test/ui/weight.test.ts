// What a browser downloads for the UI: one bundle (scripts/build-ui.mjs), the page and its
// CSS, gzipped; and that the page does fetch the bundle alone, not the modules it is built from.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openPage, uiFixture, waitForLive } from './browser.js';

const ui = uiFixture();

describe('UI weight', () => {
  it('stays under 200 KB of JS and CSS, gzipped', () => {
    const assets = [
      'public/index.html',
      'public/css/app.css',
      'node_modules/uplot/dist/uPlot.min.css',
      'dist/ui/app.js',
    ];
    const gz = assets.reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    expect(gz).toBeLessThan(200 * 1024);
  });

  it('loads the Monitor with one script: the bundle, not its modules one import level at a time', async () => {
    const { page, errors } = await openPage(ui.browser, 'about:blank');
    const scripts: string[] = [];
    page.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
    });
    await page.goto(`${ui.app.baseUrl}/#monitor`);
    await waitForLive(page);
    await page.waitForSelector('[data-card="latency"] .number');
    expect(scripts).toEqual(['/ui/app.js']);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
