// The OpenAPI description: every public route listed, with a summary, and the request
// bodies described from the same zod schemas the handlers validate with.
import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startApp } from '../helpers.js';
import { launch } from '../ui/browser.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Routes that serve files (the UI and its bundle, uPlot, the docs page) are not API. */
const isFile = (url: string) =>
  url === '*' || url === '/*' || ['/ui/', '/vendor/', '/js/shared/', '/docs'].some((prefix) => url.startsWith(prefix));

describe('OpenAPI description', () => {
  it('lists every route the server registers, each with a summary', async () => {
    const registered: Array<{ method: string; url: string }> = [];
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'oas-')),
      LOG_LEVEL: 'silent',
      OCR_LOW_CONFIDENCE_SAMPLES: '2',
    });
    const built = await buildApp(config, {
      logger: false,
      probes: false,
      onRoute: (r) => {
        for (const method of Array.isArray(r.method) ? r.method : [r.method])
          if (method !== 'HEAD' && !isFile(r.url)) registered.push({ method, url: r.url });
      },
    });
    cleanups.push(() => built.close());
    await built.app.ready();
    const spec = (await built.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.info.description).toContain('/api/monitor/stream');
    const paths = spec.paths as Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    expect(registered.length).toBeGreaterThan(40);
    for (const r of registered) {
      const op = paths[r.url === '/v1/*' ? '/v1/{path}' : r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url} is missing from /docs/json`).toBeDefined();
      expect(op!.summary, `${r.method} ${r.url} has no summary`).toBeTruthy();
      // Every answer typed: the success answer has a schema, unless it has no body at all.
      const responses = (op as { responses: Record<string, { content?: Record<string, { schema: object }> }> })
        .responses;
      const success = Object.entries(responses).filter(([code]) => /^[123]\d\d$/.test(code));
      expect(success.length, `${r.method} ${r.url} has no success answer`).toBeGreaterThan(0);
      for (const [code, answer] of success) {
        if (code === '204' || code === '302') continue;
        const schemas = Object.values(answer.content ?? {}).map((m) => m.schema);
        expect(schemas.length, `${r.method} ${r.url}: its ${code} answer has no schema`).toBeGreaterThan(0);
        // An empty schema says nothing ({} is "anything"), but for the passthrough's, which is the model server's.
        if (r.url !== '/v1/*')
          for (const schema of schemas)
            expect(Object.keys(schema).length, `${r.method} ${r.url}: its ${code} answer is untyped`).toBeGreaterThan(
              1,
            );
      }
    }
    // Bodies come from the handlers' zod schemas: the OCR image is required, a rule's op an enum.
    const ocr = (paths['/api/ocr']!.post as any).requestBody.content['application/json'].schema;
    expect(ocr.required).toContain('image');
    const rule = (paths['/api/monitor/alerts/rules']!.post as any).requestBody.content['application/json'].schema;
    expect(JSON.stringify(rule)).toContain('">="');
    // Who may call what, as the server checks it.
    expect(paths['/api/monitor/snapshot']!.get).toMatchObject({
      tags: ['Monitor'],
      security: [{ monitorToken: [] }, { monitorSession: [] }],
    });
    expect((paths['/api/monitor/alerts/rules']!.post as any).security).toEqual([
      { monitorToken: [], adminToken: [] },
      { monitorSession: [], adminToken: [] },
    ]);
    expect((paths['/v1/chat/completions']!.post as any).security).toEqual([{ apiKey: [] }]);
    expect((paths['/healthz']!.get as any).security).toEqual([]);
    // A valid OpenAPI 3.0 document (swagger-parser checks it against the specification's
    // schema), and clean by Redocly's recommended rules: every operation with an id, its 4xx,
    // its security; only the license is missing, as the project names none.
    await expect(SwaggerParser.validate(structuredClone(spec))).resolves.toBeDefined();
    const problems = await lintFromString({
      source: JSON.stringify(spec),
      absoluteRef: 'openapi.json',
      config: await createConfig({ extends: ['recommended'] }),
    });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`)).toEqual([
      'warn info-license: Info object should contain `license` field.',
      // The start-up link's success is a redirect (302) …
      'warn operation-2xx-response: Operation must have at least one `2XX` response.',
      // … and the WebSocket's 101: a plain GET of either has no 2xx.
      'warn operation-2xx-response: Operation must have at least one `2XX` response.',
    ]);
    // The WebSocket: what the client may send and what the server sends.
    const stream = paths['/api/monitor/stream']!.get as any;
    expect(stream.description).toContain('"subscribe"');
    expect(JSON.stringify(stream.responses['101'])).toContain('"snapshot"');
    // Each topic's data is described as it is sent (a snapshot's cards, a log line's level,
    // a notification's alerts with their context, an acknowledgement),
    // and only topics that are sent: 'point' was described and never broadcast.
    const described = JSON.stringify(stream.responses['101']);
    expect(described).toContain('"cards"');
    expect(described).toContain('"level"');
    expect(described).toContain('"ruleName"');
    expect(described).toContain('"breachPoints"');
    expect(described).toContain('"ack"');
    expect(stream.description).toContain('{"type":"snapshot"|"log"|"alert","data":…}');
    expect(described).not.toContain('"point"');
    expect(Object.keys(paths).filter((p) => p.includes('*'))).toEqual([]);
    expect(Object.keys(paths).some((p) => p.startsWith('/vendor') || p === '/*')).toBe(false);
  });

  it('serves a browsable page that renders in Chromium', async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const browser = await launch();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${app.baseUrl}/docs`);
    await page.waitForSelector('.opblock-tag');
    expect(await page.textContent('.info .title')).toContain('Qwen3-VL WebUI');
    expect(await page.$$eval('.opblock-tag', (els) => els.map((e) => e.getAttribute('data-tag')))).toEqual(
      expect.arrayContaining(['OpenAI', 'Model', 'Monitor', 'Alerts']),
    );
    expect(errors).toEqual([]);
  });
});
