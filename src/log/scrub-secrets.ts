// Configured secrets (UPSTREAM_API_KEY, API_KEYS, the Monitor tokens, a password in
// UPSTREAM_URL) never leave the server inside a message: a model server that echoes the
// key it was sent in its error text must not hand it to every API client. One regular
// expression matches each secret as it is and in the encodings an echo trivially
// produces: any of its characters percent-encoded (`sk%2DUPSTREAM%2D…`, either case of
// hex) or as a `\u` escape (JSON), and the whole of it in base64 or base64url (at any
// alignment, as inside `Basic dXNlcjpwYXNz`). Text without any is returned as it is.

export type Scrub = (text: string) => string;

export const REDACTED = '[redacted]';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `a` or `A` for a hex digit that is a letter; the digit itself otherwise. */
const hexDigit = (d: string) => (/[a-f]/i.test(d) ? `[${d.toLowerCase()}${d.toUpperCase()}]` : d);
const hex = (n: number, width: number) => [...n.toString(16).padStart(width, '0')].map(hexDigit).join('');

/** One character of a secret: itself, its UTF-8 bytes percent-encoded, or its \u escape(s). */
function characterPattern(ch: string): string {
  const percent = [...Buffer.from(ch, 'utf8')].map((b) => `%${hex(b, 2)}`).join('');
  const units = Array.from({ length: ch.length }, (_, i) => `\\\\u${hex(ch.charCodeAt(i), 4)}`).join('');
  return `(?:${escapeRegExp(ch)}|${percent}|${units})`;
}

/**
 * The secret's base64 and base64url wherever it sits in a longer encoded text: for each of
 * the three byte alignments, the characters that depend on the secret's bytes alone.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    if (core.length < 8) continue;
    out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

export function secretScrubber(secrets: Iterable<string | undefined | null>): Scrub {
  const unique = new Set<string>();
  // Very short values would redact ordinary words; config demands far longer tokens.
  for (const s of secrets) if (s && s.length >= 6) unique.add(s);
  if (unique.size === 0) return (text) => text;
  const alternatives: string[] = [];
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...unique].sort((a, b) => b.length - a.length)) {
    alternatives.push([...s].map(characterPattern).join(''));
    for (const form of base64Forms(s)) alternatives.push(escapeRegExp(form));
  }
  const re = new RegExp(alternatives.join('|'), 'g');
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
