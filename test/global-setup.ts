// Once before every test file: dist/ current, as `npm start` and the child-process tests
// run the built server. One build, so no two test files write dist/ at the same time.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'scripts/ensure-build.mjs')], { cwd: root, stdio: 'inherit' });
}
