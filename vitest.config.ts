import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** What every tier runs with; vitest.unit.config.ts is the fast tier. */
export const shared = {
  include: ['test/**/*.test.ts'],
  // Tests start real servers on ephemeral ports; keep them in separate workers.
  pool: 'forks',
  // Two at once even on a 2-core machine: most files wait on sockets, Chromium or
  // Prometheus, and the suite takes about 4 minutes instead of 6 there.
  maxWorkers: 2,
  testTimeout: 20_000,
  // Every answer of every server the suite starts is held to the API description (route-schema.ts).
  env: { CHECK_ANSWERS: 'true' },
} satisfies ViteUserConfig['test'];

export default defineConfig({
  test: {
    ...shared,
    // Builds dist/ once when it is older than src/ (the child-process tests run it).
    globalSetup: ['test/global-setup.ts'],
  },
});
