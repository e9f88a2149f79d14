// Once per run of the whole tier: one Chromium for every test file that drives one. Files
// connect to it (test/ui/browser.ts `launch`) instead of starting their own: a start costs
// a second or two of both cores, 30 times a run. Each file still works in contexts of its
// own, closed with its connection.
import { chromium } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import { CHROMIUM, CHROMIUM_ARGS } from './ui/chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    chromiumEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  project.provide('chromiumEndpoint', server.wsEndpoint());
  return () => server.close();
}
