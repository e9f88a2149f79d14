// The Node versions `engines` names are true: every package `npm ci` installs from the
// lockfile runs on the oldest Node the project claims (npm ci would print EBADENGINE for
// one that does not: cookie@2, content-disposition@3 and openai@7 wanted Node 22) and on
// the Node running the tests.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

describe('engines', () => {
  it('every locked package runs on the oldest Node we name, and on this one', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
    const refused: string[] = [];
    for (const [path, p] of Object.entries(lock.packages)) {
      const range = p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined;
      if (!path || !range) continue;
      for (const v of [oldest, process.version])
        if (!semver.satisfies(v, range, { includePrerelease: true }))
          refused.push(`${path.replace(/^.*node_modules\//, '')}@${p.version} wants node ${range}, not ${v}`);
    }
    expect(refused).toEqual([]);
  });
});
