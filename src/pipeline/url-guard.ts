// SSRF protection for the URLs clients send (images, screenshots, videos, frames): the
// server fetches them from inside the operator's network, so by default they may reach
// only public addresses: never loopback, private, link-local (cloud metadata at
// 169.254.169.254), unique-local, carrier-grade NAT or other special ranges. Addresses are
// checked after DNS resolution, at connect time (so a name cannot resolve to one address
// for the check and another for the connection), and again for every redirect. Hosts or
// CIDRs in IMAGE_FETCH_ALLOW may be reached anyway.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

export class UrlNotAllowedError extends Error {
  readonly code = 'ERR_URL_NOT_ALLOWED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${host} resolves to ${address}, a ${RANGE_WORDS[range] ?? `${range} (special-purpose)`} address`);
  }
}

const RANGE_WORDS: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local (cloud metadata lives there)',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

export class UrlAllowList {
  private readonly hosts = new Set<string>();
  private readonly cidrs: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];

  /** Entries are host names (`images.internal`), addresses or CIDRs (`10.2.0.0/16`). */
  constructor(entries: readonly string[] = []) {
    for (const e of entries) {
      const entry = e.trim().toLowerCase();
      if (!entry) continue;
      if (entry.includes('/')) this.cidrs.push(ipaddr.parseCIDR(entry));
      else if (ipaddr.isValid(entry))
        this.cidrs.push([ipaddr.parse(entry), ipaddr.parse(entry).kind() === 'ipv4' ? 32 : 128]);
      else this.hosts.add(entry);
    }
  }

  /** Whether a host name was allowed by name: then its addresses are not checked. */
  allowsHost(host: string): boolean {
    return this.hosts.has(host.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  /** Null when the address may be reached, else the range that forbids it. */
  forbiddenRange(address: string): string | null {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.process(address); // IPv4-mapped IPv6 (::ffff:127.0.0.1) becomes IPv4
    } catch {
      return 'unparsable';
    }
    for (const [net, bits] of this.cidrs) if (ip.kind() === net.kind() && ip.match(net, bits)) return null;
    const range = ip.range();
    return range === 'unicast' ? null : range;
  }

  /** Throws UrlNotAllowedError when a URL's literal address (no DNS involved) is forbidden. */
  checkLiteral(url: URL): void {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!ipaddr.isValid(host) || this.allowsHost(host)) return;
    const range = this.forbiddenRange(host);
    if (range) throw new UrlNotAllowedError(host, host, range);
  }

  /**
   * A `lookup` for net.connect (undici passes it through): resolves, then refuses with
   * UrlNotAllowedError when any address the name has is forbidden.
   */
  lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!this.allowsHost(hostname)) {
        for (const a of addresses) {
          const range = this.forbiddenRange(a.address);
          if (range) return callback(new UrlNotAllowedError(hostname, a.address, range), []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
