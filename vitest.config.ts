import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once when it is older than src/ (the child-process tests run it).
    globalSetup: ['test/global-setup.ts'],
    // Tests start real servers on ephemeral ports; keep them in separate workers.
    pool: 'forks',
    testTimeout: 20_000,
  },
});
