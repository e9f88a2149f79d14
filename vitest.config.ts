import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers on ephemeral ports; keep them in separate workers.
    pool: 'forks',
    testTimeout: 20_000,
  },
});
