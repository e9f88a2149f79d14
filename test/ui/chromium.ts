// Which Chromium the tests drive, and how it is started (Debian's package).
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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
