// Builds dist/ (the server, and the UI's bundle: scripts/build-ui.mjs) when it is missing or
// older than the sources (src/, and public/js/ for the bundle), so that `npm start` runs
// node directly (no build step inside start: a supervisor's SIGTERM must reach the
// server, not a shell between them). `npm ci` builds through the `prepare` script; this
// check covers a `git pull` without a fresh install. Exits non-zero when a build is
// needed and TypeScript is not installed (npm ci --omit=dev): then build elsewhere.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const output = join(root, 'dist', 'server.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);
const inputs = Math.max(
  newestMtime(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs),
);
const built = mtime(output);
// The bundle takes the server's shared modules from dist/: it is built after tsc, and again
// whenever the server is; and uPlot from node_modules/, which the lock file says.
const bundleInputs = Math.max(
  inputs,
  mtime(join(root, 'package-lock.json')),
  newestMtime(join(root, 'public', 'js')),
  mtime(join(root, 'scripts', 'build-ui.mjs')),
);
const bundled = mtime(join(root, 'dist', 'ui', 'app.js'));
const force = process.argv.includes('--force');
if (!force && built >= inputs && bundled >= bundleInputs) process.exit(0);

const why =
  built >= inputs ? 'dist/ui/app.js is older than public/js/' : built ? 'dist/ is older than src/' : 'dist/ is missing';
const needed = (what) => {
  process.stderr.write(`${why} and ${what} is not installed: run \`npm ci\` (with dev dependencies) to build it.\n`);
  process.exit(1);
};
if (force || built < inputs) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    needed('TypeScript');
  }
  if (!force) process.stderr.write(`${why}: building it (tsc -p tsconfig.build.json)\n`);
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} else if (!force) process.stderr.write(`${why}: bundling it (scripts/build-ui.mjs)\n`);
const { buildUi } = await import('./build-ui.mjs').catch((err) =>
  err?.code === 'ERR_MODULE_NOT_FOUND' ? needed('esbuild') : Promise.reject(err),
);
await buildUi();
