// Which Chromium the tests drive, and how it is started: Debian's headless shell
// (package chromium-headless-shell), the same Chromium build without the browser's
// windowing and services, which Playwright itself uses for headless runs. Its pages render
// with the same Blink, fonts and layout; a page costs it about a third of the CPU that the
// full browser's headless mode spends (the UI tests: 425 → 144 core-seconds of Chromium,
// 292 → 135 s on 2 cores). Debian's full `chromium` is the fallback where the shell is not
// installed; CHROMIUM_PATH names another.
import { existsSync } from 'node:fs';

const SHELL = '/usr/bin/chromium-headless-shell';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? (existsSync(SHELL) ? SHELL : '/usr/bin/chromium');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
  // Other sites' names for this machine: a server's own host name (docs-page.test.ts) and
  // an attacker's site (cross-site.test.ts).
  '--host-resolver-rules=MAP docs.test 127.0.0.1, MAP attacker.test 127.0.0.1',
];
