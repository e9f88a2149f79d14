// The connections card says when model requests wait for a connection to the model server
// (UPSTREAM_MAX_CONNECTIONS all busy), in real Chromium, English and Chinese, at the three
// widths, the line never clipped. (Without waiting requests there is no such line: the
// other card tests read the card as it was.)
import { createServer, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { userMessage } from '../helpers.js';
import { openPage, uiFixture } from './browser.js';
import { clippedInside } from './layout-check.js';

const held: ServerResponse[] = [];
const env: Record<string, string> = { UPSTREAM_MAX_CONNECTIONS: '2' };
let close: () => Promise<void>;
// Before the fixture's app starts: a model server that holds every chat answer (and lists its model).
beforeAll(async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/chat/completions')) held.push(res);
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ object: 'list', data: [{ id: 'q', object: 'model' }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  env.UPSTREAM_URL = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
});
afterAll(async () => {
  for (const res of held.splice(0)) res.destroy();
  await close();
});
const ui = uiFixture({ env });

describe('the connections card', () => {
  it('says how many model requests wait for the model server', { timeout: 120_000 }, async () => {
    // Four chats at once through two connections: two sent, two waiting.
    Array.from({ length: 4 }, () =>
      fetch(`${ui.app.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'q', ...userMessage() }),
      }).catch(() => null),
    );
    await vi.waitFor(() => expect(ui.app.upstream.waiting).toBe(2), { timeout: 10_000, interval: 20 });
    await ui.app.monitor!.tick(Date.now());
    const wide = { width: 1920, height: 1080 };
    const laptop = { width: 1280, height: 800 };
    const phone = { width: 390, height: 844 };
    for (const [lang, line, viewports] of [
      ['en-US', '2 waiting for the model server', [laptop, wide, phone]],
      ['zh-CN', '2 个在等待模型服务器', [laptop, phone]],
    ] as const) {
      for (const viewport of viewports) {
        const { page, errors } = await openPage(ui.browser, `${ui.app.baseUrl}/#monitor`, lang, viewport);
        await page.waitForSelector('[data-card="connections"] .facts');
        await expect.poll(() => page.textContent('[data-card="connections"] .facts')).toContain(line);
        expect(await clippedInside(page, '[data-card="connections"]')).toEqual([]);
        expect(errors).toEqual([]);
        await page.context().close();
      }
    }
  });
});
