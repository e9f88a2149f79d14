// Who may see the Monitor. Loopback clients always may (the operator on the box), unless
// a forwarding header says a proxy speaks for someone else; everyone else presents the
// monitor token as a Bearer header, or the session cookie a login set. The token is
// MONITOR_TOKEN, or one generated at first start and kept in DATA_DIR (mode 0600), as
// Jupyter does.
import { randomBytes, timingSafeEqual } from 'node:crypto';
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

export function safeEqual(a: string, b: string): boolean {
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

type Headers = Record<string, string | string[] | undefined>;

export interface AccessRequest {
  remoteAddress: string | undefined;
  headers: Headers;
}

/**
 * A request relayed by a proxy: any header a proxy or CDN uses to name the client or
 * itself — `Forwarded`, `Via`, every `X-Forwarded-*`, and every `*-IP` header
 * (`X-Real-IP`, `True-Client-IP`, `CF-Connecting-IP`, `Fastly-Client-IP`,
 * `X-Client-IP`, `X-Cluster-Client-IP`, …). From a loopback peer it speaks for someone
 * else, who must show the token. A rule by shape rather than a list, so a CDN's next
 * header name is covered too.
 */
export function isProxied(headers: Headers): boolean {
  for (const name in headers) {
    if (name === 'forwarded' || name === 'via' || name.startsWith('x-forwarded-')) return true;
    if (name.endsWith('-ip') || name.endsWith('-ipv6')) return true;
    if (name === 'x-envoy-external-address' || name === 'x-original-forwarded-for') return true;
  }
  return false;
}

/** The Bearer token a request presents, if any. */
export function bearer(headers: Headers): string | undefined {
  const auth = headers.authorization;
  return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
}

export function sessionCookie(headers: Headers): string | undefined {
  return readCookie(typeof headers.cookie === 'string' ? headers.cookie : undefined, COOKIE_NAME);
}

/** How a request may (or may not) see the Monitor. */
export type Access = 'loopback' | 'session' | 'token' | 'wrong-token' | 'none';

export function monitorAccess(req: AccessRequest, token: string, sessions: { valid(id: string): boolean }): Access {
  if (!isProxied(req.headers) && isLoopbackAddress(req.remoteAddress)) return 'loopback';
  const cookie = sessionCookie(req.headers);
  if (cookie !== undefined && sessions.valid(cookie)) return 'session';
  const presented = bearer(req.headers);
  if (presented === undefined) return 'none';
  return safeEqual(presented, token) ? 'token' : 'wrong-token';
}
