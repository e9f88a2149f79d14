// Bundles the browser UI (public/js/main.js and everything it imports: our modules, the
// server's modules the browser shares, uPlot) into one file, dist/ui/app.js, with its
// source map. A page in ES modules made 50 requests, 41 of them scripts fetched one import
// level at a time; bundled it makes 10, and a Monitor page costs Chromium a quarter less
// CPU and time to load (docs/BENCHMARKS.md, "The browser UI"). The modules stay in public/
// as written: they are the source, served too for debugging and for tests that import one.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs after tsc: the shared modules are dist/'s compiled ones, listed by dist/browser-shared.js. */
export async function buildUi() {
  const { BROWSER_SHARED, sharedName } = await import(new URL('../dist/browser-shared.js', import.meta.url).href);
  // The page imports them as `…/shared/<name>.js`.
  const shared = new Map(BROWSER_SHARED.map((m) => [sharedName(m), m]));
  await build({
    absWorkingDir: root,
    entryPoints: ['public/js/main.js'],
    outfile: 'dist/ui/app.js',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [
      {
        name: 'served-paths',
        setup(b) {
          b.onResolve({ filter: /(^|\/)shared\/[\w-]+\.js$/ }, (args) => {
            const name = /shared\/([\w-]+)\.js$/.exec(args.path)?.[1] ?? '';
            const module = shared.get(name);
            if (!module)
              return { errors: [{ text: `${args.path} is not a module the browser shares (src/browser-shared.ts)` }] };
            return { path: `${root}dist/${module}.js` };
          });
          b.onResolve({ filter: /^\/vendor\/uplot\// }, () => ({
            path: `${root}node_modules/uplot/dist/uPlot.esm.js`,
          }));
        },
      },
    ],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildUi();
