// Channels: the console (always on), a webhook and SMTP email. Secrets are write-only:
// the form shows whether one is set, never its value; leaving it empty keeps it. Each
// channel can send a test notification.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const FORMATS = ['generic', 'alertmanager', 'dingtalk', 'feishu', 'wecom', 'slack'];

function input(labelKey, props, helpKey) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label', text: t(labelKey) }), h('input', props), helpKey ? h('small', { class: 'help', text: t(helpKey) }) : null);
}

export function channelsPanel({ channels, onChange, showError }) {
  const w = channels.webhook ?? {};
  const m = channels.email ?? {};
  const result = h('p', { class: 'result muted', role: 'status' });
  const state = (c) => h('span', { class: `chan-state ${c ? 'on' : 'off'}`, text: t(c ? 'channel.configured' : 'channel.notConfigured') });
  const test = (kind) => h('button', { type: 'button', class: 'test', text: `${t('channels.test')}: ${t(`channel.${kind}`)}`, onclick: async () => {
    result.textContent = '…';
    try {
      const r = await api(`/api/monitor/alerts/channels/${kind}/test`, { body: {} });
      result.textContent = `${t(`channel.${kind}`)}: ${r.delivered ? t('channel.testOk') : r.attempts.at(-1)?.detail ?? t('channel.testFailed')}`;
    } catch (err) {
      result.textContent = `${t(`channel.${kind}`)}: ${err.message}`;
    }
  } });
  const form = h('form', { id: 'channels-form' },
    h('h4', {}, t('channel.console'), ' ', state(true)),
    h('p', { class: 'muted small', text: t('channel.console.help') }),
    h('div', { class: 'form-row' }, test('console')),
    h('h4', {}, t('channel.webhook'), ' ', state(channels.webhook)),
    h('div', { class: 'form-row' },
      input('channel.url', { name: 'webhook.url', value: w.url ?? '', type: 'url', placeholder: 'https://hooks.example.com/…' }, 'channel.url.help'),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('channel.format') }), h('select', { name: 'webhook.format' }, ...FORMATS.map((x) => h('option', { value: x, text: x, selected: x === w.format })))),
      input('channel.secret', { name: 'webhook.secret', type: 'password', autocomplete: 'new-password', placeholder: w.secretSet ? t('channel.secretSet') : '' }, 'channel.secret.help')),
    channels.webhook ? h('div', { class: 'form-row' }, test('webhook')) : null,
    h('h4', {}, t('channel.email'), ' ', state(channels.email)),
    h('div', { class: 'form-row' },
      input('channel.host', { name: 'email.host', value: m.host ?? '' }),
      input('channel.port', { name: 'email.port', type: 'number', value: m.port ?? 587 }),
      h('label', { class: 'field check' }, h('span', {}, h('input', { name: 'email.secure', type: 'checkbox', checked: m.secure }), ` ${t('channel.tls')}`)),
      input('channel.user', { name: 'email.user', value: m.user ?? '', autocomplete: 'off' }),
      input('channel.password', { name: 'email.password', type: 'password', autocomplete: 'new-password', placeholder: m.passwordSet ? t('channel.secretSet') : '' }),
      input('channel.from', { name: 'email.from', value: m.from ?? '' }),
      input('channel.to', { name: 'email.to', value: (m.to ?? []).join(',') }, 'channel.to.help')),
    channels.email ? h('div', { class: 'form-row' }, test('email')) : null,
    h('div', { class: 'form-row' }, h('button', { type: 'submit', class: 'primary', text: t('channels.save') })),
    result,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const get = (k) => String(f.get(k) ?? '').trim();
    const body = {
      webhook: get('webhook.url') ? { url: get('webhook.url'), format: get('webhook.format'), ...(get('webhook.secret') ? { secret: get('webhook.secret') } : {}) } : null,
      email: get('email.host') ? {
        host: get('email.host'), port: Number(get('email.port')), secure: f.get('email.secure') === 'on', ...(get('email.user') ? { user: get('email.user') } : {}),
        ...(get('email.password') ? { password: get('email.password') } : {}), from: get('email.from'), to: get('email.to').split(',').map((x) => x.trim()).filter(Boolean),
      } : null,
    };
    try {
      await api('/api/monitor/alerts/channels', { method: 'PUT', body });
      await onChange();
    } catch (err) {
      showError(form, err);
    }
  });
  return form;
}
