// The firing-alerts list at the top of the Monitor: loaded when the Monitor opens (so an
// alert that fired before the tab was opened is there), kept live from the stream and
// refreshed at each check while anything fires. Each row: severity, rule, where, value,
// since when, acknowledge, and what changed with it (a "Why" fold). The Monitor tab's link carries the count. On a phone each
// row is one line (severity, rule, value, acknowledge) and a tap on it shows the rest, so
// a few firing alerts leave the cards on the first screen.
import { api } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { agoProps, fmtAgo, fmtBeside, fmtWithSecond } from '../format.js';
import { ruleName, t } from '../i18n.js';
import { acknowledge } from './acknowledge.js';
import { whyFold } from './why.js';

/** @typedef {import('../types.js').ActiveAlert} ActiveAlert */
/** @typedef {import('../types.js').RuleAnswer} RuleAnswer */

/** @type {Record<string, number>} */
const ORDER = { critical: 0, warning: 1, info: 2 };
/** @param {Record<string, string> | undefined} labels */
const labelsText = (labels) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export class FiringList {
  /**
   * metrics: the catalogue's, for each metric's unit; onSearch(text) runs a log search.
   * @param {HTMLElement} root
   * @param {Element | null} tabLink
   * @param {import('../types.js').CatalogueMetric[]} metrics
   * @param {((text: string) => void) | null} [onSearch]
   */
  constructor(root, tabLink, metrics, onSearch = null) {
    this.onSearch = onSearch;
    this.root = root;
    this.tabLink = tabLink;
    /** @type {ActiveAlert[]} */
    this.alerts = [];
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.pending = null;
    /** False until the list has loaded once: the first load may fail (the server restarting). */
    this.loaded = false;
    /** @type {Map<string, RuleAnswer>} */
    this.rules = new Map();
    /** Rows a tap opened (phones), by rule and labels: kept across the list's refreshes. */
    /** @type {Set<string>} */
    this.opened = new Set();
    /** Each row's "why" fold (open, all lines shown), by rule and labels: kept likewise. */
    /** @type {Map<string, import('./why.js').FoldState>} */
    this.folds = new Map();
    this.units = new Map(metrics.map((m) => [m.name, m.unit]));
    /** Loads begun, and the one whose answer is shown: an older answer never replaces a newer. */
    this.asked = 0;
    this.shown = 0;
    /**
     * Acknowledgements the stream brought, numbered: one that arrives while a load's answer is
     * on its way may be newer than that answer, which would otherwise take it back.
     * @type {Array<{ n: number, ack: import('../types.js').AckNews }>}
     */
    this.acks = [];
  }

  /** Active alerts, with each rule's metric and unit to print the value. */
  async load() {
    const n = ++this.asked;
    /** @type {Promise<{ alerts: ActiveAlert[] }>} */
    const active = api('/api/monitor/alerts/active');
    /** @type {Promise<{ rules: RuleAnswer[] }>} */
    const ruleList = api('/api/monitor/alerts/rules');
    const [{ alerts }, { rules }] = await Promise.all([active, ruleList]);
    if (n < this.shown) return;
    this.shown = n;
    this.rules = new Map(rules.map((r) => [r.id, r]));
    this.alerts = alerts.filter((a) => a.state === 'firing' || a.state === 'pending');
    this.loaded = true;
    // Acks that came while this answer was on its way: shown at once (no "Acknowledge"
    // button flickering back), and the list asked again, the server's word being the last.
    const late = this.acks.filter((a) => a.n >= n);
    this.acks = this.acks.filter((a) => a.n > n);
    for (const { ack } of late) this.mark(ack);
    this.render();
    if (late.length) this.refresh();
  }

  /** A stream message changed something: ask again (a burst of messages asks once). */
  refresh() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.load().catch(() => {});
    }, 100);
  }

  /** At each check: values and ages move while something fires. */
  /** A check went by: alerts may have moved on; a list that could not load at first tries again. */
  onSnapshot() {
    if (this.alerts.length || !this.loaded) this.refresh();
  }

  /** @param {import('../types.js').AckNews} ack */
  acknowledged(ack) {
    // Only the loads begun before it came (numbered ≤ asked) can have missed it.
    if (this.asked > this.shown) this.acks.push({ n: this.asked, ack });
    if (this.mark(ack)) this.render();
  }

  /**
   * @param {import('../types.js').AckNews} ack
   * @returns {boolean} whether a listed alert took it
   */
  mark(ack) {
    const a = this.alerts.find((x) => x.ruleId === ack.ruleId && labelsText(x.labels) === labelsText(ack.labels));
    if (a) a.acknowledgedBy = ack.by;
    return Boolean(a);
  }

  render() {
    const firing = this.alerts
      .filter((a) => a.state === 'firing')
      .sort(
        (a, b) => (ORDER[a.severity] ?? 3) - (ORDER[b.severity] ?? 3) || Number(a.firingSince) - Number(b.firingSince),
      );
    const pending = this.alerts.filter((a) => a.state === 'pending');
    this.badge(firing.length);
    this.root.hidden = firing.length === 0 && pending.length === 0;
    this.root.className = `firing ${firing[0]?.severity ?? 'pending'}`;
    if (this.root.hidden) return this.root.replaceChildren();
    const rows = firing.map((a) => {
      const rule = this.rules.get(a.ruleId);
      const unit = rule ? this.units.get(rule.metric) : undefined;
      const where = labelsText(a.labels);
      // No reading at this check: the last value that breached says what fired.
      const value = a.value ?? a.breachPoints?.at(-1)?.[1] ?? null;
      const rowKey = `${a.ruleId}|${where}`;
      const firstText = rule?.surgeBaseline
        ? t('firing.surge', { p: fmtNumber(value ?? 0, 0), base: rule.surgeBaseline })
        : fmtBeside(value, rule?.threshold, unit);
      // An AND rule fires on both: the second condition's value beside the first's.
      const valueText = fmtWithSecond(firstText, rule?.and, a.andValue ?? null, (m) => this.units.get(m));
      const li = h(
        'li',
        {
          class: `firing-row ${a.severity}${this.opened.has(rowKey) ? ' open' : ''}`,
          dataset: { rule: a.ruleId },
        },
        h('span', { class: `sev ${a.severity}`, text: t(`severity.${a.severity}`) }),
        h('span', {
          class: 'rule',
          text: ruleName(a.ruleId, a.ruleName),
          title: [ruleName(a.ruleId, a.ruleName), where].filter(Boolean).join(' · '),
          onclick: () => {
            if (!this.opened.delete(rowKey)) this.opened.add(rowKey);
            li.classList.toggle('open', this.opened.has(rowKey));
          },
        }),
        where ? h('span', { class: 'where muted', text: where }) : null,
        h(
          'span',
          // A phone cuts a long value (a surge's) with an ellipsis: the whole of it on hover.
          { class: 'val', title: valueText },
          rule?.metric ? h('span', { class: 'metric', text: `${rule.metric} ` }) : null,
          valueText,
        ),
        // "fired 2 min ago", the time it fired on hover.
        h('span', {
          class: 'since muted',
          ...agoProps(a.firingSince),
          text: t('firing.since', { ago: fmtAgo(a.firingSince) }),
        }),
        // What changed with it: "Why" in the row while closed, its lines under the row when
        // open (a phone shows it once the row is opened).
        whyFold(a.why, (metric) => this.units.get(metric), this.onSearch, this.foldState(rowKey), true),
        a.acknowledgedBy
          ? h('span', { class: 'acked muted', text: t('firing.acked', { by: a.acknowledgedBy }) })
          : h('button', {
              type: 'button',
              class: 'ack',
              text: t('alert.ack'),
              onclick: (ev) => acknowledge(ev.currentTarget, a),
            }),
      );
      return li;
    });
    const shown = new Set(firing.map((a) => `${a.ruleId}|${labelsText(a.labels)}`));
    for (const key of this.folds.keys()) if (!shown.has(key)) this.folds.delete(key);
    this.root.replaceChildren(
      h(
        'div',
        { class: 'firing-head' },
        h('strong', { text: t('firing.title', { n: firing.length }) }),
        pending.length ? h('span', { class: 'muted', text: t('firing.pending', { n: pending.length }) }) : null,
      ),
      // (No list while only pending: it was a null here, which replaceChildren wrote as the text "null".)
      ...(firing.length ? [h('ul', { class: 'firing-rows' }, ...rows)] : []),
    );
  }

  /** @param {string} rowKey */
  foldState(rowKey) {
    let state = this.folds.get(rowKey);
    if (!state) {
      state = { open: false, all: false };
      this.folds.set(rowKey, state);
    }
    return state;
  }

  /** @param {number} n */
  badge(n) {
    if (!this.tabLink) return;
    const found = this.tabLink.querySelector('.badge');
    if (!n) return found?.remove();
    let b = found instanceof HTMLElement ? found : null;
    if (!b) {
      b = h('span', { class: 'badge' });
      this.tabLink.append(b);
    }
    b.textContent = String(n);
    b.title = t('firing.title', { n });
  }
}
