// The log search's answer by event, as the server counted it over every match in the ring
// (src/log/log-summary.ts): one button per event, failures first, each narrowing the
// search to it (`event="…"` added) or, when it is the event searched for, widening back.
import { fmtNumber, h } from '../dom.js';
import { currentLang, t } from '../i18n.js';

/** @typedef {import('../types.js').LogSummary} LogSummary */
/** @typedef {import('../types.js').LogLine} LogLine */

/** @type {Record<string, Intl.PluralRules>} */
const RULES = {};
/**
 * `key.one` or `key.other` for n in the page's language.
 * @param {string} key
 * @param {number} n
 * @param {Record<string, unknown>} [vars]
 */
export function plural(key, n, vars) {
  RULES[currentLang()] ??= new Intl.PluralRules(currentLang());
  return t(`${key}.${RULES[currentLang()].select(n)}`, vars);
}

const SEVERITY = { INFO: 0, WARN: 1, ERROR: 2 };

/**
 * A line that matched the search arrived live after the answer: counted where the server
 * would have counted it, so the summary still adds up to the lines matched. A new event is
 * named while the server named every event (nothing in "other"), else it joins "other".
 * @param {LogSummary} summary
 * @param {LogLine} line
 */
export function countLive(summary, line) {
  const e = summary.events.find((x) => x.event === line.event);
  if (e) {
    e.count++;
    if (SEVERITY[line.level] > SEVERITY[e.level]) e.level = line.level;
  } else if (summary.other.events === 0) {
    const filter = line.event.includes('"') ? null : `event="${line.event}"`;
    summary.events.push({ event: line.event, level: line.level, count: 1, filter });
  } else {
    // Whether the event was already among "other" is not known here: at least one event is.
    summary.other.count++;
    summary.other.events ||= 1;
  }
}

/**
 * The search with an event's clause added.
 * @param {string} q
 * @param {string | null} filter
 */
export const withEvent = (q, filter) => `${q.trim()} ${filter}`.trim();

/**
 * The search without the clause naming this event (however it was typed).
 * @param {string} q
 * @param {string} event
 */
export function withoutEvent(q, event) {
  const kept = q.replace(
    /(^|\s)event=("[^"]*"?|\S+)/gi,
    (/** @type {string} */ m, /** @type {string} */ _space, /** @type {string} */ v) =>
      v.replace(/^"|"$/g, '').toLowerCase() === event.toLowerCase() ? '' : m,
  );
  return kept.replace(/\s+/g, ' ').trim();
}

/**
 * The summary's contents. `searched`: the event names the search narrows to (lower case);
 * `onPick(nextSearchText)` runs the search a click asks for; `q` is the search now.
 * @param {LogSummary} summary
 * @param {string[]} searched
 * @param {string} q
 * @param {(q: string) => void} onPick
 */
export function summaryItems(summary, searched, q, onPick) {
  /** @type {HTMLElement[]} */
  const items = summary.events.map((e) => {
    const active = searched.includes(e.event.toLowerCase());
    return h(
      'button',
      {
        type: 'button',
        class: `log-event ${e.level}${active ? ' active' : ''}`,
        dataset: { event: e.event },
        'aria-pressed': String(active),
        title: active ? t('log.summary.widen') : t('log.summary.narrow', { filter: e.filter ?? '' }),
        disabled: !e.filter,
        onclick: () => onPick(active ? withoutEvent(q, e.event) : withEvent(q, e.filter)),
      },
      // The event's name is the log's own word, as the lines and the search write it.
      h('code', { class: 'event', text: e.event }),
      ' ',
      h('span', { class: 'count', text: fmtNumber(e.count, 0) }),
    );
  });
  if (summary.other.count > 0)
    items.push(
      h(
        'span',
        {
          class: 'log-event other',
          title: plural('log.summary.otherTitle', summary.other.events, { n: summary.other.events }),
        },
        `${t('log.summary.other')} `,
        h('span', { class: 'count', text: fmtNumber(summary.other.count, 0) }),
      ),
    );
  return [h('span', { class: 'muted', text: t('log.summary') }), ...items];
}
