// ⚙ Settings: alert rules (list with state, add/edit form with the server's messages at
// the field, enable/disable, delete), presets, silences, channels (write-only secrets,
// test buttons) and history.
import { api, ApiError } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const labelsText = (l) => Object.entries(l ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
const parseLabels = (s) => Object.fromEntries(s.split(',').map((p) => p.trim()).filter(Boolean).map((p) => p.split('=').map((x) => x.trim())));

export class Settings {
  constructor(root) {
    this.root = root;
  }

  async open() {
    this.root.hidden = false;
    await this.render();
  }

  async render() {
    const [{ rules }, { alerts }, { presets }, { metrics }, channels, { silences }, { history }] = await Promise.all([
      api('/api/monitor/alerts/rules'), api('/api/monitor/alerts/active'), api('/api/monitor/alerts/presets'),
      api('/api/monitor/catalogue'), api('/api/monitor/alerts/channels'), api('/api/monitor/alerts/silences'),
      api('/api/monitor/alerts/history?limit=50'),
    ]);
    this.metrics = metrics;
    const stateOf = (r) => alerts.filter((a) => a.ruleId === r.id).map((a) => `${a.state}${labelsText(a.labels) ? ` (${labelsText(a.labels)})` : ''}`).join(', ') || 'inactive';
    this.root.replaceChildren(
      h('div', { class: 'form-row' }, h('h2', { text: t('settings.title') }), h('span', { class: 'grow' }), h('button', { type: 'button', text: t('panel.close'), onclick: () => { this.root.hidden = true; } })),
      h('h3', { text: t('rules.title') }),
      h('table', { id: 'rules-table' },
        h('tr', {}, ...['rules.name', 'rules.metric', 'rules.op', 'rules.severity', 'rules.channels', 'rules.state', 'rules.enable', ''].map((k) => h('th', { text: k ? t(k) : '' }))),
        ...rules.map((r) => h('tr', { dataset: { rule: r.id } },
          h('td', { text: r.name }),
          h('td', { text: `${r.metric}${labelsText(r.labels) ? `{${labelsText(r.labels)}}` : ''}` }),
          h('td', { text: `${r.op} ${r.threshold}${r.for ? ` for ${r.for}` : r.consecutiveChecks ? ` × ${r.consecutiveChecks}` : ''}${r.and ? ` AND ${r.and.metric} ${r.and.op} ${r.and.threshold}` : ''}` }),
          h('td', { text: r.severity }), h('td', { text: r.channels.join(', ') }), h('td', { class: 'state', text: stateOf(r) }),
          h('td', {}, h('input', { type: 'checkbox', checked: r.enabled, onchange: async (e) => { const { id, ...rest } = r; await api(`/api/monitor/alerts/rules/${id}`, { method: 'PUT', body: { ...rest, enabled: e.target.checked } }); } })),
          h('td', {},
            h('button', { type: 'button', class: 'edit', text: t('rules.edit'), onclick: () => this.edit(r) }),
            h('button', { type: 'button', text: t('rules.delete'), onclick: async () => { await api(`/api/monitor/alerts/rules/${r.id}`, { method: 'DELETE' }); await this.render(); } })),
        )),
      ),
      this.ruleForm(),
      h('h3', { text: t('presets.title') }),
      h('table', {}, ...presets.map((p) => h('tr', {},
        h('td', { text: p.rule.name }), h('td', { class: 'muted', text: p.description }),
        h('td', {}, p.imported ? h('span', { class: 'muted', text: t('presets.imported') }) : h('button', { type: 'button', text: t('presets.import'), onclick: async () => { await api(`/api/monitor/alerts/presets/${p.id}/import`, { body: {} }); await this.render(); } })),
      ))),
      h('h3', { text: t('silences.title') }),
      h('table', {}, ...silences.map((s) => h('tr', {},
        h('td', { text: s.kind === 'daily' ? `${s.start}–${s.end} ${s.timeZone}` : `${s.startsAt} → ${s.endsAt}` }),
        h('td', { text: JSON.stringify(s.matchers) }), h('td', { text: s.comment }),
        h('td', {}, h('button', { type: 'button', text: t('rules.delete'), onclick: async () => { await api(`/api/monitor/alerts/silences/${s.id}`, { method: 'DELETE' }); await this.render(); } })),
      ))),
      this.silenceForm(),
      h('h3', { text: t('channels.title') }),
      this.channelsForm(channels),
      h('h3', { text: t('history.title') }),
      h('table', {}, ...history.map((e) => h('tr', {},
        h('td', { text: new Date(e.at).toLocaleString() }), h('td', { text: e.kind }),
        h('td', { text: e.kind === 'delivery' ? `${e.channel} #${e.attempt} ${e.ok ? 'ok' : 'failed'}` : `${e.ruleId ?? ''} ${e.from ?? ''}→${e.to ?? ''}` }),
        h('td', { text: e.detail ?? (e.value ?? '') }),
      ))),
    );
  }

  /** Shows the server's message next to the field it names. */
  showError(form, err) {
    form.querySelectorAll('.field-error').forEach((x) => x.remove());
    const msg = err instanceof ApiError ? err.message : String(err);
    const field = err instanceof ApiError && err.field ? form.querySelector(`[name="${CSS.escape(err.field)}"]`) : null;
    (field?.closest('label') ?? form).append(h('span', { class: 'field-error', text: msg }));
  }

  /** Fills the form with a rule; saving then replaces it (PUT) instead of adding one. */
  edit(r) {
    const form = this.root.querySelector('#rule-form');
    form.dataset.editing = r.id;
    const set = (name, v) => { const el = form.querySelector(`[name="${name}"]`); if (el) el.value = v ?? ''; };
    set('name', r.name); set('metric', r.metric); set('labels', labelsText(r.labels)); set('op', r.op); set('threshold', r.threshold);
    set('consecutiveChecks', r.consecutiveChecks); set('for', r.for); set('severity', r.severity); set('boostLogMinutes', r.boostLogMinutes);
    set('and.metric', r.and?.metric); set('and.op', r.and?.op ?? '>'); set('and.threshold', r.and?.threshold);
    form.querySelectorAll('[name=channels]').forEach((c) => { c.checked = r.channels.includes(c.value); });
    form.querySelector('[name=captureRequests]').checked = Boolean(r.captureRequests);
    form.querySelector('h3').textContent = `${t('rules.edit')}: ${r.name}`;
    form.scrollIntoView();
  }

  ruleForm() {
    const metricOptions = () => this.metrics.map((m) => h('option', { value: m.name, text: `${m.name} (${m.unit})` }));
    const form = h('form', { id: 'rule-form' },
      h('h3', { text: t('rules.add') }),
      h('div', { class: 'form-row' },
        h('label', {}, t('rules.name'), h('input', { name: 'name', required: true })),
        h('label', {}, t('rules.metric'), h('select', { name: 'metric' }, ...metricOptions())),
        h('label', {}, t('rules.labels'), h('input', { name: 'labels', placeholder: 'gpu=0' })),
        h('label', {}, t('rules.op'), h('select', { name: 'op' }, ...['>', '>=', '<', '<='].map((o) => h('option', { value: o, text: o })))),
        h('label', {}, t('rules.threshold'), h('input', { name: 'threshold', type: 'number', step: 'any', required: true })),
        h('label', {}, t('rules.checks'), h('input', { name: 'consecutiveChecks', type: 'number', min: 1 })),
        h('label', {}, t('rules.for'), h('input', { name: 'for', placeholder: '2m' })),
      ),
      h('div', { class: 'form-row' },
        h('label', {}, t('rules.and'), h('select', { name: 'and.metric' }, h('option', { value: '', text: '—' }), ...metricOptions())),
        h('label', {}, t('rules.op'), h('select', { name: 'and.op' }, ...['>', '>=', '<', '<='].map((o) => h('option', { value: o, text: o })))),
        h('label', {}, t('rules.threshold'), h('input', { name: 'and.threshold', type: 'number', step: 'any' })),
        h('label', {}, t('rules.severity'), h('select', { name: 'severity' }, ...['info', 'warning', 'critical'].map((s) => h('option', { value: s, text: s, selected: s === 'warning' })))),
        h('label', {}, t('rules.channels'), h('span', {}, ...['console', 'email', 'webhook'].map((c) => h('label', {}, h('input', { type: 'checkbox', name: 'channels', value: c, checked: c === 'console' }), c)))),
        h('label', {}, t('rules.boost'), h('input', { name: 'boostLogMinutes', type: 'number', min: 0 })),
        h('label', {}, t('rules.capture'), h('input', { name: 'captureRequests', type: 'checkbox' })),
      ),
      h('button', { type: 'submit', text: t('rules.save') }),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = new FormData(form);
      const num = (k) => (f.get(k) === '' || f.get(k) === null ? undefined : Number(f.get(k)));
      const str = (k) => (f.get(k) ? String(f.get(k)) : undefined);
      const body = {
        name: str('name'), metric: str('metric'), labels: parseLabels(String(f.get('labels') ?? '')), op: str('op'), threshold: num('threshold'),
        consecutiveChecks: num('consecutiveChecks'), for: str('for'), severity: str('severity'), channels: f.getAll('channels'), boostLogMinutes: num('boostLogMinutes'), captureRequests: f.get('captureRequests') === 'on',
        and: str('and.metric') ? { metric: str('and.metric'), op: str('and.op'), threshold: num('and.threshold') } : undefined,
      };
      try {
        const editing = form.dataset.editing;
        const existing = editing ? (await api(`/api/monitor/alerts/rules/${editing}`)) : null;
        if (existing) {
          const { id, ...rest } = existing;
          await api(`/api/monitor/alerts/rules/${id}`, { method: 'PUT', body: { ...rest, ...body, for: body.for, consecutiveChecks: body.consecutiveChecks, and: body.and } });
        } else {
          await api('/api/monitor/alerts/rules', { body });
        }
        await this.render();
      } catch (err) {
        this.showError(form, err);
      }
    });
    return form;
  }

  silenceForm() {
    const form = h('form', { id: 'silence-form', class: 'form-row' },
      h('label', {}, 'kind', h('select', { name: 'kind' }, h('option', { value: 'daily', text: 'daily' }), h('option', { value: 'once', text: 'once' }))),
      h('label', {}, 'start (HH:MM or ISO)', h('input', { name: 'start', placeholder: '01:50' })),
      h('label', {}, 'end', h('input', { name: 'end', placeholder: '02:10' })),
      h('label', {}, 'time zone', h('input', { name: 'timeZone', value: Intl.DateTimeFormat().resolvedOptions().timeZone })),
      h('label', {}, 'comment', h('input', { name: 'comment' })),
      h('button', { type: 'submit', text: t('silences.add') }),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = Object.fromEntries(new FormData(form));
      const body = f.kind === 'daily'
        ? { kind: 'daily', start: f.start, end: f.end, timeZone: f.timeZone, comment: f.comment }
        : { kind: 'once', startsAt: f.start, endsAt: f.end, comment: f.comment };
      try {
        await api('/api/monitor/alerts/silences', { body });
        await this.render();
      } catch (err) {
        this.showError(form, err);
      }
    });
    return form;
  }

  channelsForm(ch) {
    const w = ch.webhook ?? {};
    const m = ch.email ?? {};
    const form = h('form', { id: 'channels-form' },
      h('div', { class: 'form-row' },
        h('label', {}, 'webhook URL', h('input', { name: 'webhook.url', value: w.url ?? '', size: 40 })),
        h('label', {}, 'format', h('select', { name: 'webhook.format' }, ...['generic', 'alertmanager', 'dingtalk', 'feishu', 'wecom', 'slack'].map((x) => h('option', { value: x, text: x, selected: x === w.format })))),
        h('label', {}, 'secret', h('input', { name: 'webhook.secret', type: 'password', placeholder: w.secretSet ? '••••• (set)' : '' })),
      ),
      h('div', { class: 'form-row' },
        h('label', {}, 'SMTP host', h('input', { name: 'email.host', value: m.host ?? '' })),
        h('label', {}, 'port', h('input', { name: 'email.port', type: 'number', value: m.port ?? 587 })),
        h('label', {}, 'TLS', h('input', { name: 'email.secure', type: 'checkbox', checked: m.secure })),
        h('label', {}, 'user', h('input', { name: 'email.user', value: m.user ?? '' })),
        h('label', {}, 'password', h('input', { name: 'email.password', type: 'password', placeholder: m.passwordSet ? '••••• (set)' : '' })),
        h('label', {}, 'from', h('input', { name: 'email.from', value: m.from ?? '' })),
        h('label', {}, 'to', h('input', { name: 'email.to', value: (m.to ?? []).join(',') })),
      ),
      h('button', { type: 'submit', text: t('channels.save') }),
      ...['console', 'email', 'webhook'].map((k) => h('button', { type: 'button', text: `${t('channels.test')}: ${k}`, onclick: async () => {
        try { const r = await api(`/api/monitor/alerts/channels/${k}/test`, { body: {} }); alertResult(form, `${k}: ${r.delivered ? 'ok' : r.attempts.at(-1)?.detail}`); } catch (err) { this.showError(form, err); }
      } })),
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
        await this.render();
      } catch (err) {
        this.showError(form, err);
      }
    });
    return form;
  }
}

function alertResult(form, text) {
  form.querySelectorAll('.result').forEach((x) => x.remove());
  form.append(h('span', { class: 'result muted', text }));
}
