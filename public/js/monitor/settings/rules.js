// Settings → Alert Rules: each rule in words with its severity, channels and state, an
// Enabled switch, Edit and Delete; "+ Add Rule" opens the rule form. A switch the server
// refused flips back, and the refusal is said under the rule's row. A channel the rule
// names that is not set up (deleted since) is marked: nothing is sent there.
import { api } from '../../api.js';
import { h } from '../../dom.js';
import { fmtLine } from '../../format.js';
import { ruleUnit } from '../../shared/alert-summary.js';
import { ruleName, t, tValue } from '../../i18n.js';
import { channelLabel } from './channels.js';
import { act, failureSlot } from './feedback.js';
import { labelsText, RuleForm } from './rule-form.js';

/** @typedef {import('../../types.js').RuleAnswer} RuleAnswer */

/**
 * A rule's condition in words, each value in its own metric's unit as the cards and the
 * alert's summary write it: "latency_ms_p95{endpoint=*} > 5.00 s × 3 AND …".
 * @param {RuleAnswer} r
 * @param {Map<string, string>} units
 */
export function ruleText(r, units) {
  /** @param {{ metric: string, labels?: Record<string, string> }} c */
  const where = (c) => `${c.metric}${labelsText(c.labels) ? `{${labelsText(c.labels)}}` : ''}`;
  /** @param {{ metric: string, labels?: Record<string, string>, op: string, threshold: number }} c */
  const condition = (c) => `${where(c)} ${c.op} ${fmtLine(c.threshold, units.get(c.metric))}`;
  /** @param {{ for?: string, consecutiveChecks?: number }} c */
  const howLong = (c) =>
    c.for
      ? ` ${t('rule.text.for', { d: c.for })}`
      : c.consecutiveChecks && c.consecutiveChecks > 1
        ? ` × ${c.consecutiveChecks}`
        : '';
  let text;
  if (r.perRequest) text = t('rule.text.perRequest', { c: condition(r) });
  // A surge's threshold is a change in %, whatever the metric's unit.
  else if (r.surgeBaseline)
    text =
      t('rule.text.surge', { m: where(r), op: r.op, p: fmtLine(r.threshold, undefined), b: r.surgeBaseline }) +
      howLong(r);
  else if (r.sampleSeconds !== undefined) text = t('rule.text.sample', { c: condition(r), s: r.sampleSeconds });
  else text = `${condition(r)}${howLong(r)}`;
  if (r.and) text += ` ${t('rule.text.and')} ${condition(r.and)}${howLong(r.and)}`;
  const extra = [
    r.recoverThreshold !== undefined
      ? t('rule.text.recover', { v: fmtLine(r.recoverThreshold, ruleUnit(units.get(r.metric), r.surgeBaseline)) })
      : null,
    r.keepFiringFor ? t('rule.text.keep', { d: r.keepFiringFor }) : null,
    r.noData && r.noData !== 'keep' ? t(`rule.text.noData.${r.noData}`) : null,
  ].filter(Boolean);
  const sep = t('rule.text.sep');
  return extra.length ? `${text}${sep}${extra.join(sep)}` : text;
}

/**
 * rules, alerts, channels: from the API; catalogue: GET /api/monitor/catalogue; onChange: after a change.
 * @param {{
 *   rules: RuleAnswer[],
 *   alerts: import('../../types.js').ActiveAlert[],
 *   channels: import('../../types.js').ChannelList,
 *   catalogue: import('../../types.js').Catalogue,
 *   onChange: () => Promise<unknown>,
 * }} lists
 */
export function rulesPanel({ rules, alerts, channels, catalogue, onChange }) {
  const units = new Map(catalogue.metrics.map((m) => [m.name, m.unit]));
  const setUp = new Set(channels.channels.map((c) => c.name));
  /** @param {RuleAnswer} r */
  const channelList = (r) =>
    r.channels.flatMap((c, i) => [
      i ? ', ' : null,
      setUp.has(c)
        ? channelLabel(c)
        : h('span', {
            class: 'missing-channel',
            title: t('channel.missing.title'),
            text: `${c} (${t('channel.notConfigured')})`,
          }),
    ]);
  const form = new RuleForm({
    catalogue,
    channels,
    onSaved: onChange,
    onCancel: () => {
      form.el.hidden = true;
    },
  });
  /** @param {RuleAnswer} r */
  const stateOf = (r) => {
    const own = alerts.filter((a) => a.ruleId === r.id);
    return own.length
      ? own
          .map((a) => `${tValue('state', a.state)}${labelsText(a.labels) ? ` (${labelsText(a.labels)})` : ''}`)
          .join(', ')
      : t('state.inactive');
  };
  /**
   * @param {string} label
   * @param {import('../../dom.js').Props<'td'>} props
   * @param {...import('../../dom.js').Child} children
   */
  const cell = (label, props, ...children) => h('td', { 'data-label': label, ...props }, ...children);
  const head = [
    'rules.name',
    'rules.condition',
    'rules.severity',
    'rules.channels',
    'rules.state',
    'rules.enable',
    '',
  ].map((k) => (k ? t(k) : ''));
  /** @param {RuleAnswer} r */
  const url = (r) => `/api/monitor/alerts/rules/${encodeURIComponent(r.id)}`;
  /** @param {RuleAnswer} r */
  const row = (r) => {
    const tr = h('tr', { dataset: { rule: r.id } });
    const slot = failureSlot((el) => {
      const line = h('tr', { class: 'row-error' }, h('td', { colspan: head.length }, el));
      tr.after(line);
      return line;
    });
    /** @param {Event & { currentTarget: HTMLInputElement }} e */
    const toggle = async (e) => {
      const box = e.currentTarget;
      const enabled = box.checked;
      const { id, ...rest } = r;
      if (await act(box, slot, 'toggleRule', () => api(url(r), { method: 'PUT', body: { ...rest, enabled } })))
        r.enabled = enabled;
      else box.checked = !enabled;
    };
    /** @param {Event & { currentTarget: HTMLButtonElement }} e */
    const remove = async (e) => {
      if (await act(e.currentTarget, slot, 'deleteRule', () => api(url(r), { method: 'DELETE' }))) await onChange();
    };
    tr.append(
      cell(head[0], { text: ruleName(r.id, r.name) }),
      cell(head[1], { class: 'condition', text: ruleText(r, units) }),
      cell(head[2], { class: 'nowrap', text: tValue('severity', r.severity) }),
      cell(head[3], { class: 'channels' }, ...channelList(r)),
      cell(head[4], { class: 'state nowrap', text: stateOf(r) }),
      cell(
        head[5],
        {},
        h('input', { type: 'checkbox', checked: r.enabled, 'aria-label': t('rules.enable'), onchange: toggle }),
      ),
      cell(
        '',
        { class: 'actions' },
        h('button', { type: 'button', class: 'edit', text: t('rules.edit'), onclick: () => form.edit(r) }),
        h('button', { type: 'button', class: 'delete', text: t('rules.delete'), onclick: remove }),
      ),
    );
    return tr;
  };
  const table = h(
    'table',
    { id: 'rules-table', class: 'stack' },
    h('tr', {}, ...head.map((x) => h('th', { text: x }))),
    ...rules.map(row),
  );
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'form-row' },
      h('button', {
        type: 'button',
        id: 'add-rule',
        class: 'primary',
        text: t('rules.add'),
        onclick: () => {
          form.reset();
          form.open();
        },
      }),
      h('span', { class: 'muted small', text: t('rules.count', { n: rules.length }) }),
    ),
    rules.length ? table : h('p', { class: 'muted', text: t('rules.none') }),
    form.el,
  );
}
