import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { BROWSER_SHARED, sharedName } from './src/browser-shared.js';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

/**
 * The server's modules the browser loads from /js/shared/ (src/browser-shared.ts lists them;
 * src/plugins/ui.ts serves them compiled): a test that imports public/js/ in Node finds them
 * in src/, as tsconfig.ui.json's rootDirs do.
 */
export const browserShared = {
  alias: BROWSER_SHARED.map((m) => ({
    find: new RegExp(`^(?:\\.\\.?/)+shared/${sharedName(m)}\\.js$`),
    replacement: src(`${m}.ts`),
  })),
} satisfies ViteUserConfig['resolve'];

/** What every tier runs with. */
export const shared = {
  include: ['test/**/*.test.ts'],
  // Tests start real servers on ephemeral ports; keep them in separate workers.
  pool: 'forks',
  // Two at once even on a 2-core machine: most files wait on sockets, Chromium or
  // Prometheus.
  maxWorkers: 2,
  testTimeout: 20_000,
  // Every answer of every server the suite starts is held to the API description (route-schema.ts).
  env: { CHECK_ANSWERS: 'true' },
} satisfies ViteUserConfig['test'];

/**
 * The files of the whole tier: a browser, an external program (Prometheus, Alertmanager,
 * promtool, the C compiler that builds the fake NVML), or dist/ (the child-process tests
 * run the built server). Everything else is the fast tier.
 */
export const WHOLE_ONLY = [
  'test/ui/**',
  'test/prometheus/**',
  'test/deploy/**',
  'test/server.test.ts',
  'test/faults/shutdown.test.ts',
  'test/faults/state-writes.test.ts',
  'test/alerts/real-alertmanager.test.ts',
  'test/probes/gpu-poller.test.ts',
  'test/probes/monitor-resources.test.ts',
  'test/routes/openapi.test.ts',
  'test/routes/upstream-failures.test.ts',
  'test/security/docs-page.test.ts',
  'test/security/cross-site.test.ts',
];

/**
 * The fast tier's files share their worker's module cache (`isolate: false`): their imports
 * cost 9 s instead of 58 on 2 cores. Every file also passes isolated.
 */
export const fastTier = {
  ...shared,
  name: 'fast',
  isolate: false,
  exclude: ['node_modules/**', ...WHOLE_ONLY],
} satisfies ViteUserConfig['test'];

// `npm test`: both tiers in one run, one pool of two workers.
export default defineConfig({
  test: {
    ...shared,
    projects: [
      { resolve: browserShared, test: fastTier },
      {
        resolve: browserShared,
        test: {
          ...shared,
          name: 'whole',
          // Shared module caches here too: the whole tier's imports were 108 s of the 2-core
          // machine's time, a file's start 3–6 s; 22 s and none (the run: 450 → 357 s).
          isolate: false,
          include: WHOLE_ONLY.map((p) => (p.endsWith('/**') ? `${p}/*.test.ts` : p)),
          // Builds dist/ once when it is older than src/ (the child-process tests run it),
          // and starts the one Chromium the browser tests connect to.
          globalSetup: ['test/global-setup.ts', 'test/browser-setup.ts'],
        },
      },
    ],
  },
});
