// The Model Metrics sub-tab: per module (ocr, gui, video, chat) its key figures as cards
// like the overview's (value, colour, change against a calm normal, the lines and the rule
// that set them, sparkline, hover chart, expand), a value no request has fed lately shown
// with its age and greyed, the stage means over the same requests (they add up to the
// total), the model server's gauges and the top clients in request-seconds. One request
// per refresh (GET /api/monitor/model); cards are updated in place.
import { api, messageOf } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { fmtAgainst, fmtAge, fmtChange, fmtDateTime, fmtPercent, fmtValue, serverNow } from '../format.js';
import { metricHelp, reasonText, t, tValue } from '../i18n.js';
import { CardView, SPARK_MS } from './card-view.js';
import { linesText, linesTitle } from './lines.js';
import { showSeries } from './panel.js';

/** @typedef {import('../types.js').ModelCard} ModelCard */
/** @typedef {import('../types.js').ModelAnswer} ModelAnswer */
/** @typedef {NonNullable<import('../types.js').ModuleView['stages']>} Stages */
/** @typedef {import('../../../src/probes/upstream-metrics.js').EngineGauges} EngineGauges */

/** @param {Record<string, string> | undefined} l */
const labelsText = (l) =>
  Object.entries(l ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
/** @param {ModelCard} c */
const cardKey = (c) => `${c.metric}{${labelsText(c.labels)}}`;

/**
 * "normal 700 ms", or why there is none.
 * @param {ModelCard} c
 */
function normalText(c) {
  if (c.noCalmBaseline) return t('normal.none');
  return c.baseline !== null ? t('model.normal', { v: fmtValue(c.baseline, c.unit) }) : null;
}

/**
 * What a Model Metrics card says.
 * @param {ModelCard} c
 * @param {number} at
 * @returns {import('./card-view.js').CardFace}
 */
function modelFace(c, at) {
  const normal = normalText(c);
  const aged = c.stale && c.ageMs !== null;
  return {
    className: `card model-card ${c.stale ? 'stale' : c.status}`,
    title: t(`fig.${c.metric}`),
    metricName: c.metric,
    tooltip: metricHelp({ name: c.metric, help: c.help }),
    number: fmtAgainst(c.value, c.lines, c.unit),
    change: {
      text: c.trend ? t('model.change', { c: fmtChange(c.trend, c.changePercent) }) : '',
      className: `trend ${c.trend ?? ''}`,
      title: c.trend ? t('normal.modelRule') : '',
    },
    facts: normal ? [{ text: normal, className: 'normal' }] : [],
    factsTitle: c.noCalmBaseline ? t('normal.noneTitle') : t('normal.modelRule'),
    lines: linesText(c.lines, c.unit),
    linesTitle: linesTitle(),
    spark: { points: c.spark, from: at - SPARK_MS, to: at },
    status: c.value === null ? t('model.noData') : c.stale ? t('model.stale') : t(`status.${c.status}`),
    age: {
      text: aged ? t('model.age', { age: fmtAge(c.ageMs ?? 0) }) : '',
      title: aged ? fmtDateTime(serverNow() - (c.ageMs ?? 0)) : '',
    },
    reason: '',
    hover: {
      label: `${c.metric} · ${t('chart.last5m')}`,
      series: [{ name: c.metric, points: c.spark }],
      unit: c.unit,
      legend: false,
      height: 160,
    },
  };
}

/**
 * Preprocess, inference, postprocess and the rest as parts of the total: means over the
 * same requests, so they add up; how many requests they are over is said.
 * @param {Stages | null} stages
 * @param {string[]} order
 */
function stageBar(stages, order) {
  if (!stages) return h('p', { class: 'muted small', text: `${t('model.stages')}: ${t('model.noData')}` });
  /** @type {Record<string, number>} */
  const times = stages;
  const parts = [...order, 'other'].filter((s) => times[s] !== null && times[s] !== undefined);
  const sum = stages.total || 1;
  /** @param {string} s */
  const name = (s) => (s === 'other' ? t('stage.other') : tValue('stage', s));
  return h(
    'div',
    { class: 'stages', dataset: { requests: String(stages.requests) } },
    h('div', { class: 'muted small', text: t('stages.title', { n: fmtNumber(stages.requests, 0) }) }),
    h(
      'div',
      { class: 'stage-bar', role: 'img', 'aria-label': t('model.stages') },
      ...parts.map((s) =>
        h('span', { class: `stage ${s}`, style: `flex-grow: ${Math.max(Number(times[s]) / sum, 0.02)}` }),
      ),
    ),
    h(
      'div',
      { class: 'stage-legend' },
      ...parts.flatMap((s, i) => [
        ...(i ? [h('span', { class: 'stage-plus', text: '+' })] : []),
        h('span', { class: `stage-key ${s}`, text: `${name(s)} ${fmtValue(times[s], 'ms')}` }),
      ]),
      h('span', { class: 'stage-total', text: `= ${t('stage.total')} ${fmtValue(stages.total, 'ms')}` }),
    ),
  );
}

export class ModelTab {
  /**
   * catalogue: GET /api/monitor/catalogue (the view's modules and the pipeline's stages).
   * @param {HTMLElement} root
   * @param {HTMLElement} side
   * @param {import('../types.js').Catalogue} catalogue
   */
  constructor(root, side, catalogue) {
    /** @type {ModelAnswer | undefined} the last answer */
    this.data = undefined;
    this.root = root;
    this.side = side;
    this.modules = catalogue.modelView.modules;
    // The stages that add up to the total, in pipeline order.
    this.stages = catalogue.stages.filter((s) => s !== 'total');
    this.module = '';
    /** @type {Map<string, CardView>} */
    this.views = new Map();
    /** @type {Map<string, ModelCard>} each card as last drawn: what its expand button opens */
    this.latest = new Map();
    this.filter = h('select', {
      class: 'module-filter',
      onchange: (e) => {
        this.module = e.currentTarget.value;
        this.draw();
      },
    });
    this.filterLabel = h('span');
    this.rule = h('p', { class: 'muted small baseline-rule' });
    this.sections = new Map(
      this.modules.map((m) => {
        const title = h('h3', {});
        const meta = h('span', { class: 'muted small module-meta' });
        const cards = h('div', { class: 'cards model-cards' });
        const stages = h('div');
        const el = h(
          'section',
          { class: 'module', dataset: { module: m } },
          h('div', { class: 'module-head' }, title, meta),
          cards,
          stages,
        );
        return [m, { el, title, meta, cards, stages }];
      }),
    );
    this.engine = h('div', { class: 'box' });
    this.clients = h('div', { class: 'box' });
    this.root.replaceChildren(
      h('div', { class: 'form-row' }, h('label', { class: 'inline' }, this.filterLabel, this.filter), this.rule),
      ...[...this.sections.values()].map((s) => s.el),
      h('div', { class: 'model-grid' }, this.engine, this.clients),
    );
    this.relabel();
  }

  /**
   * A card's series in the side panel.
   * @param {ModelCard} c
   */
  expand(c) {
    return showSeries(this.side, {
      title: `${t(`fig.${c.metric}`)} · ${cardKey(c)}`,
      lines: [{ name: c.metric, metric: c.metric, labels: c.labels }],
      emptyText: t('model.noData'),
    });
  }

  relabel() {
    this.filterLabel.textContent = t('model.module');
    this.filter.replaceChildren(
      h('option', { value: '', text: t('log.all') }),
      ...this.modules.map((m) => h('option', { value: m, text: tValue('module', m), selected: m === this.module })),
    );
    this.rule.textContent = t('normal.modelRule');
    if (this.data) this.draw();
  }

  async render() {
    try {
      this.data = await api('/api/monitor/model');
    } catch (err) {
      this.rule.textContent = messageOf(err);
      return;
    }
    this.draw();
  }

  draw() {
    const d = this.data;
    if (!d) return;
    for (const m of d.modules) {
      const s = this.sections.get(m.module);
      if (!s) throw new Error(`no section for module ${m.module}`);
      s.el.hidden = Boolean(this.module && this.module !== m.module);
      s.title.textContent = tValue('module', m.module);
      const errors = Object.entries(m.errorsByCode)
        .map(([code, n]) => `${code} ${fmtValue(n, 'per minute')}`)
        .join(' · ');
      s.meta.textContent = [
        m.sharePercent !== null ? t('model.share', { p: fmtNumber(m.sharePercent, 0) }) : null,
        errors ? t('model.errors', { list: errors }) : null,
      ]
        .filter(Boolean)
        .join(' · ');
      for (const c of m.cards) {
        const k = `${m.module}:${cardKey(c)}`;
        this.latest.set(k, c);
        let v = this.views.get(k);
        if (!v) {
          v = new CardView({
            dataset: { metric: c.metric, labels: labelsText(c.labels) },
            withMetricName: true,
            onExpand: () => {
              const latest = this.latest.get(k);
              if (latest) this.expand(latest);
            },
          });
          this.views.set(k, v);
          s.cards.append(v.el);
        }
        v.draw(modelFace(c, d.at));
      }
      s.stages.replaceChildren(stageBar(m.stages, this.stages));
    }
    const e = d.engine;
    // Several engines (vLLM data-parallel, SGLang ranks): a row each under the combined one,
    // which takes the fullest KV cache and sums requests, and says so.
    const many = e.engines && e.engines.length > 1 ? e.engines : [];
    /**
     * @param {string} label
     * @param {EngineGauges} g
     */
    const row = (label, g) =>
      h(
        'tr',
        {},
        ...(many.length ? [h('th', { text: label })] : []),
        ...[
          fmtValue(g.requestsRunning, 'requests'),
          fmtValue(g.requestsWaiting, 'requests'),
          fmtValue(g.kvCacheUsagePercent, '%'),
          fmtValue(g.prefixCacheHitRatePercent, '%'),
        ].map((x) => h('td', { text: x })),
      );
    this.engine.replaceChildren(
      h('h4', { text: t('model.engine') }),
      ...(e.available
        ? [
            h(
              'table',
              {},
              h(
                'tr',
                {},
                ...(many.length ? [h('th', { text: '' })] : []),
                ...['engine.running', 'engine.waiting', 'engine.kv', 'engine.prefix'].map((k) =>
                  h('th', { text: t(k) }),
                ),
              ),
              row(t('engine.all'), e),
              ...many.map((g) => row(t('engine.one', { id: g.id }), g)),
            ),
            ...(many.length
              ? [h('p', { class: 'muted engine-note', text: t('engine.combined', { n: many.length }) })]
              : []),
          ]
        : [h('p', { class: 'muted', text: reasonText(e) || '—' })]),
    );
    // Request-seconds add up; their share of the GPUs' measured busy time is GPU time.
    const gpu = d.clients.some((c) => c.gpuBusySeconds !== null);
    const heads = [
      'clients.client',
      'clients.requestSeconds',
      'clients.share',
      ...(gpu ? ['clients.gpuShare'] : []),
      'clients.requests',
      'clients.errors',
    ];
    this.clients.replaceChildren(
      h('h4', { text: t('model.clients') }),
      ...(d.clients.length
        ? [
            h(
              'table',
              { class: 'top-clients' },
              h('tr', {}, ...heads.map((k) => h('th', { text: t(k) }))),
              ...d.clients.map((c) =>
                h(
                  'tr',
                  {},
                  h('td', { text: c.client }),
                  h('td', { text: fmtNumber(c.requestSeconds, 1) }),
                  h('td', { text: fmtPercent(c.sharePercent) }),
                  ...(gpu ? [h('td', { text: c.gpuBusySeconds === null ? '—' : fmtNumber(c.gpuBusySeconds, 1) })] : []),
                  h('td', { text: fmtNumber(c.requests, 0) }),
                  h('td', { text: fmtNumber(c.errors, 0) }),
                ),
              ),
            ),
            h('p', { class: 'muted small clients-note', text: t('clients.note') }),
          ]
        : [h('p', { class: 'muted', text: t('model.noData') })]),
    );
  }
}
