// The browser UI: plain ES modules from public/, uPlot from its package, and the server's
// own log search and formatting (the compiled src/log/log-search.ts and log-format.ts, which
// import nothing else), so that the browser's live search is the server's: one copy.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));
/** dist/log/, from src/plugins/ as from dist/plugins/ (npm start and the tests build dist/ first). */
const SHARED_DIR = fileURLToPath(new URL('../../dist/log/', import.meta.url));
const SHARED: ReadonlySet<string> = new Set(['/log-search.js', '/log-format.js']);

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
    root: SHARED_DIR,
    prefix: '/js/shared/',
    decorateReply: false,
    allowedPath: (path) => SHARED.has(path),
  });
}
