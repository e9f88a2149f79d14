// The log under the cards: live lines from the stream; level and module filters and a
// search (`WARN ocr`, `ERROR vlm`, `image_hash=ab3f`, free text) that runs on the server
// over the whole ring and answers with its lines by event, each a filter. The stream
// holds still while lines are read (search results, a line scrolled back to or opened):
// new ones are counted ("12 new lines, paused — resume") until the operator resumes. A
// click shows a line's values and the lines before and after it of the same request,
// client or module. An empty log says how INFO lines are sampled and can keep them all
// for a while. At most 1 000 lines stay in the page; every value is text (textContent).
import { api, messageOf } from '../api.js';
import { fmtNumber, h } from '../dom.js';
import { fmtDateTime, fmtTime } from '../format.js';
import { logKeyLabel, t } from '../i18n.js';
// The server's own modules (src/log/), compiled: the live search is the server's search.
import { formatLine, formatValue } from '../shared/log-format.js';
import { isEmptySearch, matchesSearch, parseLogSearch } from '../shared/log-search.js';
import { countLive, plural, summaryItems } from './log-summary.js';

/** @typedef {import('../types.js').LogLine} LogLine */
/** @typedef {import('../types.js').LogsAnswer} LogsAnswer */

const MAX_LINES = 1000;
/** The line each row of the list shows (its detail and context are asked by it). */
/** @type {WeakMap<Element, LogLine>} */
const LINE_OF_ROW = new WeakMap();
const SEARCH_DELAY_MS = 250;
/** Scrolled further than this from the newest line, the operator is reading older ones. */
const READING_PX = 24;

/**
 * In the page's one time format (format.js): `18:03:01 WARN ocr Image preproc failed reason="…" image_hash=ab3f…`
 * @param {LogLine} l
 */
export function lineText(l) {
  return `${fmtTime(l.t)} ${formatLine(l)}`;
}

export class LogPanel {
  /**
   * lists: the catalogue's `log` ({ levels, modules }), which the filters offer.
   * @param {HTMLElement} root
   * @param {import('../types.js').Catalogue['log']} lists
   */
  constructor(root, { levels, modules }) {
    this.root = root;
    /** @type {string[]} */
    this.levels = levels;
    /** @type {string[]} */
    this.modules = modules;
    /** @type {LogLine[]} */
    this.lines = [];
    /** Paused with the button. */
    this.paused = false;
    /** Lines are being read (search results, a line scrolled back to or opened): the stream holds still. */
    this.reading = false;
    /** A search is on its way: what arrives meanwhile waits for its answer. */
    this.asking = false;
    /** Live lines that match, held while the stream holds still; `heldDropped` past MAX_LINES. */
    /** @type {LogLine[]} */
    this.held = [];
    this.heldDropped = 0;
    this.filter = { level: '', module: '', q: '' };
    /** @type {LogLine[]} */
    this.pending = [];
    this.frame = 0;
    this.search = parseLogSearch('', modules);
    /** @type {Partial<LogsAnswer> | null} */
    this.info = null; // sampling and search counts from the server
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {string | undefined} the query last sent */
    this.lastAsked = undefined;
    /** @type {number | null | undefined} the line whose detail is open */
    this.openSeq = undefined;
    this.list = h('div', { class: 'log-lines', role: 'log' });
    // One listener for a thousand lines.
    /** @param {Event} e */
    const lineOf = (e) => (e.target instanceof Element ? e.target.closest('.log-lines > .log-line') : null);
    this.list.addEventListener('click', (e) => {
      const el = lineOf(e);
      if (el) this.toggle(el);
    });
    this.list.addEventListener('keydown', (e) => {
      const el = lineOf(e);
      if (el && e.key === 'Enter') this.toggle(el);
    });
    // Scrolling back to older lines is reading them: new ones stop pushing them away.
    this.list.addEventListener('scroll', () => {
      const fromBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight;
      if (fromBottom > READING_PX) this.holdStill();
    });
    this.heldBar = h('button', { type: 'button', class: 'log-held', hidden: true, onclick: () => this.resume() });
    this.summary = h('div', { class: 'log-summary', hidden: true });
    this.pauseBtn = h('button', { type: 'button', class: 'pause', onclick: () => this.togglePause() });
    this.levelSel = h('select', {
      onchange: (e) => {
        this.filter.level = e.currentTarget.value;
        void this.query();
      },
    });
    this.moduleSel = h('select', {
      onchange: (e) => {
        this.filter.module = e.currentTarget.value;
        void this.query();
      },
    });
    this.searchBox = h('input', {
      type: 'search',
      class: 'log-search',
      oninput: (e) => {
        this.filter.q = e.currentTarget.value;
        this.scheduleQuery();
      },
    });
    this.searchBox.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        clearTimeout(this.timer);
        void this.query();
      }
    });
    this.title = h('strong');
    this.status = h('span', { class: 'log-status muted' });
    this.sampling = h('span', { class: 'log-sampling muted' });
    this.root.replaceChildren(
      h('div', { class: 'toolbar' }, this.title, this.levelSel, this.moduleSel, this.searchBox, this.pauseBtn),
      h('div', { class: 'log-meta' }, this.status, this.sampling),
      this.summary,
      h('div', { class: 'log-view' }, this.list, this.heldBar),
    );
    this.relabel();
  }

  relabel() {
    this.title.textContent = t('log.title');
    this.searchBox.placeholder = t('log.search');
    this.searchBox.setAttribute('aria-label', t('log.search'));
    this.levelSel.setAttribute('aria-label', t('log.level'));
    this.moduleSel.setAttribute('aria-label', t('log.module'));
    this.drawPause();
    this.levelSel.replaceChildren(
      h('option', { value: '', text: t('log.allLevels') }),
      ...this.levels.map((l) => h('option', { value: l, text: `≥ ${l}` })),
    );
    this.levelSel.value = this.filter.level;
    this.moduleSel.replaceChildren(
      h('option', { value: '', text: t('log.allModules') }),
      ...this.modules.map((m) => h('option', { value: m, text: m })),
    );
    this.moduleSel.value = this.filter.module;
    this.drawMeta();
    this.drawSummary();
    if (this.list.querySelector('.log-empty')) this.redraw();
    // An open line's labels are the page's words too.
    const open = this.list.querySelector(':scope > .log-detail');
    const openLine = open?.previousElementSibling ? LINE_OF_ROW.get(open.previousElementSibling) : undefined;
    if (open && openLine) open.replaceWith(this.detail(openLine));
  }

  /** The pause button and the count of lines waiting, as the stream now is. */
  drawPause() {
    this.pauseBtn.textContent = this.holding ? t('log.resume') : t('log.pause');
    this.pauseBtn.setAttribute('aria-pressed', String(this.holding));
    this.drawHeld();
  }

  /** Whether new lines wait instead of joining the list. */
  get holding() {
    return this.paused || this.reading;
  }

  get filtered() {
    return Boolean(this.filter.level || this.filter.module || !isEmptySearch(this.search));
  }

  async load() {
    await this.query();
  }

  scheduleQuery() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.query(), SEARCH_DELAY_MS);
  }

  /**
   * Asks the server: the whole ring is searched there, not only what this page holds, and
   * its answer counts every match by event. Search results are read: the stream holds still.
   */
  async query() {
    this.search = parseLogSearch(this.filter.q, this.modules);
    const params = new URLSearchParams({ limit: this.filtered ? '500' : '200' });
    if (this.filter.level) params.set('level', this.filter.level);
    if (this.filter.module) params.set('module', this.filter.module);
    if (this.filter.q.trim()) params.set('q', this.filter.q.trim());
    const asked = params.toString();
    this.lastAsked = asked;
    this.asking = true;
    try {
      /** @type {LogsAnswer} */
      const r = await api(`/api/monitor/logs?${params}`);
      if (this.lastAsked !== asked) return; // a newer search is on its way
      this.asking = false;
      this.info = r;
      this.lines = r.lines.reverse();
      this.reading = this.filtered;
      // Lines that came while asking: new only if the answer does not have them.
      this.held = this.held.filter((l) => l.seq > (r.newestSeq ?? 0) && this.matches(l));
      this.heldDropped = 0;
      this.redraw();
      this.drawSummary();
      this.drawPause();
      if (!this.holding) this.release();
    } catch (err) {
      if (this.lastAsked === asked) this.asking = false;
      this.status.textContent = messageOf(err);
      this.status.hidden = false;
    }
  }

  /**
   * A live line: drawn with the others of the same frame (one layout, not one per line).
   * @param {LogLine} line
   */
  add(line) {
    if (!this.matches(line)) return;
    if (this.holding || this.asking) {
      this.held.push(line);
      if (this.held.length > MAX_LINES) {
        this.held.shift();
        this.heldDropped++;
      }
      this.drawHeld();
      return;
    }
    this.pending.push(line);
    if (this.pending.length > MAX_LINES) this.pending.shift();
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    // Lines that waited for this frame from before the search changed must match the new one.
    const fresh = this.pending.filter((l) => this.matches(l));
    this.pending = [];
    if (fresh.length === 0) return;
    this.lines.push(...fresh);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    if (this.info && this.filtered) {
      this.info.matched = Number(this.info.matched) + fresh.length;
      // The summary keeps adding up to the lines matched.
      if (this.info.summary) {
        for (const l of fresh) countLive(this.info.summary, l);
        this.drawSummary();
      }
    }
    this.list.querySelector('.log-empty')?.remove();
    const rows = document.createDocumentFragment();
    for (const l of fresh.slice(-MAX_LINES)) rows.append(this.row(l));
    this.list.append(rows);
    let extra = this.list.childElementCount - MAX_LINES;
    while (extra-- > 0) this.list.firstElementChild?.remove();
    this.list.scrollTop = this.list.scrollHeight;
    this.drawMeta();
  }

  togglePause() {
    if (this.holding) this.resume();
    else {
      this.paused = true;
      this.drawPause();
    }
  }

  /** The operator is reading: new lines wait (and are counted) instead of moving the list. */
  holdStill() {
    if (this.reading) return;
    this.reading = true;
    this.drawPause();
  }

  /**
   * Back to live. Search results are asked again (their lines and counts by event stay the
   * server's, over the whole ring); otherwise the held lines join the list.
   */
  resume() {
    this.paused = false;
    this.reading = false;
    if (this.filtered || this.heldDropped) {
      void this.query();
      return;
    }
    this.release();
    this.drawPause();
  }

  /** Held lines join the list. */
  release() {
    const held = this.held;
    this.held = [];
    this.heldDropped = 0;
    for (const l of held) this.add(l);
    this.drawHeld();
  }

  /** "12 new lines, paused — resume" over the list while lines wait. */
  drawHeld() {
    const n = this.held.length + this.heldDropped;
    this.heldBar.hidden = !(this.holding && n > 0);
    if (!this.heldBar.hidden) this.heldBar.textContent = plural('log.held', n, { n: fmtNumber(n, 0) });
  }

  /**
   * The search's lines by event, counted by the server over every match: each entry narrows
   * the search to it (a click again widens it back); the events past twelve are "other".
   */
  drawSummary() {
    const s = this.info?.summary;
    const show = Boolean(s && this.filtered && s.events.length);
    this.summary.hidden = !show;
    this.summary.replaceChildren(
      ...(show && s ? summaryItems(s, this.search.events, this.filter.q, (q) => this.setSearch(q)) : []),
    );
  }

  /**
   * Runs a search the page asks for (a click on the summary), as if typed.
   * @param {string} text
   */
  setSearch(text) {
    this.searchBox.value = text;
    this.filter.q = text;
    clearTimeout(this.timer);
    void this.query();
  }

  /** @param {LogLine} l */
  matches(l) {
    const f = this.filter;
    if (f.level && this.levels.indexOf(l.level) < this.levels.indexOf(f.level)) return false;
    if (f.module && l.module !== f.module) return false;
    return matchesSearch(l, this.search);
  }

  /**
   * A line as text; clicks are handled once for the whole list (see the constructor).
   * @param {LogLine} l
   */
  row(l) {
    const el = document.createElement('div');
    el.className = `log-line ${l.level}`;
    el.textContent = lineText(l);
    el.tabIndex = 0;
    el.dataset.seq = String(l.seq);
    LINE_OF_ROW.set(el, l);
    return el;
  }

  /** @param {Element} el a row of the list */
  toggle(el) {
    const next = el.nextElementSibling;
    if (next?.classList.contains('log-detail')) {
      this.openSeq = null;
      next.remove();
      return;
    }
    const line = LINE_OF_ROW.get(el);
    if (!line) return;
    this.openSeq = line.seq;
    el.after(this.detail(line));
    this.holdStill(); // an open line is being read
  }

  /**
   * A line's values, one per row, and buttons for its context.
   * @param {LogLine} l
   */
  detail(l) {
    const box = h('div', { class: 'log-detail' });
    const values = h(
      'div',
      { class: 'log-values' },
      // The line's own words (event, values) are a record, the same in both languages; the
      // labels are the page's: a value's name in words, its key (as searched) on hover.
      h(
        'div',
        {},
        `${fmtDateTime(l.t)} · ${l.level} · ${l.module} · `,
        h('span', { class: 'log-record', text: l.event }),
      ),
      ...Object.entries(l.params).map(([k, v]) =>
        h(
          'div',
          {},
          h('span', { class: 'muted log-key', title: k, text: `${logKeyLabel(k)} ` }),
          h('span', { class: 'log-record', text: typeof v === 'string' ? v : formatValue(v) }),
        ),
      ),
    );
    const ctx = h('div', { class: 'log-context' });
    const requestId = l.params.requestId ?? l.params.request_id;
    /** @type {[string, string][]} */
    const choices = [];
    if (requestId !== undefined && requestId !== null) choices.push(['request', t('log.ctx.request')]);
    if (l.params.client) choices.push(['client', t('log.ctx.client')]);
    choices.push(['module', t('log.ctx.module', { m: l.module })]);
    const buttons = choices.map(([by, label]) =>
      h('button', {
        type: 'button',
        dataset: { by },
        text: label,
        onclick: (e) => {
          e.stopPropagation();
          void this.showContext(l, by, ctx);
        },
      }),
    );
    box.append(
      values,
      h('div', { class: 'log-ctx-buttons' }, h('span', { class: 'muted', text: t('log.ctx.title') }), ...buttons),
      ctx,
    );
    box.addEventListener('click', (e) => e.stopPropagation());
    return box;
  }

  /**
   * @param {LogLine} l
   * @param {string} by
   * @param {HTMLElement} target
   */
  async showContext(l, by, target) {
    try {
      /** @type {import('../types.js').LogContextAnswer} */
      const r = await api(`/api/monitor/logs/${l.seq}/context?by=${by}&before=10&after=10`);
      target.replaceChildren(
        h('div', {
          class: 'muted',
          text: t('log.ctx.showing', { n: r.lines.length, by: t(`log.ctx.${by}.word`), v: r.value }),
        }),
        ...r.lines.map((x) =>
          h('div', { class: `log-line ${x.level}${x.seq === l.seq ? ' current' : ''}`, text: lineText(x) }),
        ),
      );
    } catch (err) {
      target.replaceChildren(h('div', { class: 'error', text: messageOf(err) }));
    }
  }

  drawMeta() {
    const i = this.info;
    if (!i) return;
    this.status.textContent = this.filtered
      ? t('log.matches', { n: fmtNumber(i.matched, 0), m: fmtNumber(i.scanned, 0) })
      : '';
    this.status.hidden = !this.status.textContent;
    const sampling = i.boostedUntil
      ? t('log.boosted', { until: fmtDateTime(i.boostedUntil) })
      : t('log.sampled', { p: fmtNumber(Number(i.configuredSampleRate) * 100, 0) });
    // Lines a stalled log shipper did not take: still here, missing from stdout.
    this.sampling.textContent = i.stdoutDropped
      ? `${sampling} · ${t('log.stdoutDropped', { n: fmtNumber(i.stdoutDropped, 0) })}`
      : sampling;
  }

  /** The empty log: why it may be empty, and a way to keep every INFO line for a while. */
  empty() {
    /** @type {Partial<LogsAnswer>} */
    const i = this.info ?? { configuredSampleRate: 0.1 };
    const minutes = h('input', {
      type: 'number',
      min: 1,
      max: 1440,
      value: 10,
      class: 'boost-minutes',
      'aria-label': t('log.boost.minutes'),
    });
    const note = h('span', { class: 'muted' });
    const boost = h('button', {
      type: 'button',
      class: 'boost',
      text: t('log.boost.button'),
      onclick: async () => {
        try {
          /** @type {import('../types.js').BoostAnswer} */
          const r = await api('/api/monitor/logs/boost', { body: { minutes: Number(minutes.value) } });
          this.info = { ...(this.info ?? {}), boostedUntil: r.until };
          note.textContent = t('log.boosted', { until: fmtDateTime(r.until) });
          this.drawMeta();
        } catch (err) {
          note.textContent = messageOf(err);
        }
      },
    });
    return h(
      'div',
      { class: 'log-empty' },
      h('p', { text: this.filtered ? t('log.noMatch') : t('log.empty') }),
      h('p', { text: t('log.samplingNote', { p: fmtNumber(Number(i.configuredSampleRate) * 100, 0) }) }),
      h(
        'p',
        { class: 'form-row' },
        h('label', { class: 'inline' }, t('log.boost.before'), minutes, t('log.boost.after')),
        boost,
        note,
      ),
    );
  }

  redraw() {
    // A line the operator opened stays open when new results arrive.
    const rows = this.lines.flatMap((l) => (l.seq === this.openSeq ? [this.row(l), this.detail(l)] : [this.row(l)]));
    this.list.replaceChildren(...(rows.length ? rows : [this.empty()]));
    this.list.scrollTop = this.list.scrollHeight;
    this.drawMeta();
  }
}
