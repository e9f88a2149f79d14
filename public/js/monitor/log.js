// The rolling log: live lines from the stream, filters by level and module, text search,
// pause/resume, and a click shows a line's full context. At most 1 000 lines stay in
// the page. Every value is text: a line carrying markup shows the characters.
import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const MAX_LINES = 1000;
const LEVELS = ['INFO', 'WARN', 'ERROR'];
const MODULES = ['http', 'vlm', 'gui', 'ocr', 'video', 'gpu', 'alert'];

export function lineText(l) {
  const params = Object.entries(l.params).map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`).join(' ');
  return `[${new Date(l.t).toLocaleTimeString()}] [${l.level}] [${l.module}] [${l.event}]${params ? ` ${params}` : ''}`;
}

export class LogPanel {
  constructor(root) {
    this.root = root;
    this.lines = [];
    this.paused = false;
    this.held = [];
    this.filter = { level: '', module: '', q: '' };
    this.build();
  }

  build() {
    this.list = h('div', { class: 'log-lines', role: 'log' });
    this.pauseBtn = h('button', { type: 'button', onclick: () => this.togglePause() });
    this.levelSel = h('select', { 'aria-label': 'level', onchange: (e) => { this.filter.level = e.target.value; this.redraw(); } });
    this.moduleSel = h('select', { 'aria-label': 'module', onchange: (e) => { this.filter.module = e.target.value; this.redraw(); } });
    this.search = h('input', { type: 'search', oninput: (e) => { this.filter.q = e.target.value.toLowerCase(); this.redraw(); } });
    this.title = h('strong');
    this.root.replaceChildren(h('div', { class: 'toolbar' }, this.title, this.levelSel, this.moduleSel, this.search, this.pauseBtn), this.list);
    this.relabel();
  }

  relabel() {
    this.title.textContent = t('log.title');
    this.search.placeholder = t('log.search');
    this.pauseBtn.textContent = this.paused ? t('log.resume') : t('log.pause');
    this.levelSel.replaceChildren(h('option', { value: '', text: t('log.all') }), ...LEVELS.map((l) => h('option', { value: l, text: `≥ ${l}` })));
    this.levelSel.value = this.filter.level;
    this.moduleSel.replaceChildren(h('option', { value: '', text: t('log.all') }), ...MODULES.map((m) => h('option', { value: m, text: m })));
    this.moduleSel.value = this.filter.module;
  }

  async load() {
    const { lines } = await api('/api/monitor/logs?limit=200');
    this.lines = lines.reverse();
    this.redraw();
  }

  add(line) {
    if (this.paused) {
      this.held.push(line);
      if (this.held.length > MAX_LINES) this.held.shift();
      return;
    }
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.shift();
    if (this.matches(line)) {
      this.list.append(this.row(line));
      while (this.list.childElementCount > MAX_LINES) this.list.firstElementChild.remove();
      this.list.scrollTop = this.list.scrollHeight;
    }
  }

  togglePause() {
    this.paused = !this.paused;
    if (!this.paused) {
      const held = this.held;
      this.held = [];
      held.forEach((l) => this.add(l));
    }
    this.relabel();
  }

  matches(l) {
    const f = this.filter;
    if (f.level && LEVELS.indexOf(l.level) < LEVELS.indexOf(f.level)) return false;
    if (f.module && l.module !== f.module) return false;
    return !f.q || lineText(l).toLowerCase().includes(f.q);
  }

  row(l) {
    const el = h('div', { class: `log-line ${l.level}`, text: lineText(l) });
    el.addEventListener('click', () => {
      const next = el.nextElementSibling;
      if (next?.classList.contains('log-detail')) return next.remove();
      el.after(h('div', { class: 'log-detail', text: JSON.stringify(l, null, 2) }));
    });
    return el;
  }

  redraw() {
    this.list.replaceChildren(...this.lines.filter((l) => this.matches(l)).map((l) => this.row(l)));
    this.list.scrollTop = this.list.scrollHeight;
  }
}
