// Which Host and Origin headers this server answers to: pure functions of the settings,
// so the request hook only asks. A DNS-rebinding page reaches 127.0.0.1 under its own
// name (Host: rebind.attacker.example); a cross-site page sends its own Origin.
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export interface HostRules {
  /** HOST: the bound address (a wildcard binds every interface). */
  bindHost: string;
  /** PUBLIC_URL, how operators reach the server. */
  publicUrl: string | undefined;
  /** ALLOWED_HOSTS: names (".example.com" matches its subdomains), or "*" for any. */
  allowedHosts: readonly string[];
  /** ALLOWED_ORIGINS: scheme://host[:port] of other pages that may change this server. */
  allowedOrigins: readonly string[];
}

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

/** `Example.com.:7860` → `example.com`; `[::1]:7860` → `::1`. */
export function hostName(hostHeader: string): string {
  let h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(1, end) : h.slice(1);
  } else if (h.indexOf(':') === h.lastIndexOf(':')) {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export function hostMatcher(rules: HostRules): (hostHeader: string | undefined) => boolean {
  if (rules.allowedHosts.includes('*')) return () => true;
  const exact = new Set<string>(['localhost']);
  const suffixes: string[] = ['.localhost'];
  const own = hostname().toLowerCase();
  exact.add(own);
  exact.add(own.split('.')[0] ?? own);
  if (!WILDCARD_BINDS.has(rules.bindHost)) exact.add(hostName(rules.bindHost));
  if (rules.publicUrl) exact.add(new URL(rules.publicUrl).hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  for (const h of rules.allowedHosts) {
    const name = h.trim().toLowerCase();
    if (name.startsWith('.')) suffixes.push(name);
    else if (name) exact.add(hostName(name));
  }
  return (hostHeader) => {
    // HTTP/1.0 without Host: nothing a browser sends, so nothing to rebind.
    if (hostHeader === undefined || hostHeader === '') return true;
    const name = hostName(hostHeader);
    // An address typed as digits cannot be a rebinding attack: that needs a name the attacker owns.
    if (isIP(name) !== 0) return true;
    return exact.has(name) || suffixes.some((s) => name.endsWith(s) || name === s.slice(1));
  };
}

/** scheme://host[:port], default ports dropped, as browsers send Origin. */
export function normalOrigin(origin: string): string | null {
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' || u.protocol === 'https:' ? `${u.protocol}//${u.host}` : null;
  } catch {
    return null;
  }
}

export function originMatcher(rules: HostRules): (origin: string, hostHeader: string | undefined) => boolean {
  const listed = new Set<string>();
  const publicOrigin = rules.publicUrl ? normalOrigin(rules.publicUrl) : null;
  if (publicOrigin) listed.add(publicOrigin);
  for (const o of rules.allowedOrigins) {
    const n = normalOrigin(o.trim());
    if (n) listed.add(n);
  }
  return (origin, hostHeader) => {
    const o = normalOrigin(origin);
    if (o === null) return false; // "null" (sandboxed frames, file://) and other schemes
    if (listed.has(o)) return true;
    if (!hostHeader) return false;
    // Same origin: the page came from the host the browser is talking to now (the Host
    // check has already refused names this server does not answer to).
    const scheme = o.slice(0, o.indexOf('//'));
    try {
      return new URL(`${scheme}//${hostHeader}`).host === new URL(o).host;
    } catch {
      return false;
    }
  };
}
