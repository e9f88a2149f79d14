// `npm test`: the server's typecheck and the whole suite side by side, failing if either
// fails. (The browser UI's JSDoc typecheck, tsconfig.ui.json, is in `npm run lint`, which
// CI runs first: a third program beside the suite pushed a run on 2 cores to 6 minutes.)
// The typecheck takes ~20 s of one core; run first, it held the suite back by all of it,
// while the suite's first minute (the fast tier) leaves part of the 2-core machine idle.
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

const [typecheck, suite] = await Promise.all([
  run([tsc, '-p', 'tsconfig.json', '--noEmit']),
  run([vitest, 'run', ...process.argv.slice(2)]),
]);
if (typecheck !== 0) console.error(`npm test: the typecheck failed (tsc exit ${typecheck})`);
process.exit(typecheck || suite);
