// CONTRIBUTING's layer table, kept: every relative import of every file under src/ goes
// downward (to a layer its own may import, or to one of the small helpers at the top that
// every layer may use), and nothing but the plugins and the app factory imports routes/.
// A new import that breaks the table fails here, naming the file and what it imported.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

/** Helpers at the top of src/ every layer may import: errors, validation, units, persistence… */
const SHARED = new Set([
  'alert-summary.ts',
  'browser-shared.ts',
  'config.ts',
  'deadline.ts',
  'delta-fields.ts',
  'duration.ts',
  'errors.ts',
  'gone-signal.ts',
  'invariant.ts',
  'json-file.ts',
  'read-limited.ts',
  'reason-schema.ts',
  'reasons.ts',
  'units.ts',
  'validation.ts',
  'value-format.ts',
  'value-range.ts',
]);

/** Each layer (a folder of src/) and what it may import besides itself and SHARED (CONTRIBUTING.md "Layout"). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  probes: [],
  metrics: ['probes'],
  log: [],
  upstream: [],
  security: ['log', 'auth.ts'],
  pipeline: ['metrics', 'log'],
  // GPU names only: how a GPU is called in a notice is the probe's word for it.
  alerts: ['metrics', 'log', 'probes/gpu-label.ts'],
  routes: [
    'alerts',
    'log',
    'metrics',
    'pipeline',
    'probes',
    'security',
    'upstream',
    'auth.ts',
    'monitor.ts',
    'route-schema.ts',
    'stream-hub.ts',
  ],
  plugins: ['alerts', 'log', 'pipeline', 'routes', 'security', 'upstream', 'auth.ts', 'monitor.ts'],
};
/** Top-level files that may import routes/ (the app factory and the error handler, for a type or a helper). */
const ROUTES_IMPORTED_BY = new Set(['app.ts', 'app-parts.ts', 'error-handler.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `file`'s relative imports (value and type), as paths under src/ ending in .ts. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.[^']+)'/g)].map((m) =>
    relative(SRC, join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  );
}

describe('layers', () => {
  it('imports go downward only, as CONTRIBUTING.md says', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const own = relative(SRC, file);
      const layer = own.includes('/') ? own.split('/')[0]! : null;
      for (const target of importsOf(file)) {
        const targetLayer = target.includes('/') ? target.split('/')[0]! : null;
        if (targetLayer === 'routes' && layer !== 'routes' && layer !== 'plugins' && !ROUTES_IMPORTED_BY.has(own)) {
          wrong.push(`${own} imports ${target}: only plugins/ and the app factory import routes/`);
          continue;
        }
        const allowed = layer ? MAY_IMPORT[layer] : undefined;
        if (!allowed || targetLayer === layer || SHARED.has(target)) continue;
        if (allowed.includes(targetLayer ?? target) || allowed.includes(target)) continue;
        wrong.push(
          `${own} imports ${target}: ${layer}/ may import ${allowed.join(', ') || 'nothing but the shared helpers'}`,
        );
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import cycle of values between source files', () => {
    // Type-only imports vanish when compiled; a cycle of values decides what is undefined
    // while the modules load (event-log.ts and log-search.ts were one).
    const values = (file: string) =>
      [...readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*? from '(\.[^']+)'/gms)].map((m) =>
        join(dirname(file), m[1]!).replace(/\.js$/, '.ts'),
      );
    const graph = new Map(sourceFiles(SRC).map((f) => [f, values(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('knows every layer the source has (a new folder gets a row)', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    // demo/ is the simulated world `npm run demo` plays: it may use anything, nothing uses it.
    expect(folders.filter((f) => f !== 'demo' && !(f in MAY_IMPORT))).toEqual([]);
  });
});
