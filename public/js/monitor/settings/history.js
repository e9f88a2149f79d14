// Settings → History: state changes, delivery attempts and silenced notices, newest
// first, each with its rule, what happened and the detail (a value or the receiver's
// answer; a notice not sent to a channel that is not set up, with its rule).
import { h } from '../../dom.js';
import { fmtDateTime, fmtValue } from '../../format.js';
import { ruleName, t, tValue } from '../../i18n.js';
import { channelLabel } from './channels.js';

/** The entry's detail: in the page's language where it has a code, else as the server or receiver said it. */
const detail = (e) => {
  if (e.code === 'CHANNEL_NOT_SET_UP') return t('history.channelNotSetUp', { c: e.channel });
  return e.detail ?? (e.value === null || e.value === undefined ? '' : fmtValue(e.value));
};

export function historyPanel({ history, rules }) {
  const names = new Map(rules.map((r) => [r.id, ruleName(r.id, r.name)]));
  const head = ['history.when', 'history.kind', 'history.rule', 'history.what', 'history.detail'].map((k) => t(k));
  const what = (e) => {
    if (e.kind === 'delivery')
      return `${channelLabel(e.channel)} #${e.attempt} ${t(e.ok ? 'history.sent' : 'history.failed')}`;
    if (e.kind === 'silenced') return t('history.silenced');
    return `${tValue('state', e.from)} → ${tValue('state', e.to)}`;
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
        h('td', { 'data-label': head[2], text: e.ruleId ? (names.get(e.ruleId) ?? e.ruleId) : '—' }),
        h('td', { 'data-label': head[3], text: what(e) }),
        h('td', { 'data-label': head[4], text: detail(e) }),
      ),
    ),
  );
}
