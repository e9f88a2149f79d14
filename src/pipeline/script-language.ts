// The language of a text, from the script most of its letters are written in: what the
// low-confidence OCR line names (`lang=zh`) when the client did not say. Scripts, not
// languages: Latin letters are reported as `latin`, since English, French and Vietnamese
// cannot be told apart by their letters alone. A Han, kana or Hangul character counts as
// three letters: one of them says about as much as a short word does.

const SCRIPTS: Array<[string, RegExp]> = [
  ['ja', /[\u3040-\u30ff]/u], // kana: Japanese even when mixed with kanji
  ['ko', /[\uac00-\ud7af\u1100-\u11ff]/u],
  ['zh', /\p{Script=Han}/u],
  ['ru', /\p{Script=Cyrillic}/u],
  ['ar', /\p{Script=Arabic}/u],
  ['hi', /\p{Script=Devanagari}/u],
  ['th', /\p{Script=Thai}/u],
  ['el', /\p{Script=Greek}/u],
  ['he', /\p{Script=Hebrew}/u],
  ['latin', /\p{Script=Latin}/u],
];

const WIDE = new Set(['zh', 'ja', 'ko']);

/** The dominant script's language code, or null for a text without letters. */
export function detectLanguage(text: string): string | null {
  const counts = new Map<string, number>();
  let kana = 0;
  for (const ch of text) {
    if (/[\u3040-\u30ff]/u.test(ch)) kana++;
    for (const [lang, re] of SCRIPTS) {
      if (re.test(ch)) {
        counts.set(lang, (counts.get(lang) ?? 0) + (WIDE.has(lang) ? 3 : 1));
        break;
      }
    }
  }
  // Japanese text is mostly kanji: any kana marks the Han characters as Japanese.
  const han = counts.get('zh');
  if (kana > 0 && han !== undefined) {
    counts.set('ja', (counts.get('ja') ?? 0) + han);
    counts.delete('zh');
  }
  let best: string | null = null;
  let n = 0;
  for (const [lang, c] of counts) if (c > n) [best, n] = [lang, c];
  return best;
}
