// The browser UI: plain ES modules from public/, uPlot from its package, and the server's
// own modules the browser runs too (compiled, importing nothing else): the log search and
// formatting (src/log/log-search.ts, log-format.ts), so that the browser's live search is
// the server's, the reasons' English words (src/reasons.ts) and the values' formatter
// (src/value-format.ts), so that a notice prints a value as its card does: one copy of each.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_SHARED, sharedName } from '../browser-shared.js';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));
/** dist/log/ and dist/ (where browser-shared.ts's modules are), from src/plugins/ as from dist/plugins/ (npm start and the tests build dist/ first). */
const SHARED_DIRS = [...new Set(BROWSER_SHARED.map((m) => m.slice(0, m.lastIndexOf('/') + 1)))].map((d) =>
  fileURLToPath(new URL(`../../dist/${d}`, import.meta.url)),
);
const SHARED: ReadonlySet<string> = new Set(BROWSER_SHARED.map((m) => `/${sharedName(m)}.js`));

export async function uiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: ['index.html'],
    cacheControl: true,
    maxAge: 60_000,
  });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/vendor/uplot/', decorateReply: false });
  await app.register(fastifyStatic, {
    root: SHARED_DIRS,
    prefix: '/js/shared/',
    decorateReply: false,
    allowedPath: (path) => SHARED.has(path),
  });
}
