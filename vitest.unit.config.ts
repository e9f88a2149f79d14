import { defineConfig } from 'vitest/config';
import { shared } from './vitest.config.js';

// The fast tier (`npm run test:unit`): every test that needs no browser, no external
// program (Prometheus, Alertmanager, promtool, the C compiler that builds the fake NVML)
// and no build (the child-process tests run dist/). No global setup, so one file runs in
// seconds: `npx vitest run --config vitest.unit.config.ts test/alerts/why.test.ts`.
// `npm test` stays the whole suite; CI runs that.
export default defineConfig({
  test: {
    ...shared,
    // Files share their worker's module cache: imports cost 9 s instead of 58 here, and the
    // tier runs in about a minute on 2 cores. Every file also passes isolated (`npm test`).
    isolate: false,
    exclude: [
      'node_modules/**',
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
    ],
  },
});
