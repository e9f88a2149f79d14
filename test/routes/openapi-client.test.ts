// A team generates a client from /docs/json (openapi-typescript, openapi-fetch), compiles
// it with --strict, and calls chat, OCR and the rules API with it against the real server:
// what the document types is what the server answers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../src/demo/fake-upstream.js';
import { blackboardPhoto, dataUrl } from '../../src/demo/images.js';
import { startApp, type TestApp } from '../helpers.js';

const DIR = resolve('test-artifacts/openapi-client');
let app: TestApp;
let fake: Awaited<ReturnType<typeof startFakeUpstream>>;
beforeAll(async () => {
  fake = await startFakeUpstream({ behavior: { spread: 0, errorRate: 0, ttftMs: 1, tokenIntervalMs: 1, tokens: 3 } });
  app = await startApp({ UPSTREAM_URL: fake.url }, { probes: false });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

/** The client a team would write against the generated types. */
const CLIENT = `import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

export async function drive(baseUrl: string, image: string) {
  // JSON answers: chat also answers text/event-stream when asked to stream.
  const api = createClient<paths, 'application/json'>({ baseUrl });
  const chat = await api.POST('/v1/chat/completions', {
    body: { model: 'qwen3-vl', messages: [{ role: 'user', content: 'What is on the board?' }] },
  });
  const answer: string | null | undefined = chat.data?.choices[0]?.message.content;
  const ocr = await api.POST('/api/ocr', { body: { image } });
  const confidence: number | null | undefined = ocr.data?.confidence;
  const width: number | undefined = ocr.data?.image.width;
  const refused = await api.POST('/api/ocr', { body: { image: 'not an image' } });
  const refusal: string | undefined = refused.error?.error.app_code;
  const created = await api.POST('/api/monitor/alerts/rules', {
    body: { name: 'GPU hot', metric: 'gpu_temperature_celsius', op: '>', threshold: 85 },
  });
  const id: string | undefined = created.data?.id;
  const listed = await api.GET('/api/monitor/alerts/rules');
  const names: string[] | undefined = listed.data?.rules.map((r) => r.name);
  const one = id ? await api.GET('/api/monitor/alerts/rules/{id}', { params: { path: { id } } }) : undefined;
  const severity: string | undefined = one?.data?.severity;
  // The Monitor's readings are typed too.
  const snapshot = await api.GET('/api/monitor/snapshot');
  const cards: string[] | undefined = snapshot.data?.cards.map((c) => c.id);
  const active = await api.GET('/api/monitor/alerts/active');
  const firing: number | undefined = active.data?.alerts.filter((a) => a.state === 'firing').length;
  const series = await api.GET('/api/monitor/series', { params: { query: { metric: 'requests_per_second' } } });
  const unit: string | undefined = series.data?.unit;
  return { answer, confidence, width, refusal, status: created.response.status, id, names, severity, cards, firing, unit };
}
`;

describe('a client generated from the API description', () => {
  it('compiles with --strict and calls chat, OCR and the rules API', { timeout: 60_000 }, async () => {
    mkdirSync(DIR, { recursive: true });
    const spec = await (await fetch(`${app.baseUrl}/docs/json`)).json();
    writeFileSync(join(DIR, 'schema.d.ts'), astToString(await openapiTS(spec)));
    writeFileSync(join(DIR, 'client.ts'), CLIENT);

    const program = ts.createProgram([join(DIR, 'client.ts')], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);

    const { drive } = (await import(pathToFileURL(join(DIR, 'client.ts')).href)) as {
      drive: (baseUrl: string, image: string) => Promise<Record<string, unknown>>;
    };
    const got = await drive(app.baseUrl, dataUrl(await blackboardPhoto(320, 240)));
    expect(got).toMatchObject({
      answer: expect.any(String),
      confidence: expect.any(Number),
      width: 320,
      refusal: 'IMAGE_UNREADABLE',
      status: 201,
      id: expect.any(String),
      names: ['GPU hot'],
      severity: 'warning',
      cards: ['gpu_memory', 'gpu_utilization', 'latency', 'rps', 'connections', 'error_rate'],
      firing: 0,
      unit: expect.any(String),
    });
  });
});
