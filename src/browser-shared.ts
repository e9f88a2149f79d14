// The server's modules the browser loads too, compiled, from /js/shared/<name>.js
// (src/plugins/ui.ts serves them from dist/; vitest.config.ts maps the page's imports of them
// to src/ for tests that run the page's modules in Node). One list for both; each module
// imports nothing but others of this list, so it runs in both.
export const BROWSER_SHARED = [
  'log/log-search',
  'log/log-format',
  'reasons',
  'value-format',
  'value-range',
  'alert-summary',
  'delta-fields',
] as const;

/** The name the page imports a module by: `./shared/<name>.js`. */
export const sharedName = (module: string): string => module.slice(module.lastIndexOf('/') + 1);
