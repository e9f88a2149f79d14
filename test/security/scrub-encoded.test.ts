// The secret scrubber catches a secret in the forms an echo trivially takes: percent-
// encoded in any mix and case (the issue's `sk%2DUPSTREAM%2D…`), JSON \u escapes, and
// base64 / base64url at any alignment (`Authorization: Basic …` echoed back). Ordinary
// text, and parts of a secret, are left alone.
import { describe, expect, it } from 'vitest';
import { REDACTED, secretScrubber } from '../../src/log/scrub-secrets.js';

const KEY = 'sk-UPSTREAM-0123456789abcdef';
const PASSWORD = 'pässwörd/+?=0123';
const scrub = secretScrubber([KEY, PASSWORD, undefined, 'short']);

const percentAll = (s: string, lower = false) =>
  [...Buffer.from(s)]
    .map((b) => `%${b.toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()}`)
    .join('');

describe('secretScrubber', () => {
  it.each([
    ['as it is', KEY],
    ['URL-encoded', encodeURIComponent(PASSWORD)],
    ['every character percent-encoded', percentAll(KEY)],
    ['percent-encoded in lower case', percentAll(KEY, true)],
    ['only the dashes encoded (the issue)', KEY.replaceAll('-', '%2D')],
    ['a mix', `sk%2dUPS%54REAM-0123456789ab%63def`],
    ['as JSON \\u escapes', KEY.replaceAll('-', '\\u002D')],
    ['a password with non-ASCII letters, percent-encoded', percentAll(PASSWORD)],
  ])('replaces the secret %s', (_name, form) => {
    const text = `upstream said: invalid key ${form}; check it`;
    expect(scrub(text)).toBe(`upstream said: invalid key ${REDACTED}; check it`);
  });

  it('replaces the secret in base64 and base64url at any alignment', () => {
    for (const prefix of ['', 'B', 'Be', 'Bearer ', 'user:']) {
      for (const encoding of ['base64', 'base64url'] as const) {
        for (const secret of [KEY, PASSWORD]) {
          const encoded = Buffer.from(`${prefix}${secret}`).toString(encoding);
          const out = scrub(`Authorization: Basic ${encoded}`);
          expect(out, `${encoding} of ${prefix}${secret}`).toContain(REDACTED);
          // What is left cannot be decoded back into the secret.
          expect(Buffer.from(out.slice(21), encoding).toString()).not.toContain(secret.slice(0, 6));
        }
      }
    }
  });

  it('leaves ordinary text, parts of a secret and too-short values alone', () => {
    for (const text of [
      'The model server answered 401: invalid API key',
      'sk-UPSTREAM-0123 is only the start of a key',
      'a short word',
      Buffer.from('nothing secret in here at all').toString('base64'),
    ]) {
      expect(scrub(text)).toBe(text);
    }
  });

  it('scrubs a 1 MiB answer in time proportional to its size (a ratio across sizes)', () => {
    const filler = (n: number) => 'abcdefghij%2D\\u00sk-UPSTREAM '.repeat(n);
    const time = (text: string) => {
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        scrub(text);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const small = filler(2_500);
    const large = filler(40_000);
    time(large);
    expect(time(large) / time(small)).toBeLessThan(60);
  });
});
