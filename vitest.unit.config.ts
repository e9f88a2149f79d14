import { defineConfig } from 'vitest/config';
import { browserShared, fastTier } from './vitest.config.js';

// The fast tier (`npm run test:unit`): every test that needs no browser, no external
// program and no build (vitest.config.ts lists the others). No global setup, so one file
// runs in seconds: `npx vitest run --config vitest.unit.config.ts test/alerts/why.test.ts`.
// `npm test` runs both tiers; CI runs that.
export default defineConfig({ resolve: browserShared, test: fastTier });
