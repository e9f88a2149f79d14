// Channels: the built-in console and any number of email, webhook and Alertmanager
// channels, each under the name rules pick it by. Each can be added, edited, tested and
// deleted (a second click confirms, saying which rules use it). Secrets are write-only:
// the form shows whether one is set, never its value; leaving it empty keeps it, and a
// URL shown masked is kept when sent back unchanged. The kinds and the webhook formats
// offered are the server's (its catalogue); a failed test or delete is said in the row.
import { api } from '../../api.js';
import { h, one } from '../../dom.js';
import { ruleName, t, tValue } from '../../i18n.js';
import { act, failureSlot, showFormError } from './feedback.js';

/** @typedef {import('../../types.js').ChannelView} ChannelView */
/** @typedef {import('../../dom.js').Child} Child */
/** @typedef {import('./feedback.js').FailureSlot} FailureSlot */
/**
 * A channel that can be added and edited: any but the built-in console.
 * @typedef {Exclude<ChannelView, { type: 'console' }>} KindView
 */
/** @typedef {KindView['type']} KindName */
/**
 * @template {KindName} K
 * @typedef {Extract<KindView, { type: K }>} ViewOf
 */
/**
 * What a kind's fields start from besides the channel: the server's choices (its catalogue),
 * and this node's Alertmanager instance label (when an Alertmanager channel shows it).
 * @typedef {{ instance: string | undefined, formats: string[], robots: string[], styles: string[] }} Defaults
 */
/**
 * One kind of channel: its fields, filled from the channel being edited (nothing for a new
 * one), and the body they make besides the name, type and timeout (`get`: a field's trimmed
 * text; the server checks the body).
 * @template {KindName} K
 * @typedef {{
 *   fields: (c: Partial<ViewOf<K>>, defaults: Defaults) => HTMLElement[],
 *   body: (get: (name: string) => string, f: FormData) => Record<string, unknown>,
 * }} Kind
 */

/**
 * A channel's name as the UI shows it (the console's in the page's language).
 * @template {string | undefined} N
 * @param {N} name
 * @returns {N | string}
 */
export const channelLabel = (name) => (name === 'console' ? t('channel.console') : name);

/**
 * @param {string} labelKey
 * @param {import('../../dom.js').Props<'input'>} props
 * @param {string} [helpText]
 */
function input(labelKey, props, helpText) {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label', text: t(labelKey) }),
    h('input', props),
    helpText ? h('small', { class: 'help', text: helpText }) : null,
  );
}

/**
 * @param {string} labelKey
 * @param {import('../../dom.js').Props<'textarea'>} props
 * @param {string} value
 * @param {string} [helpText]
 */
function textarea(labelKey, props, value, helpText) {
  const el = h('textarea', { rows: 3, ...props });
  el.value = value;
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label', text: t(labelKey) }),
    el,
    helpText ? h('small', { class: 'help', text: helpText }) : null,
  );
}

/**
 * Where a channel sends, in one line.
 * @param {ChannelView} c
 */
function where(c) {
  if (c.type === 'console') return t('channel.console.help');
  if (c.type === 'webhook') return `${c.format} · ${c.url}`;
  if (c.type === 'email') return `${c.host}:${c.port} → ${c.to.join(', ')}`;
  // The labels every alert it sends carries: the instance, and the operator's own (cluster=…).
  if (c.type === 'alertmanager')
    return [c.urls.join(', '), `instance=${c.instance ?? c.instanceDefault}`, labelsText(c.labels)]
      .filter(Boolean)
      .join(' · ');
  return '';
}

/** @param {ChannelView} c */
const secretState = (c) => {
  if (c.type === 'console') return '—';
  const set = c.type === 'email' ? c.passwordSet : c.secretSet;
  return t(set ? 'channel.secretState.set' : 'channel.secretState.none');
};

/** @param {string} s */
const splitList = (s) =>
  String(s ?? '')
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
/** @param {string} s */
const parseLabels = (s) =>
  Object.fromEntries(
    splitList(s).map((p) => {
      const i = p.indexOf('=');
      return i < 0 ? [p, ''] : [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
/** @param {Record<string, string> | undefined} l */
const labelsText = (l) =>
  Object.entries(l ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * The fields of one kind of channel, and the body they make (a kind the server adds needs its fields here).
 * @type {{ [K in KindName]: Kind<K> }}
 */
const KINDS = {
  webhook: {
    fields: (c, { formats, robots, styles }) => {
      const format = h(
        'select',
        { name: 'format' },
        ...formats.map((x) => h('option', { value: x, text: tValue('webhook.format', x), selected: x === c.format })),
      );
      // Chat robots render markdown or a card; plain text stays a choice. Other formats have no style.
      const style = h(
        'label',
        { class: 'field' },
        h('span', { class: 'field-label', text: t('channel.style') }),
        h(
          'select',
          { name: 'style' },
          ...styles.map((x) =>
            h('option', { value: x, text: tValue('message.style', x), selected: x === (c.style ?? 'rich') }),
          ),
        ),
      );
      const showStyle = () => {
        style.hidden = !robots.includes(format.value);
      };
      format.addEventListener('change', showStyle);
      showStyle();
      return [
        input(
          'channel.url',
          {
            name: 'url',
            value: c.url ?? '',
            type: 'text',
            inputmode: 'url',
            placeholder: 'https://hooks.example.com/…',
            required: !c.url,
          },
          t('channel.url.help'),
        ),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('channel.format') }), format),
        style,
        input(
          'channel.secret',
          {
            name: 'secret',
            type: 'password',
            autocomplete: 'new-password',
            placeholder: c.secretSet ? t('channel.secretSet') : '',
          },
          t('channel.secret.help'),
        ),
      ];
    },
    body: (get) => ({
      url: get('url') || undefined,
      format: get('format'),
      style: get('style'),
      secret: get('secret') || undefined,
    }),
  },
  email: {
    fields: (c) => [
      input('channel.host', { name: 'host', value: c.host ?? '', required: true }),
      input('channel.port', { name: 'port', type: 'number', value: c.port ?? 587 }),
      h(
        'label',
        { class: 'field check' },
        h('span', {}, h('input', { name: 'secure', type: 'checkbox', checked: c.secure }), ` ${t('channel.tls')}`),
      ),
      input('channel.user', { name: 'user', value: c.user ?? '', autocomplete: 'off' }),
      input('channel.password', {
        name: 'password',
        type: 'password',
        autocomplete: 'new-password',
        placeholder: c.passwordSet ? t('channel.secretSet') : '',
      }),
      input('channel.from', { name: 'from', value: c.from ?? '' }),
      input('channel.to', { name: 'to', value: (c.to ?? []).join(',') }, t('channel.to.help')),
    ],
    body: (get, f) => ({
      host: get('host'),
      port: Number(get('port')),
      secure: f.get('secure') === 'on',
      user: get('user') || undefined,
      password: get('password') || undefined,
      from: get('from'),
      to: splitList(get('to')),
    }),
  },
  alertmanager: {
    fields: (c, defaults) => [
      textarea(
        'channel.urls',
        { name: 'urls', placeholder: 'http://alertmanager:9093' },
        (c.urls ?? []).join('\n'),
        t('channel.urls.help'),
      ),
      input(
        'channel.instance',
        { name: 'instance', value: c.instance ?? '', placeholder: c.instanceDefault ?? defaults.instance ?? '' },
        t('channel.instance.help'),
      ),
      input(
        'channel.labels',
        { name: 'labels', value: labelsText(c.labels), placeholder: 'cluster=gpu-a' },
        t('channel.labels.help'),
      ),
      input(
        'channel.token',
        {
          name: 'secret',
          type: 'password',
          autocomplete: 'new-password',
          placeholder: c.secretSet ? t('channel.secretSet') : '',
        },
        t('channel.token.help'),
      ),
    ],
    body: (get) => ({
      urls: splitList(get('urls')),
      instance: get('instance') || undefined,
      labels: parseLabels(get('labels')),
      secret: get('secret') || undefined,
    }),
  },
};

/**
 * A kind the form has fields for.
 * @param {string} type
 * @returns {type is KindName}
 */
const isKind = (type) => Object.hasOwn(KINDS, type);

/**
 * The form for a new channel of `type`, or for editing `channel`.
 * @template {KindName} K
 * @param {{
 *   channel: ViewOf<K> | null,
 *   type: K,
 *   defaults: Defaults,
 *   onSaved: () => Promise<unknown>,
 *   onCancel: () => void,
 * }} opts
 */
function channelForm({ channel, type, defaults, onSaved, onCancel }) {
  /** @type {Partial<ViewOf<K>>} */
  const c = channel ?? {};
  /** @type {Kind<K>} */
  const kind = KINDS[type];
  const form = h(
    'form',
    { id: 'channel-form', class: 'channel-form', dataset: { type } },
    h('h4', {
      text: channel ? `${t('channels.edit')}: ${c.name}` : t('channels.new', { type: tValue('channel.type', type) }),
    }),
    h(
      'div',
      { class: 'form-row' },
      input(
        'channels.name',
        {
          name: 'name',
          value: c.name ?? '',
          required: true,
          maxlength: 64,
          readonly: Boolean(channel),
          autocomplete: 'off',
        },
        t('channels.name.help'),
      ),
      ...kind.fields(c, defaults),
      input(
        'channel.timeout',
        { name: 'timeoutMs', type: 'number', min: 100, max: 60000, value: c.timeoutMs ?? '' },
        t('channel.timeout.help'),
      ),
    ),
    h(
      'div',
      { class: 'form-row actions' },
      h('button', { type: 'submit', class: 'primary', text: t('channel.save') }),
      h('button', { type: 'button', class: 'cancel', text: t('rule.cancel'), onclick: onCancel }),
    ),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const submit =
      e.submitter instanceof HTMLButtonElement ? e.submitter : one(form, '[type=submit]', HTMLButtonElement);
    submit.disabled = true;
    const f = new FormData(form);
    /** @param {string} k */
    const get = (k) => String(f.get(k) ?? '').trim();
    /** @type {Record<string, unknown>} */
    const body = {
      name: get('name'),
      type,
      ...kind.body(get, f),
      ...(get('timeoutMs') ? { timeoutMs: Number(get('timeoutMs')) } : {}),
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    try {
      if (channel)
        await api(`/api/monitor/alerts/channels/${encodeURIComponent(channel.name)}`, { method: 'PUT', body });
      else await api('/api/monitor/alerts/channels', { body });
      await onSaved();
    } catch (err) {
      showFormError(form, err, 'saveChannel');
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/**
 * channels: GET /api/monitor/alerts/channels; catalogue: GET /api/monitor/catalogue; onChange: after a change.
 * @param {{
 *   channels: import('../../types.js').ChannelList,
 *   rules: import('../../types.js').RuleAnswer[],
 *   catalogue: import('../../types.js').Catalogue,
 *   onChange: () => Promise<unknown>,
 * }} lists
 */
export function channelsPanel({ channels, rules, catalogue, onChange }) {
  const list = channels.channels;
  /** @type {Defaults} */
  const defaults = {
    instance: list.find((c) => c.type === 'alertmanager')?.instanceDefault,
    formats: catalogue.channels.webhookFormats,
    robots: catalogue.channels.robotFormats,
    styles: catalogue.channels.messageStyles,
  };
  const types = catalogue.channels.types.filter(isKind);
  const result = h('p', { class: 'result muted', role: 'status' });
  const formBox = h('div', { class: 'channel-form-box' });
  /**
   * @template {KindName} K
   * @param {ViewOf<K> | null} channel
   * @param {K} type
   */
  const openForm = (channel, type) => {
    formBox.replaceChildren(
      channelForm({ channel, type, defaults, onSaved: onChange, onCancel: () => formBox.replaceChildren() }),
    );
    const first = formBox.querySelector(channel ? '#channel-form input:not([readonly])' : '#channel-form [name=name]');
    if (first instanceof HTMLElement) first.focus();
    formBox.scrollIntoView({ block: 'nearest' });
  };
  // A delivery that failed is the test's answer (in the result line); a request the
  // server refused is the button's failure (in the channel's row).
  /**
   * @param {ChannelView} c
   * @param {FailureSlot} slot
   * @returns {(e: { currentTarget: HTMLButtonElement }) => Promise<void>}
   */
  const test = (c, slot) => async (e) => {
    result.textContent = '…';
    const ok = await act(e.currentTarget, slot, 'testChannel', async () => {
      /** @type {import('../../types.js').ChannelTestAnswer} */
      const r = await api(`/api/monitor/alerts/channels/${encodeURIComponent(c.name)}/test`, { body: {} });
      result.textContent = `${channelLabel(c.name)}: ${r.delivered ? `${t('channel.testOk')} (${r.attempts.at(-1)?.detail ?? ''})` : (r.attempts.at(-1)?.detail ?? t('channel.testFailed'))}`;
    });
    if (!ok) result.textContent = '';
  };
  /**
   * @param {ChannelView} c
   * @param {FailureSlot} slot
   * @returns {(e: { currentTarget: HTMLButtonElement }) => Promise<void>}
   */
  const remove = (c, slot) => async (e) => {
    const b = e.currentTarget;
    if (!b.classList.contains('confirm')) {
      const users = rules.filter((r) => r.channels.includes(c.name)).map((r) => ruleName(r.id, r.name));
      b.classList.add('confirm');
      b.textContent = users.length
        ? t('channels.confirmDeleteUsed', { n: users.length, rules: users.join(', ') })
        : t('channels.confirmDelete');
      return;
    }
    if (
      await act(b, slot, 'deleteChannel', () =>
        api(`/api/monitor/alerts/channels/${encodeURIComponent(c.name)}`, { method: 'DELETE' }),
      )
    )
      await onChange();
  };
  const head = ['channels.name', 'channels.type', 'channels.where', 'channels.secret', ''].map((k) => (k ? t(k) : ''));
  /**
   * @param {string} label
   * @param {import('../../dom.js').Props<'td'>} props
   * @param {...Child} children
   */
  const cell = (label, props, ...children) => h('td', { 'data-label': label, ...props }, ...children);
  const table = h(
    'table',
    { id: 'channels-table', class: 'stack' },
    h('tr', {}, ...head.map((x) => h('th', { text: x }))),
    ...list.map((c) => {
      const tr = h('tr', { dataset: { channel: c.name } });
      const slot = failureSlot((el) => {
        const row = h('tr', { class: 'row-error' }, h('td', { colspan: head.length }, el));
        tr.after(row);
        return row;
      });
      tr.append(
        cell(head[0], { class: 'name nowrap', text: channelLabel(c.name) }),
        cell(head[1], { class: 'nowrap', text: tValue('channel.type', c.type) }),
        cell(head[2], { class: 'where', text: where(c) }),
        cell(head[3], { class: 'nowrap', text: secretState(c) }),
        cell(
          '',
          { class: 'actions' },
          c.type === 'console'
            ? null
            : h('button', { type: 'button', class: 'edit', text: t('rules.edit'), onclick: () => openForm(c, c.type) }),
          h('button', { type: 'button', class: 'test', text: t('channels.test'), onclick: test(c, slot) }),
          c.type === 'console'
            ? null
            : h('button', { type: 'button', class: 'delete', text: t('rules.delete'), onclick: remove(c, slot) }),
        ),
      );
      return tr;
    }),
  );
  const newType = h(
    'select',
    { name: 'new-channel-type', 'aria-label': t('channels.kind') },
    ...types.map((x) => h('option', { value: x, text: tValue('channel.type', x) })),
  );
  return h(
    'div',
    { id: 'channels-panel' },
    h(
      'div',
      { class: 'form-row' },
      newType,
      h('button', {
        type: 'button',
        id: 'add-channel',
        class: 'primary',
        text: t('channels.add'),
        onclick: () => {
          const type = newType.value;
          if (isKind(type)) openForm(null, type);
        },
      }),
      h('span', { class: 'muted small', text: t('channels.help') }),
    ),
    table,
    result,
    formBox,
  );
}
