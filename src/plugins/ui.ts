// The browser UI: the page loads one bundle, dist/ui/app.js (scripts/build-ui.mjs), built
// from the ES modules in public/js/, uPlot, and the server's own modules the browser runs
// too (compiled, importing nothing else): the log search and formatting
// (src/log/log-search.ts, log-format.ts), so that the browser's live search is the server's,
// the reasons' English words (src/reasons.ts) and the values' formatter (src/value-format.ts),
// so that a notice prints a value as its card does: one copy of each. The modules are served
// as they are too (/js/, /js/shared/, /vendor/uplot/), for debugging and for tests that
// import one into the page (the source map carries their text itself).
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
/** The bundle: dist/ui/, from src/plugins/ as from dist/plugins/. */
const BUNDLE_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));
const SHARED: ReadonlySet<string> = new Set(BROWSER_SHARED.map((m) => `/${sharedName(m)}.js`));

export async function uiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: ['index.html'],
    cacheControl: true,
    maxAge: 60_000,
  });
  await app.register(fastifyStatic, {
    root: BUNDLE_DIR,
    prefix: '/ui/',
    decorateReply: false,
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
