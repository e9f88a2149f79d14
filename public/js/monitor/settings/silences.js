// Silences in plain words: "Every day 01:50–02:10 Asia/Shanghai · all rules" or "Once,
// 25 Nov 01:50 → 02:10 · rule GPU hot", and a form that asks the same way: daily or once,
// from–to, time zone, and whether it applies to all rules, one rule or one severity
// (the server's severities, from its catalogue).
import { api } from '../../api.js';
import { h, one } from '../../dom.js';
import { fmtDateTime } from '../../format.js';
import { ruleName, t, tValue } from '../../i18n.js';
import { act, failuresIn, showFormError } from './feedback.js';

/** @typedef {import('../../types.js').RuleAnswer} RuleAnswer */
/** @typedef {FormDataEntryValue | undefined} Field */
/**
 * A silence as the API answers it, or as the form has it so far.
 * @typedef {{
 *   kind: string,
 *   matchers?: { ruleId?: Field, severity?: Field, labels?: Record<string, string> },
 *   start?: Field, end?: Field, timeZone?: Field, startsAt?: Field, endsAt?: Field,
 * }} SilenceLike
 */

const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
/** @param {Field} iso */
const when = (iso) => fmtDateTime(new Date(String(iso)).getTime());

/**
 * What a silence does, in a sentence.
 * @param {SilenceLike} s
 * @param {Map<string, RuleAnswer>} rulesById
 */
export function silenceText(s, rulesById) {
  const m = s.matchers ?? {};
  const scope = [
    m.ruleId
      ? t('silence.scope.rule', {
          r: ruleName(String(m.ruleId), rulesById.get(String(m.ruleId))?.name ?? String(m.ruleId)),
        })
      : null,
    m.severity ? t('silence.scope.severity', { s: tValue('severity', m.severity) }) : null,
    m.labels && Object.keys(m.labels).length
      ? Object.entries(m.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')
      : null,
  ].filter(Boolean);
  const period =
    s.kind === 'daily'
      ? t('silence.daily', { from: s.start, to: s.end, tz: s.timeZone })
      : t('silence.once', { from: when(s.startsAt), to: when(s.endsAt) });
  return `${period} · ${scope.length ? scope.join(' · ') : t('silence.scope.all')}`;
}

/**
 * silences, rules: from the API; severities: the catalogue's; onChange: after a change.
 * @param {{
 *   silences: import('../../types.js').Silence[],
 *   rules: RuleAnswer[],
 *   severities: string[],
 *   onChange: () => Promise<unknown>,
 * }} lists
 */
export function silencesPanel({ silences, rules, severities, onChange }) {
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  /** @param {import('../../types.js').Silence} s */
  const item = (s) => {
    const li = h(
      'li',
      { dataset: { silence: s.id } },
      h('span', { class: 'silence-text', text: silenceText(s, rulesById) }),
      s.comment ? h('span', { class: 'muted', text: `“${s.comment}”` }) : null,
    );
    const slot = failuresIn(li);
    li.append(
      h('button', {
        type: 'button',
        class: 'delete',
        text: t('rules.delete'),
        onclick: async (e) => {
          if (
            await act(e.currentTarget, slot, 'deleteSilence', () =>
              api(`/api/monitor/alerts/silences/${encodeURIComponent(s.id)}`, { method: 'DELETE' }),
            )
          )
            await onChange();
        },
      }),
    );
    return li;
  };
  const list = silences.length
    ? h('ul', { class: 'silence-list' }, ...silences.map(item))
    : h('p', { class: 'muted', text: t('silence.none') });

  const start = h('input', { name: 'start', type: 'time', value: '01:50', required: true });
  const end = h('input', { name: 'end', type: 'time', value: '02:10', required: true });
  const kind = h(
    'select',
    { name: 'kind' },
    h('option', { value: 'daily', text: t('silence.kind.daily') }),
    h('option', { value: 'once', text: t('silence.kind.once') }),
  );
  const scope = h(
    'select',
    { name: 'scope' },
    ...['all', 'rule', 'severity'].map((v) => h('option', { value: v, text: t(`silence.scope.pick.${v}`) })),
  );
  const rule = h(
    'select',
    { name: 'ruleId' },
    ...rules.map((r) => h('option', { value: r.id, text: ruleName(r.id, r.name) })),
  );
  const severity = h(
    'select',
    { name: 'severity' },
    ...severities.map((s) => h('option', { value: s, text: tValue('severity', s) })),
  );
  const ruleField = h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('silence.rule') }), rule);
  const sevField = h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label', text: t('rules.severity') }),
    severity,
  );
  const zone = h('input', { name: 'timeZone', value: localZone() });
  const zoneField = h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label', text: t('silence.tz') }),
    zone,
    h('small', { class: 'help', text: t('silence.tz.help') }),
  );
  const preview = h('p', { class: 'silence-preview' });

  const form = h(
    'form',
    { id: 'silence-form' },
    h('h3', { text: t('silences.add') }),
    h(
      'div',
      { class: 'form-row' },
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('silence.kind') }), kind),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('silence.from') }), start),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('silence.to') }), end),
      zoneField,
    ),
    h(
      'div',
      { class: 'form-row' },
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('silence.scope') }), scope),
      ruleField,
      sevField,
      h(
        'label',
        { class: 'field' },
        h('span', { class: 'field-label', text: t('silence.comment') }),
        h('input', { name: 'comment', maxlength: 500 }),
      ),
    ),
    preview,
    h('button', { type: 'submit', class: 'primary', text: t('silences.add') }),
  );

  /**
   * @returns {{ kind: 'daily', start: Field, end: Field, timeZone: Field, matchers: SilenceLike['matchers'], comment: Field }
   *   | { kind: 'once', startsAt: Field, endsAt: Field, matchers: SilenceLike['matchers'], comment: Field }}
   */
  const body = () => {
    /** @type {Record<string, Field>} */
    const f = Object.fromEntries(new FormData(form));
    const matchers = f.scope === 'rule' ? { ruleId: f.ruleId } : f.scope === 'severity' ? { severity: f.severity } : {};
    // A one-off window is typed in local time; the API takes ISO times with their offset.
    /** @param {Field} v */
    const iso = (v) => {
      const d = new Date(String(v));
      return Number.isNaN(d.getTime()) ? v : d.toISOString();
    };
    return f.kind === 'daily'
      ? { kind: 'daily', start: f.start, end: f.end, timeZone: f.timeZone, matchers, comment: f.comment }
      : { kind: 'once', startsAt: iso(f.start), endsAt: iso(f.end), matchers, comment: f.comment };
  };
  const sync = () => {
    const once = kind.value === 'once';
    for (const input of [start, end]) {
      const want = once ? 'datetime-local' : 'time';
      if (input.type !== want) {
        input.type = want;
        input.value = '';
      }
    }
    zoneField.hidden = once;
    ruleField.hidden = scope.value !== 'rule';
    sevField.hidden = scope.value !== 'severity';
    const b = body();
    const complete = b.kind === 'daily' ? b.start && b.end : b.startsAt && b.endsAt;
    preview.textContent = complete ? t('silence.preview', { s: silenceText(b, rulesById) }) : '';
  };
  form.addEventListener('input', sync);
  form.addEventListener('change', sync);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const submit = one(form, '[type=submit]', HTMLButtonElement);
    submit.disabled = true;
    try {
      await api('/api/monitor/alerts/silences', { body: body() });
      await onChange();
    } catch (err) {
      showFormError(form, err, 'addSilence');
    } finally {
      submit.disabled = false;
    }
  });
  sync();
  return h('div', {}, h('p', { class: 'muted small', text: t('silence.explain') }), list, form);
}
