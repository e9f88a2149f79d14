// `npm test`: the typechecks (the server's, and the browser UI's JSDoc through
// tsconfig.ui.json) and the whole suite side by side, failing if any fails. The typecheck
// takes ~20 s of one core; run first, it held the suite back by all of it, while the
// suite's first minute (the fast tier) leaves part of the 2-core machine idle.
// Arguments go to vitest (`npm test -- test/routes`).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
// vitest's package exports no path to its command; its directory is found through its package.json.
const vitest = join(require.resolve('vitest/package.json'), '..', 'vitest.mjs');

const run = (args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

const [typecheck, uiTypecheck, suite] = await Promise.all([
  run([tsc, '-p', 'tsconfig.json', '--noEmit']),
  run([tsc, '-p', 'tsconfig.ui.json']),
  run([vitest, 'run', ...process.argv.slice(2)]),
]);
if (typecheck !== 0) console.error(`npm test: the typecheck failed (tsc exit ${typecheck})`);
if (uiTypecheck !== 0) console.error(`npm test: the UI typecheck failed (tsc -p tsconfig.ui.json exit ${uiTypecheck})`);
process.exit(typecheck || uiTypecheck || suite);
