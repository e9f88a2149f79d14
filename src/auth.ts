// Who may see the Monitor. Loopback clients always may (the operator on the box);
// everyone else presents the monitor token as a Bearer header or as the cookie the
// login sets. The token is MONITOR_TOKEN, or one generated at first start and kept in
// DATA_DIR (mode 0600), as Jupyter does.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const COOKIE_NAME = 'qwen3vl_monitor';
const TOKEN_FILE = 'monitor-token';

export interface MonitorToken {
  token: string;
  source: 'env' | 'file' | 'generated';
}

export function loadOrCreateToken(dataDir: string, configured: string | undefined): MonitorToken {
  if (configured) return { token: configured, source: 'env' };
  const file = join(dataDir, TOKEN_FILE);
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, source: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(24).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  // Write then rename: a crash never leaves a half-written token behind.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { token, source: 'generated' };
}

/** The cookie holds a MAC of the token, not the token itself. */
export function cookieValue(token: string): string {
  return createHmac('sha256', token).update('qwen3vl-monitor-cookie-v1').digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface AccessRequest {
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * True when the request may read the Monitor. A loopback peer that carries proxy
 * headers is a reverse proxy speaking for someone else, so it must show the token too.
 */
export function mayAccessMonitor(req: AccessRequest, token: string): boolean {
  const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  if (!proxied && isLoopbackAddress(req.remoteAddress)) return true;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ') && safeEqual(auth.slice(7).trim(), token)) return true;
  const cookie = readCookie(typeof req.headers.cookie === 'string' ? req.headers.cookie : undefined, COOKIE_NAME);
  return cookie !== undefined && safeEqual(cookie, cookieValue(token));
}

/** For the optional API_KEYS guard on model endpoints. */
export function hasApiKey(req: AccessRequest, keys: readonly string[]): boolean {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return false;
  const presented = auth.slice(7).trim();
  return keys.some((k) => safeEqual(presented, k));
}
