// The rule form: every rule the engine takes (src/alerts/rule-schema.ts) — a value against
// a threshold, a surge against a baseline, NVML's samples between checks, one alert per
// request — with how long (consecutive checks or `for`), an AND condition, no-data,
// recovery threshold, keep-firing and repeat; a searchable metric picker with each
// metric's help and unit; help under every field; a warning when a chosen channel is not
// configured; "Test rule" replays it over the last hour. The server's message appears at
// the field it names. Operators, severities, no-data choices, defaults and layers come
// from the server's catalogue.
import { ApiError, api } from '../../api.js';
import { all, h, one } from '../../dom.js';
import { fmtValue } from '../../format.js';
import { metricHelp, t, tValue } from '../../i18n.js';
import { conditionReach, valueRange } from '../../shared/value-range.js';
import { channelLabel } from './channels.js';
import { clearFormErrors, showFormError } from './feedback.js';

/** @typedef {import('../../types.js').Catalogue} Catalogue */
/** @typedef {import('../../types.js').CatalogueMetric} CatalogueMetric */
/** @typedef {import('../../types.js').RuleAnswer} RuleAnswer */
/** @typedef {import('../../../../src/alerts/rule-schema.js').RuleInput} RuleInput */
/** @typedef {NonNullable<RuleInput['and']>} ConditionInput */
/**
 * The rule as the form sends it: the server's RuleInput, each field as the form holds it. A
 * field left empty is left out (the server then names the field it needs, and the form shows
 * its message there); a choice (op, severity, noData) is what its select holds, one of the
 * catalogue's, which the server checks again.
 * @typedef {Partial<Omit<RuleInput, 'op' | 'severity' | 'noData' | 'and'>> & {
 *   op?: string,
 *   severity?: string,
 *   noData?: string,
 *   and?: Partial<Omit<ConditionInput, 'op'>> & { op?: string },
 * }} RuleBody
 */

/** The forms of rule the form offers; each shows its own fields (see sync()). */
const KINDS = ['value', 'surge', 'sample', 'perRequest'];
/** @param {Record<string, string> | undefined} l */
export const labelsText = (l) =>
  Object.entries(l ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
/** @param {FormDataEntryValue | null} s */
const parseLabels = (s) =>
  Object.fromEntries(
    String(s ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const i = p.indexOf('=');
        return i < 0 ? [p, ''] : [p.slice(0, i).trim(), p.slice(i + 1).trim()];
      }),
  );

/**
 * A labelled field with its help under it.
 * @param {string} labelKey
 * @param {HTMLElement} input
 * @param {string | null} helpKey
 * @param {{ class?: string, dataset?: Record<string, string> }} [extra]
 */
function field(labelKey, input, helpKey, extra = {}) {
  return h(
    'label',
    { class: `field ${extra.class ?? ''}`, dataset: extra.dataset ?? {} },
    h('span', { class: 'field-label', text: t(labelKey) }),
    input,
    helpKey ? h('small', { class: 'help', text: t(helpKey) }) : null,
  );
}

/**
 * Search box over a listbox of metrics; the chosen metric's help and unit under it.
 * @param {CatalogueMetric[]} metrics
 * @param {string[]} layers
 * @param {string} name
 * @param {{ optional?: boolean }} [opts]
 */
function metricPicker(metrics, layers, name, { optional = false } = {}) {
  const select = h('select', { name, size: 6, class: 'metric-list' });
  const search = h('input', {
    type: 'search',
    class: 'metric-search',
    placeholder: t('rule.metric.search'),
    'aria-label': t('rule.metric.search'),
  });
  const about = h('small', { class: 'help metric-about' });
  const fill = () => {
    const q = search.value.trim().toLowerCase();
    // Names spell "utilization"; people write "utilisation" too.
    const qz = q.replace(/isation/g, 'ization');
    const keep = select.value;
    /** @param {CatalogueMetric} m */
    const match = (m) =>
      !q ||
      m.name.includes(q) ||
      m.name.includes(qz) ||
      m.help.toLowerCase().includes(q) ||
      metricHelp(m).toLowerCase().includes(q);
    select.replaceChildren(
      ...(optional ? [h('option', { value: '', text: t('rule.and.none') })] : []),
      ...layers.map((g) =>
        h(
          'optgroup',
          { label: tValue('layer', g) },
          ...metrics
            .filter((m) => m.layer === g && match(m))
            .map((m) => h('option', { value: m.name, title: metricHelp(m), text: `${m.name} (${m.unit})` })),
        ),
      ),
    );
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  };
  const describe = () => {
    const m = metrics.find((x) => x.name === select.value);
    about.textContent = m
      ? `${metricHelp(m)} ${t('rule.metric.unit', { u: m.unit })}${m.labels.length ? ` ${t('rule.metric.labels', { l: m.labels.join(', ') })}` : ''}`
      : optional
        ? t('rule.and.help')
        : '';
  };
  search.addEventListener('input', () => {
    fill();
    describe();
  });
  select.addEventListener('change', describe);
  fill();
  if (!optional) select.value = metrics[0]?.name ?? '';
  describe();
  return {
    el: h('div', { class: 'metric-picker' }, search, select, about),
    select,
    search,
    refresh: () => {
      fill();
      describe();
    },
  };
}

export class RuleForm {
  /**
   * catalogue: GET /api/monitor/catalogue; channels: the API's view of them
   * ({ channels: [{ name, type, … }] }); onSaved: after a save.
   * @param {{
   *   catalogue: Catalogue,
   *   channels: import('../../types.js').ChannelList,
   *   onSaved?: () => unknown,
   *   onCancel?: () => void,
   * }} opts
   */
  constructor({ catalogue, channels, onSaved, onCancel }) {
    this.catalogue = catalogue;
    this.metrics = catalogue.metrics;
    this.configured = new Set(channels.channels.map((c) => c.name));
    this.onSaved = onSaved;
    this.onCancel = onCancel;
    /** @type {string | null} the id of the rule being edited */
    this.editing = null;
    /** @type {HTMLElement | undefined} */
    this.kindNote = undefined;
    /**
     * @param {string} name
     * @param {import('../../dom.js').Props<'input'>} [attrs]
     */
    const num = (name, attrs = {}) => h('input', { name, type: 'number', step: 'any', ...attrs });
    const { ops, severities, noData, defaults } = this.catalogue.rules;
    /** @param {string} name */
    const opSel = (name) => h('select', { name }, ...ops.map((o) => h('option', { value: o, text: o })));
    this.picker = metricPicker(this.metrics, this.catalogue.layers, 'metric');
    this.andPicker = metricPicker(this.metrics, this.catalogue.layers, 'and.metric', { optional: true });
    this.title = h('h3', { text: t('rules.add') });
    this.kindBox = h(
      'fieldset',
      { class: 'kinds' },
      h('legend', { text: t('rule.kind') }),
      ...KINDS.map((k) =>
        h(
          'label',
          { class: 'radio' },
          h('input', { type: 'radio', name: 'kind', value: k, checked: k === 'value' }),
          h(
            'span',
            {},
            h('strong', { text: t(`rule.kind.${k}`) }),
            h('small', { class: 'help', text: t(`rule.kind.${k}.help`) }),
          ),
        ),
      ),
    );
    this.channelWarning = h('p', { class: 'channel-warning', role: 'status' });
    // A condition no value of its metric can meet, or every value meets (the metric's range, from its unit).
    this.reachNote = h('p', { class: 'reach-note warn-text', role: 'status', hidden: true });
    this.andReachNote = h('p', { class: 'reach-note warn-text', role: 'status', hidden: true });
    this.testResult = h('div', { class: 'test-result' });
    this.channelChecks = h('span', { class: 'checks channel-picker' });
    this.channelsField = h(
      'div',
      { class: 'field' },
      h('span', { class: 'field-label', text: t('rules.channels') }),
      this.channelChecks,
      h('small', { class: 'help', text: t('rule.channels.help') }),
    );
    this.el = h(
      'form',
      { id: 'rule-form', class: 'rule-form', hidden: true },
      this.title,
      h(
        'div',
        { class: 'form-row' },
        field('rules.name', h('input', { name: 'name', required: true, maxlength: 200 }), 'rule.name.help'),
      ),
      h('div', { class: 'form-row' }, field('rules.metric', this.picker.el, null, { class: 'wide' })),
      this.kindBox,
      h(
        'div',
        { class: 'form-row' },
        field('rules.labels', h('input', { name: 'labels', placeholder: 'gpu=0' }), 'rule.labels.help'),
        field('rules.op', opSel('op'), null),
        field('rules.threshold', num('threshold', { required: true }), 'rule.threshold.help', { class: 'threshold' }),
        this.reachNote,
        field(
          'rule.surgeBaseline',
          h('input', { name: 'surgeBaseline', placeholder: '10m' }),
          'rule.surgeBaseline.help',
          { class: 'only-surge' },
        ),
        field('rule.sampleSeconds', num('sampleSeconds', { min: 0.1, max: 3600 }), 'rule.sampleSeconds.help', {
          class: 'only-sample',
        }),
      ),
      h(
        'div',
        { class: 'form-row not-perRequest' },
        field('rules.checks', num('consecutiveChecks', { min: 1, step: 1 }), 'rule.checks.help'),
        field('rules.for', h('input', { name: 'for', placeholder: '2m' }), 'rule.for.help'),
      ),
      h(
        'fieldset',
        { class: 'and not-perRequest' },
        h('legend', { text: t('rule.and') }),
        h('div', { class: 'form-row' }, field('rules.metric', this.andPicker.el, null, { class: 'wide' })),
        h(
          'div',
          { class: 'form-row' },
          field('rules.labels', h('input', { name: 'and.labels', placeholder: 'gpu=0' }), null),
          field('rules.op', opSel('and.op'), null),
          field('rules.threshold', num('and.threshold'), null),
          this.andReachNote,
          field('rules.checks', num('and.consecutiveChecks', { min: 1, step: 1 }), null),
          field('rules.for', h('input', { name: 'and.for', placeholder: '2m' }), null),
        ),
      ),
      h(
        'div',
        { class: 'form-row not-perRequest' },
        field(
          'rule.noData',
          h(
            'select',
            { name: 'noData' },
            ...noData.map((v) =>
              h('option', { value: v, text: tValue('rule.noData', v), selected: v === defaults.noData }),
            ),
          ),
          'rule.noData.help',
        ),
        field('rule.recover', num('recoverThreshold'), 'rule.recover.help'),
        field('rule.keepFiring', h('input', { name: 'keepFiringFor', placeholder: '5m' }), 'rule.keepFiring.help'),
        field(
          'rule.repeat',
          h('input', { name: 'repeatInterval', value: defaults.repeatInterval }),
          'rule.repeat.help',
        ),
      ),
      h(
        'div',
        { class: 'form-row' },
        field(
          'rules.severity',
          h(
            'select',
            { name: 'severity' },
            ...severities.map((s) =>
              h('option', { value: s, text: tValue('severity', s), selected: s === defaults.severity }),
            ),
          ),
          null,
        ),
        this.channelsField,
        field('rules.boost', num('boostLogMinutes', { min: 0, max: 1440 }), 'rule.boost.help'),
        h(
          'label',
          { class: 'field check' },
          h('span', {}, h('input', { name: 'captureRequests', type: 'checkbox' }), ` ${t('rules.capture')}`),
          h('small', { class: 'help', text: t('rule.capture.help') }),
        ),
        h(
          'label',
          { class: 'field check' },
          h('span', {}, h('input', { name: 'enabled', type: 'checkbox', checked: true }), ` ${t('rules.enable')}`),
        ),
      ),
      this.channelWarning,
      h(
        'div',
        { class: 'form-row actions' },
        h('button', { type: 'submit', class: 'primary', text: t('rules.save') }),
        h('button', { type: 'button', class: 'test', text: t('rule.test'), onclick: () => void this.test() }),
        h('button', { type: 'button', class: 'cancel', text: t('rule.cancel'), onclick: () => this.onCancel?.() }),
      ),
      this.testResult,
    );
    this.showChannels([...this.configured], defaults.channels);
    this.el.addEventListener('change', () => this.sync());
    // The notes follow the typing (a threshold, a metric search that changes the choice), not
    // only a field's change at blur.
    this.el.addEventListener('input', () => this.sync());
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
    this.sync();
  }

  get kind() {
    return all(this.el, '[name=kind]:checked', HTMLInputElement)[0]?.value ?? 'value';
  }

  /** Shows the fields of the chosen kind; sample and per-request rules need their metric. */
  sync() {
    const kind = this.kind;
    const metric = this.picker.select.value;
    this.el.dataset.kind = kind;
    all(this.el, '.only-surge', HTMLElement).forEach((x) => {
      x.hidden = kind !== 'surge';
    });
    all(this.el, '.only-sample', HTMLElement).forEach((x) => {
      x.hidden = kind !== 'sample';
    });
    all(this.el, '.not-perRequest', HTMLElement).forEach((x) => {
      x.hidden = kind === 'perRequest';
    });
    one(this.el, '.threshold .field-label', HTMLElement).textContent = t(
      kind === 'surge' ? 'rule.threshold.surge' : 'rules.threshold',
    );
    /** @type {Partial<Record<string, string>>} */
    const notes = { sample: this.catalogue.rules.sampleMetric, perRequest: this.catalogue.rules.perRequestMetric };
    const note = notes[kind];
    this.kindNote?.remove();
    if (note && metric !== note) {
      this.kindNote = h('small', { class: 'help warn-text', text: t('rule.kind.needs', { m: note }) });
      this.kindBox.append(this.kindNote);
    }
    this.reach(this.reachNote, kind === 'surge' ? '' : metric, '');
    this.reach(this.andReachNote, this.andPicker.select.value, 'and.');
    const missing = all(this.el, '[name=channels]:checked', HTMLInputElement)
      .map((c) => c.value)
      .filter((c) => !this.configured.has(c));
    this.channelWarning.textContent = missing.length
      ? t('rule.channel.missing', { c: missing.map(channelLabel).join(', ') })
      : '';
    this.channelWarning.hidden = !missing.length;
  }

  /**
   * Says under the threshold when the condition can never hold, or always holds, for the
   * values its metric takes ("Never fires: gpu_memory_utilization_percent is always between
   * 0 % and 100 %").
   * Not a refusal: `>= 0` is how an operator tries a channel.
   * @param {HTMLElement} note
   * @param {string} metric
   * @param {'' | 'and.'} prefix
   */
  reach(note, metric, prefix) {
    const op = one(this.el, `[name="${prefix}op"]`, HTMLSelectElement).value;
    const raw = one(this.el, `[name="${prefix}threshold"]`, HTMLInputElement).value;
    const unit = this.metrics.find((m) => m.name === metric)?.unit;
    const range = valueRange(unit);
    const reach = metric && raw.trim() !== '' ? conditionReach(op, Number(raw), range) : 'may';
    note.hidden = reach === 'may';
    if (reach === 'may') {
      note.textContent = '';
      return;
    }
    const [min, max] = [range.min, range.max].map((v) => (v === null ? null : fmtValue(v, unit)));
    const bounds =
      min !== null && max !== null
        ? t('rule.reach.between', { min, max })
        : min !== null
          ? t('rule.reach.atLeast', { min })
          : t('rule.reach.atMost', { max: max ?? '' });
    // With two conditions, one that always holds leaves the rule to the other.
    const paired = prefix === 'and.' || this.andPicker.select.value !== '';
    const key = reach === 'always' && paired ? 'rule.reach.alwaysPart' : `rule.reach.${reach}`;
    note.textContent = t(key, { m: metric, range: bounds });
  }

  /**
   * The rule as the API takes it, from the fields of the chosen kind.
   * @returns {RuleBody}
   */
  body() {
    const f = new FormData(this.el);
    /** @param {string} k */
    const num = (k) => (f.get(k) === '' || f.get(k) === null ? undefined : Number(f.get(k)));
    /** @param {string} k */
    const str = (k) => (f.get(k) ? String(f.get(k)).trim() || undefined : undefined);
    const kind = this.kind;
    /** @type {RuleBody} */
    const body = {
      name: str('name'),
      metric: this.picker.select.value || undefined,
      labels: parseLabels(f.get('labels')),
      op: str('op'),
      threshold: num('threshold'),
      severity: str('severity'),
      channels: f.getAll('channels').map(String),
      enabled: f.get('enabled') === 'on',
      boostLogMinutes: num('boostLogMinutes'),
      captureRequests: f.get('captureRequests') === 'on',
    };
    if (kind === 'perRequest') return { ...body, perRequest: true };
    /** @type {RuleBody} the fields of rules evaluated at each check (not per request) */
    const atChecks = {
      consecutiveChecks: num('consecutiveChecks'),
      for: str('for'),
      noData: str('noData'),
      recoverThreshold: num('recoverThreshold'),
      keepFiringFor: str('keepFiringFor'),
      repeatInterval: str('repeatInterval'),
    };
    Object.assign(body, atChecks);
    if (kind === 'surge') body.surgeBaseline = str('surgeBaseline');
    if (kind === 'sample') body.sampleSeconds = num('sampleSeconds');
    const andMetric = this.andPicker.select.value;
    if (andMetric)
      body.and = {
        metric: andMetric,
        labels: parseLabels(f.get('and.labels')),
        op: str('and.op'),
        threshold: num('and.threshold'),
        consecutiveChecks: num('and.consecutiveChecks'),
        for: str('and.for'),
      };
    return body;
  }

  async save() {
    try {
      if (this.editing)
        await api(`/api/monitor/alerts/rules/${encodeURIComponent(this.editing)}`, {
          method: 'PUT',
          body: this.body(),
        });
      else await api('/api/monitor/alerts/rules', { body: this.body() });
      await this.onSaved?.();
    } catch (err) {
      this.showError(err, 'saveRule');
    }
  }

  async test() {
    this.clearErrors();
    try {
      // Testing an edit: the channels the rule already names are kept as a save keeps them.
      const query = this.editing ? `?ruleId=${encodeURIComponent(this.editing)}` : '';
      /** @type {import('../../types.js').RuleExplanation} */
      const r = await api(`/api/monitor/alerts/rules/test${query}`, { body: this.body() });
      this.testResult.replaceChildren(
        h('strong', { text: t(r.wouldFire ? 'rule.test.fires' : 'rule.test.quiet', { n: r.checksReplayed }) }),
        ...r.instances.map((i) =>
          h('div', {
            class: 'muted small',
            text: `${labelsText(i.labels) || '—'} · ${tValue('state', i.state)} · ${i.reason}`,
          }),
        ),
      );
    } catch (err) {
      this.showError(err, 'testRule');
    }
  }

  /**
   * One checkbox per channel name, by name; those not configured say so.
   * @param {string[]} names
   * @param {readonly string[]} checked
   */
  showChannels(names, checked) {
    this.channelChecks.replaceChildren(
      ...names.map((name) =>
        h(
          'label',
          { class: `check${this.configured.has(name) ? '' : ' unconfigured'}` },
          h('input', { type: 'checkbox', name: 'channels', value: name, checked: checked.includes(name) }),
          this.configured.has(name) ? channelLabel(name) : `${name} (${t('channel.notConfigured')})`,
        ),
      ),
    );
  }

  clearErrors() {
    clearFormErrors(this.el);
  }

  /**
   * The server's message next to the field it names; else what failed, under the buttons.
   * @param {unknown} err
   * @param {string} action
   */
  showError(err, action) {
    if (err instanceof ApiError && err.code === 'CHANNEL_NOT_SET_UP') {
      // Deleted in another tab since the form opened: said in the page's language, at the channels.
      this.clearErrors();
      const name = this.body().channels?.[Number(/\[(\d+)\]/.exec(err.field ?? '')?.[1])] ?? '';
      this.channelsField.append(
        h('span', { class: 'field-error', role: 'alert', text: t('rule.channel.notSetUp', { c: name }) }),
      );
      return;
    }
    showFormError(this.el, err, action, one(this.el, '.actions', HTMLElement));
  }

  /** An empty form for a new rule. */
  reset() {
    this.editing = null;
    delete this.el.dataset.editing;
    this.el.reset();
    this.showChannels([...this.configured], this.catalogue.rules.defaults.channels);
    this.clearErrors();
    this.testResult.replaceChildren();
    this.picker.search.value = '';
    this.picker.refresh();
    this.picker.select.value = this.metrics[0]?.name ?? '';
    this.picker.select.dispatchEvent(new Event('change'));
    this.andPicker.search.value = '';
    this.andPicker.refresh();
    this.andPicker.select.value = '';
    this.title.textContent = t('rules.add');
    this.sync();
  }

  open() {
    this.el.hidden = false;
    one(this.el, '[name=name]', HTMLInputElement).focus();
    this.el.scrollIntoView({ block: 'start' });
  }

  /**
   * Fills the form with a rule; saving then replaces it (PUT) instead of adding one.
   * @param {RuleAnswer} r
   */
  edit(r) {
    this.editing = r.id;
    this.el.dataset.editing = r.id;
    /**
     * @param {string} name
     * @param {string | number | undefined} v
     */
    const set = (name, v) => {
      const el = this.el.querySelector(`[name="${name}"]`);
      if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) el.value = String(v ?? '');
    };
    set('name', r.name);
    this.picker.search.value = '';
    this.picker.refresh();
    this.picker.select.value = r.metric;
    this.picker.select.dispatchEvent(new Event('change'));
    set('labels', labelsText(r.labels));
    set('op', r.op);
    set('threshold', r.threshold);
    set('consecutiveChecks', r.consecutiveChecks);
    set('for', r.for);
    set('severity', r.severity);
    set('boostLogMinutes', r.boostLogMinutes);
    const { defaults } = this.catalogue.rules;
    set('noData', r.noData ?? defaults.noData);
    set('recoverThreshold', r.recoverThreshold);
    set('keepFiringFor', r.keepFiringFor);
    set('repeatInterval', r.repeatInterval ?? defaults.repeatInterval);
    set('surgeBaseline', r.surgeBaseline);
    set('sampleSeconds', r.sampleSeconds);
    this.andPicker.search.value = '';
    this.andPicker.refresh();
    this.andPicker.select.value = r.and?.metric ?? '';
    this.andPicker.select.dispatchEvent(new Event('change'));
    set('and.labels', labelsText(r.and?.labels));
    set('and.op', r.and?.op ?? this.catalogue.rules.ops[0]);
    set('and.threshold', r.and?.threshold);
    set('and.consecutiveChecks', r.and?.consecutiveChecks);
    set('and.for', r.and?.for);
    const kind = r.perRequest
      ? 'perRequest'
      : r.surgeBaseline
        ? 'surge'
        : r.sampleSeconds !== undefined
          ? 'sample'
          : 'value';
    all(this.el, '[name=kind]', HTMLInputElement).forEach((x) => {
      x.checked = x.value === kind;
    });
    // A rule may name a channel that is not (or no longer) configured: it is listed, and warned about.
    this.showChannels([...this.configured, ...r.channels.filter((c) => !this.configured.has(c))], r.channels);
    one(this.el, '[name=captureRequests]', HTMLInputElement).checked = Boolean(r.captureRequests);
    one(this.el, '[name=enabled]', HTMLInputElement).checked = r.enabled !== false;
    this.title.textContent = `${t('rules.edit')}: ${r.name}`;
    this.sync();
    this.open();
  }
}
