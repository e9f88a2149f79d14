// Builds dist/ when it is missing or older than the sources, so that `npm start` runs
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

const inputs = Math.max(
  newestMtime(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs),
);
const built = existsSync(output) ? statSync(output).mtimeMs : 0;
const force = process.argv.includes('--force');
if (!force && built >= inputs) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write(
    `dist/ is ${built ? 'older than src/' : 'missing'} and TypeScript is not installed: run \`npm ci\` (with dev dependencies) to build it.\n`,
  );
  process.exit(1);
}
if (!force)
  process.stderr.write(`dist/ is ${built ? 'older than src/' : 'missing'}: building it (tsc -p tsconfig.build.json)\n`);
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
