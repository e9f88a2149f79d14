// Settings → History: state changes, delivery attempts and silenced notices, newest
// first, each with its rule, what happened and the detail (a value or the receiver's
// answer; a notice not sent to a channel that is not set up, with its rule).
import { h } from '../../dom.js';
import { fmtBeside, fmtDateTime, fmtWithSecond } from '../../format.js';
import { ruleUnit } from '../../shared/alert-summary.js';
import { reasonText, ruleName, t, tValue } from '../../i18n.js';
import { channelLabel } from './channels.js';

/** @typedef {import('../../types.js').HistoryEntry} HistoryEntry */

/**
 * @param {{
 *   history: HistoryEntry[],
 *   rules: import('../../types.js').RuleAnswer[],
 *   catalogue: import('../../types.js').Catalogue,
 * }} lists
 */
export function historyPanel({ history, rules, catalogue }) {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const units = new Map(catalogue.metrics.map((m) => [m.name, m.unit]));
  /** @param {string} id */
  const name = (id) => {
    const r = byId.get(id);
    return r ? ruleName(r.id, r.name) : ruleName(id, id);
  };
  // A value in its rule's unit ("9.23 s", "2,756 tokens"); a surge rule's value is its change in %.
  /** @param {HistoryEntry} e */
  const valueText = (e) => {
    const r = e.ruleId === undefined ? undefined : byId.get(e.ruleId);
    const first = fmtBeside(e.value, r?.threshold, r && ruleUnit(units.get(r.metric), r.surgeBaseline));
    // An AND rule's change: the second condition's value beside the first's, as its notice gives them.
    return fmtWithSecond(first, r?.and, e.andValue, (m) => units.get(m));
  };
  /** The entry's detail: in the page's language where it has a code, else as the server or receiver said it. */
  /** @param {HistoryEntry} e */
  const detail = (e) => {
    if (e.code === 'CHANNEL_NOT_SET_UP') return t('history.channelNotSetUp', { c: e.channel });
    // A plain "sent" says nothing the Change column does not; a receiver's own answer stays as it came.
    if (e.kind === 'delivery' && e.ok && e.detail === 'sent') return '';
    if (e.detailParts) return reasonText({ reasonParts: e.detailParts });
    if (e.detail) return e.detail;
    if (e.value !== null && e.value !== undefined) return valueText(e);
    // A resolve without a value is one whose series went quiet: its notice said "back to no data".
    return resolves(e) ? t('alert.noData') : '';
  };
  /**
   * A firing alert that stopped: "resolved", as its notice, mail and webhook say it (the
   * state it goes back to is inactive).
   * @param {HistoryEntry} e
   */
  const resolves = (e) => e.kind === 'state' && e.from === 'firing' && e.to === 'inactive';
  // A delivery names the rules whose alerts the notice carried.
  /** @param {HistoryEntry} e */
  const rulesOf = (e) => (e.ruleId ? name(e.ruleId) : e.ruleIds?.length ? e.ruleIds.map(name).join(', ') : '—');
  const head = ['history.when', 'history.kind', 'history.rule', 'history.what', 'history.detail'].map((k) => t(k));
  /** @param {HistoryEntry} e */
  const what = (e) => {
    if (e.kind === 'delivery')
      return `${channelLabel(e.channel)} #${e.attempt} ${t(e.ok ? 'history.sent' : 'history.failed')}`;
    if (e.kind === 'silenced') return t('history.silenced');
    return `${tValue('state', e.from)} → ${resolves(e) ? t('state.resolved') : tValue('state', e.to)}`;
  };
  if (history.length === 0) return h('p', { class: 'muted', text: t('history.none') });
  return h(
    'table',
    { id: 'history-table', class: 'stack' },
    h('tr', {}, ...head.map((x) => h('th', { text: x }))),
    ...history.map((e) =>
      h(
        'tr',
        {},
        h('td', { 'data-label': head[0], text: fmtDateTime(e.at) }),
        h('td', { 'data-label': head[1], class: 'nowrap', text: tValue('history.kind', e.kind) }),
        h('td', { 'data-label': head[2], text: rulesOf(e) }),
        h('td', { 'data-label': head[3], text: what(e) }),
        h('td', { 'data-label': head[4], text: detail(e) }),
      ),
    ),
  );
}
