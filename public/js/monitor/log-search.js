// The log search language in the browser, for lines that arrive live while a search is
// shown: the same rules as the server's (src/log/log-search.ts), kept equal by a test.
// The module words are the server's: the catalogue's log modules, passed in.
import { formatLine, formatValue } from './log-format.js';

const LEVEL_WORDS = { info: 'INFO', warn: 'WARN', warning: 'WARN', error: 'ERROR' };
export const normalizeKey = (k) => k.toLowerCase().replace(/[_-]/g, '');
const asLogWrites = (text) => text.replace(/(\d)\s*×\s*(\d)/g, '$1x$2');

function tokens(text) {
  const out = [];
  const re = /(\S+?=)"([^"]*)"?|"([^"]*)"?|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) out.push({ text: `${m[1]}${m[2]}`, quoted: false });
    else if (m[3] !== undefined) out.push({ text: m[3], quoted: true });
    else out.push({ text: m[4], quoted: false });
  }
  return out;
}

/** modules: the log modules a bare word filters on (the catalogue's `log.modules`); `chat` is vlm's. */
export function parseLogSearch(text, modules) {
  const s = { levels: [], modules: [], events: [], params: [], terms: [] };
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

export const isEmptySearch = (s) =>
  !s.levels.length && !s.modules.length && !s.events.length && !s.params.length && !s.terms.length;

function paramMatches(line, key, value) {
  for (const [k, v] of Object.entries(line.params)) {
    const nk = normalizeKey(k);
    if ((nk === key || nk.startsWith(key)) && formatValue(v).toLowerCase().includes(value)) return true;
    if (typeof v === 'string' && v.startsWith('{') && formatValue(v).toLowerCase().includes(`${key}=${value}`))
      return true;
  }
  return false;
}

export function matchesSearch(line, s) {
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
