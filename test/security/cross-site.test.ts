// A page on another site, in real Chromium, tries what the issue saw work: import an
// alert rule into the server on 127.0.0.1 (a simple POST needs no CORS preflight) and
// read the live WebSocket. Both are refused; the server's own page does both.
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../ui/browser.js';
import { startApp, type TestApp } from '../helpers.js';

/** What the attacker's script does, given the server's address; reports into window.result. */
const ATTACK = `
async function attack(target) {
  const result = {};
  try {
    await fetch(target + '/api/monitor/alerts/presets/gpu-memory-pressure/import', { method: 'POST', mode: 'no-cors' });
    result.importSent = true;
  } catch (e) { result.importSent = String(e); }
  result.stream = await new Promise((resolve) => {
    const ws = new WebSocket(target.replace('http', 'ws') + '/api/monitor/stream');
    ws.onmessage = (m) => { resolve('read ' + JSON.parse(m.data).type); ws.close(); };
    ws.onerror = () => resolve('refused');
  });
  return result;
}`;

let app: TestApp;
let attacker: Server;
let attackerPort: number;
let browser: Browser;

beforeAll(async () => {
  app = await startApp({}, { probes: false });
  attacker = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>cute cats</title><script>${ATTACK}
      attack(${JSON.stringify(app.baseUrl)}).then((r) => { window.result = r; document.title = 'done'; });</script>`);
  });
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
  attackerPort = (attacker.address() as { port: number }).port;
  // attacker.test is another site that happens to resolve to this machine.
  browser = await launch(); // attacker.test resolves to 127.0.0.1 there (test/ui/chromium.ts)
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => attacker?.close(r));
  await app?.close();
});

const rules = async () =>
  (await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules`)).json()).rules as Array<{ id: string }>;

describe('a page on another site', () => {
  it('cannot import a rule into the server on 127.0.0.1 nor read its live stream', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://attacker.test:${attackerPort}/`);
    await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 15_000 });
    const result = await page.evaluate(() => (window as unknown as { result: unknown }).result);
    // The browser sent the POST (no-cors hides the answer from the page), the server refused it.
    expect(result).toEqual({ importSent: true, stream: 'refused' });
    expect(await rules()).toEqual([]);
    await page.context().close();
  });
});

describe("the server's own page", () => {
  it('imports the rule and reads the stream', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${app.baseUrl}/`);
    const result = await page.evaluate(
      `(${ATTACK.trim().replace(/^async function attack/, 'async function')})(${JSON.stringify(app.baseUrl)})`,
    );
    expect(result).toEqual({ importSent: true, stream: 'read snapshot' });
    expect((await rules()).map((r) => r.id)).toEqual(['preset:gpu-memory-pressure']);
    await page.context().close();
  });
});
