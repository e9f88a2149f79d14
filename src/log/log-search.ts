// The log search language, as operators type it (the tutorial's forms): a level word
// (`WARN`), a module word (`ocr`), `event="Low-confidence OCR"` (one event, its whole
// name: what a click on the search's summary adds), `key=value` on a line's parameters
// (`image_hash=ab3f`, matching imageHash and imageHashes too), and free text, every part
// required. `"quoted words"` are free text even when they name a level or a module;
// `3264×2448` reads as the log writes it, `3264x2448`.
// Pure: parse once, then match each line. The browser runs this very module for the lines
// that arrive live (compiled, served at /js/shared/log-search.js by plugins/ui.ts): it
// imports nothing but log-format.ts, and types.
import type { Level } from './level.js';
import type { LogLine } from './log-line.js';
import { formatLine, formatValue } from './log-format.js';

export interface LogSearch {
  levels: Level[];
  modules: string[];
  /** Whole event names, lower case: a line matches one of them. */
  events: string[];
  params: Array<{ key: string; value: string }>;
  terms: string[];
}

const LEVEL_WORDS: Record<string, Level> = { info: 'INFO', warn: 'WARN', warning: 'WARN', error: 'ERROR' };

/** image_hash, imageHash and image-hash are one key. */
export const normalizeKey = (k: string) => k.toLowerCase().replace(/[_-]/g, '');

/** `3264×2448` as typed or pasted from a page is `3264x2448` as the log writes it. */
const asLogWrites = (text: string) => text.replace(/(\d)\s*×\s*(\d)/g, '$1x$2');

/**
 * The search clause that picks one event (what a click on the summary adds), or null for
 * a name the language cannot quote (one with a double quote in it).
 */
export const eventFilter = (event: string): string | null => (event.includes('"') ? null : `event="${event}"`);

function tokens(text: string): Array<{ text: string; quoted: boolean }> {
  const out: Array<{ text: string; quoted: boolean }> = [];
  const re = /(\S+?=)"([^"]*)"?|"([^"]*)"?|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) out.push({ text: `${m[1]}${m[2]}`, quoted: false });
    else if (m[3] !== undefined) out.push({ text: m[3], quoted: true });
    else if (m[4] !== undefined) out.push({ text: m[4], quoted: false });
  }
  return out;
}

/**
 * `modules`: the words that filter on a module (the log's modules, LOG_MODULES; the browser
 * has them from the catalogue); `chat` is the vlm module's; any other word is free text.
 */
export function parseLogSearch(text: string, modules: readonly string[]): LogSearch {
  const s: LogSearch = { levels: [], modules: [], events: [], params: [], terms: [] };
  for (const tok of tokens(asLogWrites(text.trim()))) {
    if (tok.text === '') continue;
    if (tok.quoted) {
      s.terms.push(tok.text.toLowerCase());
      continue;
    }
    const eq = tok.text.indexOf('=');
    if (eq > 0) {
      const key = normalizeKey(tok.text.slice(0, eq));
      const value = tok.text.slice(eq + 1).toLowerCase();
      if (key === 'level' && LEVEL_WORDS[value]) s.levels.push(LEVEL_WORDS[value]);
      else if (key === 'module') s.modules.push(value);
      else if (key === 'event') s.events.push(value);
      else s.params.push({ key, value });
      continue;
    }
    const lower = tok.text.toLowerCase();
    const level = LEVEL_WORDS[lower];
    if (level) s.levels.push(level);
    else if (lower === 'chat' || modules.includes(lower)) s.modules.push(lower === 'chat' ? 'vlm' : lower);
    else s.terms.push(lower);
  }
  return s;
}

export const isEmptySearch = (s: LogSearch) =>
  !s.levels.length && !s.modules.length && !s.events.length && !s.params.length && !s.terms.length;

/** Whether a parameter of the line matches key=value (value: a case-insensitive part). */
function paramMatches(line: LogLine, key: string, value: string): boolean {
  for (const [k, v] of Object.entries(line.params)) {
    const nk = normalizeKey(k);
    if ((nk === key || nk.startsWith(key)) && formatValue(v).toLowerCase().includes(value)) return true;
    // Nested label sets ({"gpu":"0"}) answer for their own keys.
    if (typeof v === 'string' && v.startsWith('{') && formatValue(v).toLowerCase().includes(`${key}=${value}`))
      return true;
  }
  return false;
}

export function matchesSearch(line: LogLine, s: LogSearch): boolean {
  if (s.levels.length && !s.levels.includes(line.level)) return false;
  if (s.modules.length && !s.modules.includes(line.module)) return false;
  if (s.events.length && !s.events.includes(line.event.toLowerCase())) return false;
  for (const p of s.params) if (!paramMatches(line, p.key, p.value)) return false;
  if (s.terms.length) {
    const text = formatLine(line).toLowerCase();
    for (const t of s.terms) if (!text.includes(t)) return false;
  }
  return true;
}
