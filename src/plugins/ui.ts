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

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));
/** dist/log/ and dist/, from src/plugins/ as from dist/plugins/ (npm start and the tests build dist/ first). */
const SHARED_DIRS = ['../../dist/log/', '../../dist/'].map((d) => fileURLToPath(new URL(d, import.meta.url)));
const SHARED: ReadonlySet<string> = new Set([
  '/log-search.js',
  '/log-format.js',
  '/reasons.js',
  '/value-format.js',
  '/alert-summary.js',
]);

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
