// Configured secrets (UPSTREAM_API_KEY, API_KEYS, the Monitor tokens, a password in
// UPSTREAM_URL) never leave the server inside a message: a model server that echoes the
// key it was sent in its error text must not hand it to every API client. One regular
// expression of the literal secrets (and their URL-encoded forms), longest first; text
// without any is returned as it is.

export type Scrub = (text: string) => string;

export const REDACTED = '[redacted]';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function secretScrubber(secrets: Iterable<string | undefined | null>): Scrub {
  const forms = new Set<string>();
  for (const s of secrets) {
    // Very short values would redact ordinary words; config demands far longer tokens.
    if (!s || s.length < 6) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
  }
  if (forms.size === 0) return (text) => text;
  const re = new RegExp(
    [...forms]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'g',
  );
  return (text) => (text.length === 0 ? text : text.replace(re, REDACTED));
}

/** The password of a URL such as http://user:pass@host/v1, if it has one. */
export function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}
