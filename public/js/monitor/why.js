// "Why": what changed with an alert, as the server worked it out (src/alerts/why.ts), in the
// page's language. A fold under a firing alert and in its notice: closed, it says the most
// telling line; open, the first three, and a click on a log event searches the log for it.
// The order is the server's (`why.order`, src/alerts/why.ts): the top change, where it is
// concentrated, the log event that started with it, then the rest.
import { h } from '../dom.js';
import { fmtPercent, fmtValue } from '../format.js';
import { t } from '../i18n.js';

/** Lines shown when the fold opens; the rest behind "N more". */
const SHOWN = 3;

/** @typedef {import('../types.js').Why} Why */
/** @typedef {import('../types.js').WhyItem} WhyItem */
/** @typedef {(metric: string) => string | undefined} UnitOf */
/** @typedef {{ open: boolean, all: boolean }} FoldState */

/**
 * The lines in the server's order, each `{ kind, change | share | event }`.
 * @param {Why} why
 * @returns {WhyItem[]}
 */
export function whyItems(why) {
  return (why.order ?? []).flatMap(
    /** @returns {WhyItem[]} */ ({ kind, index }) => {
      if (kind === 'change') {
        const change = why.changes?.[index];
        return change ? [{ kind, change }] : [];
      }
      if (kind === 'share') {
        const share = why.concentration?.[index];
        return share ? [{ kind, share }] : [];
      }
      if (kind === 'event') {
        const event = why.events?.[index];
        return event ? [{ kind, event }] : [];
      }
      return [];
    },
  );
}

/** @param {Record<string, string> | undefined} labels */
const where = (labels) => {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? ` ${pairs.join(' ')}` : '';
};

/**
 * A sentence of the page's language with records in it: metric names, label values,
 * clients, modules and log events stay as the server and the log write them, each in an
 * element of its own (as the log and the rule list show them).
 * @param {string} key
 * @param {Record<string, unknown>} vars
 * @param {Record<string, string>} records
 * @returns {(string | HTMLElement)[]}
 */
function sentence(key, vars, records) {
  /** @type {(string | HTMLElement)[]} */
  const out = [];
  const template = t(key);
  let at = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    if (m.index > at) out.push(template.slice(at, m.index));
    const value = String(vars[m[1]] ?? '');
    out.push(records[m[1]] ? h('span', { class: records[m[1]], text: value }) : value);
    at = m.index + m[0].length;
  }
  if (at < template.length) out.push(template.slice(at));
  return out;
}

/**
 * One line's words and records; `units`: metric name → catalogue unit.
 * @param {WhyItem} item
 * @param {UnitOf} units
 */
export function whyParts(item, units) {
  if (item.kind === 'change') {
    const c = item.change;
    const unit = units(c.metric);
    return sentence(
      'why.change',
      { metric: c.metric, where: where(c.labels), now: fmtValue(c.now, unit), normal: fmtValue(c.normal, unit) },
      { metric: 'metric-name', where: 'metric-name' },
    );
  }
  if (item.kind === 'share') {
    const s = item.share;
    /** @type {Record<string, string>} */
    const keys = { client: 'why.share', imageSize: 'why.shareImage', clientInputTokens: 'why.shareTokens' };
    const key = keys[s.dimension];
    return sentence(
      key ?? 'why.shareSeries',
      {
        client: s.value,
        size: s.value,
        value: s.value,
        dimension: t(`why.dimension.${s.dimension}`),
        module: s.module,
        metric: s.metric,
        now: fmtPercent(Math.round(s.shareNow * 100)),
        normal: s.shareNormal === null ? t('why.noneNormally') : fmtPercent(Math.round(s.shareNormal * 100)),
      },
      { client: 'metric-name', module: 'metric-name', value: 'metric-name', metric: 'metric-name' },
    );
  }
  const e = item.event;
  return sentence(
    'why.event',
    { level: e.level, module: e.module, message: e.message, n: e.countNow, normal: Math.round(e.countNormal) },
    { level: 'log-record', module: 'log-record', message: 'log-record' },
  );
}

/**
 * The fold for one alert's `why`, or null when there is none yet; `compact` (the firing list,
 * one line per alert) says only "Why" while closed. `onSearch(text)` runs a
 * log search (a log event's line is a link to its lines). `state` ({ open, all }) is the
 * caller's, kept across re-renders: the list is rebuilt at every check, and a fold the
 * operator opened must stay open while they read it.
 * @param {Why | undefined} why
 * @param {UnitOf} units
 * @param {((text: string) => void) | null} onSearch
 * @param {FoldState} [state]
 * @param {boolean} [compact]
 */
export function whyFold(why, units, onSearch, state = { open: false, all: false }, compact = false) {
  if (!why) return null;
  const items = whyItems(why);
  if (!items.length) return h('div', { class: 'why muted' }, h('span', { class: 'why-none', text: t('why.none') }));
  /** @param {WhyItem} item */
  const line = (item) => {
    const parts = whyParts(item, units);
    if (item.kind !== 'event' || !onSearch) return h('li', {}, ...parts);
    const e = item.event;
    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          title: t('why.search'),
          onclick: () => onSearch(`module=${e.module} level=${e.level.toLowerCase()} "${e.message}"`),
        },
        ...parts,
      ),
    );
  };
  const shown = state.all ? items : items.slice(0, SHOWN);
  const list = h('ul', { class: 'why-lines' }, ...shown.map(line));
  const rest = items.slice(shown.length);
  const more = rest.length
    ? h('button', {
        type: 'button',
        class: 'link why-more',
        text: t('why.more', { n: rest.length }),
        onclick: (ev) => {
          state.all = true;
          list.append(...rest.map(line));
          ev.currentTarget.remove();
        },
      })
    : null;
  const fold = h(
    'details',
    { class: 'why' },
    // Closed, the most telling line; open, the lines themselves (the first not said twice).
    h(
      'summary',
      {},
      h('strong', { text: t('why.title') }),
      compact ? null : h('span', { class: 'why-first' }, ' ', ...whyParts(items[0], units)),
    ),
    list,
    more,
  );
  fold.open = state.open;
  // Kept at the click, not only at the toggle event a task later: a re-render in between
  // would draw the fold as it was before the click.
  fold.querySelector('summary')?.addEventListener('click', () => {
    state.open = !fold.open;
  });
  fold.addEventListener('toggle', () => {
    state.open = fold.open;
  });
  return fold;
}
