// Alert notices in every open Monitor tab: a firing alert appears at the top of the
// Monitor, in the page's flow (it pushes the cards down, never covers them or the
// Settings button), coloured by severity, with its context (the last ERROR line, GPU
// temperatures, the top client, the request behind a per-request alert, thumbnails of the
// images behind it) until acknowledged from any tab. The newest notice is open; every
// other one is one line (a click opens it), so several notices leave the cards on the
// first screen. A per-request notice is dismissed (each request is its own alert, with no
// state to acknowledge); resolved and test notices fade out by themselves.
import { fmtNumber, h, pageLang } from '../dom.js';
import { fmtDateTime } from '../format.js';
import { summaryParts } from '../shared/alert-summary.js';
import { ruleName, t } from '../i18n.js';
import { acknowledge } from './acknowledge.js';
import { whyFold } from './why.js';

/** @typedef {import('../types.js').AlertPayload} AlertPayload */
/** @typedef {import('../types.js').Notification} Notification */
/** @typedef {import('../types.js').AckNews} AckNews */
/**
 * A notice on screen: the alert, whether it is a test, the operator's click (true/false, else
 * undefined), its element once built, and its "why" fold's state.
 * @typedef {{
 *   alert: AlertPayload,
 *   test: boolean | undefined,
 *   opened: boolean | undefined,
 *   el?: HTMLElement,
 *   why?: import('./why.js').FoldState,
 * }} Entry
 */

/**
 * @param {string} ruleId
 * @param {Record<string, string> | undefined} labels
 */
const key = (ruleId, labels) => `${ruleId}|${JSON.stringify(Object.entries(labels ?? {}).sort())}`;
/** A per-request notice is one request's: two long requests are two notices. */
/**
 * @param {string} ruleId
 * @param {string | number} requestId
 */
const requestKey = (ruleId, requestId) => `${ruleId}|request:${requestId}`;
const FADE_AFTER_MS = 8_000;
const FADE_MS = 1_000;
/** Notices shown at most (the firing list below holds every alert): fewer on a phone's screen. */
const MAX_SHOWN = 4;
const MAX_SHOWN_PHONE = 3;
const PHONE = window.matchMedia('(max-width: 599px)');

export class Popups {
  /**
   * @param {HTMLElement} root
   * @param {(data: Notification | AckNews) => void} [onChange]
   * @param {import('./why.js').UnitOf} [unitOf]
   * @param {((text: string) => void) | null} [onSearch]
   */
  constructor(root, onChange = () => {}, unitOf = () => undefined, onSearch = null) {
    this.root = root;
    /** Runs a log search (a "why" line about a log event links to its lines). */
    this.onSearch = onSearch;
    /** key → { el, alert, test, opened }: `opened` is the operator's click (true/false), else undefined. */
    /** @type {Map<string, Entry>} */
    this.open = new Map();
    this.onChange = onChange;
    this.unitOf = unitOf;
    PHONE.addEventListener('change', () => this.layout());
  }

  /**
   * "latency_ms_p95 = 13.0 s (threshold > 5.00 s)" in the page's language.
   * @param {AlertPayload} a
   */
  summary(a) {
    /** @type {Partial<AlertPayload['context']>} */
    const c = a.context ?? {};
    if (typeof c.threshold !== 'number' || c.op === undefined) return a.summary;
    const { key, params } = summaryParts(
      {
        metric: a.metric,
        unit: this.unitOf(a.metric),
        value: c.value ?? null,
        op: c.op,
        threshold: c.threshold,
        surgeBaseline: c.surgeBaseline,
        resolved: a.status === 'resolved',
        and: c.and && { ...c.and, unit: this.unitOf(c.and.metric) },
      },
      pageLang(),
      t('alert.noData'),
    );
    return t(key, params);
  }

  /** @param {Notification | AckNews} data */
  handle(data) {
    if ('ack' in data) {
      this.close(data.requestId ? requestKey(data.ruleId, data.requestId) : key(data.ruleId, data.labels));
      this.onChange(data);
      return;
    }
    for (const a of data.alerts) this.show(a, data.test);
    this.onChange(data);
  }

  /** @param {string} k */
  close(k) {
    this.open.get(k)?.el?.remove();
    this.open.delete(k);
    this.layout();
  }

  /**
   * Fades a notice out and removes it; nothing waits on it.
   * @param {string} k
   * @param {Entry} entry
   */
  fade(k, entry) {
    setTimeout(() => {
      entry.el?.classList.add('fading');
      setTimeout(() => {
        if (this.open.get(k) === entry) this.close(k);
        else entry.el?.remove();
      }, FADE_MS);
    }, FADE_AFTER_MS);
  }

  /**
   * The newest notice open, the others one line each (unless the operator opened or
   * closed one), and only the newest few at all: the firing list below holds them all.
   */
  layout() {
    const els = [...this.root.querySelectorAll(':scope > .popup')].filter((el) => el instanceof HTMLElement);
    const entries = new Map([...this.open.values()].map((e) => [e.el, e]));
    const max = PHONE.matches ? MAX_SHOWN_PHONE : MAX_SHOWN;
    els.forEach((el, i) => {
      el.hidden = i >= max;
      const opened = entries.get(el)?.opened ?? i === 0;
      el.classList.toggle('collapsed', !opened);
      el.querySelector('.popup-head')?.setAttribute('aria-expanded', String(opened));
    });
    const found = this.root.querySelector(':scope > .more');
    let more = found instanceof HTMLElement ? found : null;
    if (els.length > max) {
      if (!more) {
        more = h('div', { class: 'more muted' });
        this.root.append(more);
      }
      more.textContent = t('alert.more', { n: els.length - max });
    } else found?.remove();
  }

  /** The language changed: every notice on screen is said again in it. */
  relabel() {
    for (const [k, entry] of this.open) {
      const el = this.build(k, entry);
      entry.el?.replaceWith(el);
      entry.el = el;
    }
    this.layout();
  }

  /**
   * @param {AlertPayload} a
   * @param {boolean | undefined} test
   */
  show(a, test) {
    const requestId = a.context?.request?.requestId;
    const k = `${test ? 'test:' : ''}${requestId ? requestKey(a.ruleId, requestId) : key(a.ruleId, a.labels)}`;
    this.open.get(k)?.el?.remove();
    /** @type {Entry} */
    const entry = { alert: a, test, opened: undefined };
    const el = this.build(k, entry);
    entry.el = el;
    this.root.prepend(el);
    this.open.set(k, entry);
    this.layout();
    // A resolved notice replaced its firing one (same key); it fades by itself.
    if (a.status === 'resolved' || test) this.fade(k, entry);
  }

  /**
   * "request 7f3a… · client batch-job" for a per-request alert; null for any other.
   * @param {Record<string, string | number | null> | undefined} r
   */
  requestText(r) {
    if (!r) return null;
    return t('alert.request', { id: r.requestId ?? '—', client: r.client ?? '—' });
  }

  /**
   * One notice: a head line (what, and the value; a click opens or closes it), its context, its button.
   * @param {string} k
   * @param {Entry} entry
   * @returns {HTMLElement}
   */
  build(k, entry) {
    const { alert: a, test } = entry;
    // The "why" fold's state (open, all lines) outlives a rebuild of the notice.
    if (!entry.why) entry.why = { open: false, all: false };
    /** @type {Partial<AlertPayload['context']>} */
    const c = a.context ?? {};
    const lines = [
      `${a.metric} ${Object.entries(a.labels)
        .map(([x, y]) => `${x}=${y}`)
        .join(' ')}`,
      // A log line, as the log prints it (a record: the same in both languages).
      c.lastError ? h('span', { class: 'log-record', text: `⚠ ${c.lastError}` }) : null,
      Object.keys(c.gpuTemperatureCelsius ?? {}).length
        ? `GPU °C: ${Object.entries(c.gpuTemperatureCelsius ?? {})
            .map(([g, v]) => `${g} ${v}`)
            .join(', ')}`
        : null,
      c.topClientLoad
        ? t('alert.topClient', {
            client: c.topClientLoad.client,
            rs: fmtNumber(c.topClientLoad.requestSeconds, 1),
            n: c.topClientLoad.requests,
            w: c.topClientLoad.windowMinutes,
          })
        : c.topClient
          ? `${t('alert.top')}: ${c.topClient}`
          : null,
    ].filter(Boolean);
    const resolved = a.status === 'resolved';
    const perRequest = Boolean(c.request);
    const summary = [this.summary(a), this.requestText(c.request)].filter(Boolean).join(' · ');
    // The notice's value is the one read at the check that sent it (the firing list's is the
    // current one): the notice says when. A firing notice's value is its last breaching
    // check's (a repeat's too, not the start's); a resolve's, the check that resolved it. (A
    // per-request notice's value is its request's, which it names.)
    const readAt = resolved
      ? Date.parse(a.endsAt ?? a.startsAt)
      : (c.breachPoints?.at(-1)?.[0] ?? Date.parse(a.startsAt));
    const asOf = !c.request && Number.isFinite(readAt) ? t('alert.asOf', { time: fmtDateTime(readAt) }) : null;
    const title = `${test ? `[${t('alert.test')}] ` : ''}${resolved ? t('alert.resolved') : t('alert.firing')} · ${t(`severity.${a.severity}`)} · ${ruleName(a.ruleId, a.ruleName)}`;
    const toggle = () => {
      entry.opened = Boolean(entry.el?.classList.contains('collapsed'));
      this.layout();
    };
    const head = h(
      'div',
      {
        class: 'popup-head',
        role: 'button',
        tabindex: '0',
        title: `${title} — ${[summary, asOf].filter(Boolean).join(' · ')}`,
        onclick: toggle,
        onkeydown: (e) => {
          if (e.key !== 'Enter' && e.key !== ' ') return;
          e.preventDefault();
          toggle();
        },
      },
      h('strong', { text: title }),
      h(
        'span',
        { class: 'summary' },
        h('span', { class: 'sentence', text: summary }),
        asOf ? h('span', { class: 'as-of muted', text: ` · ${asOf}` }) : null,
      ),
    );
    let button = null;
    if (resolved || test)
      button = h('button', {
        type: 'button',
        class: 'dismiss',
        text: t('alert.dismiss'),
        onclick: () => this.close(k),
      });
    else if (perRequest)
      button = h('button', {
        type: 'button',
        class: 'dismiss',
        text: t('alert.dismiss'),
        onclick: (ev) =>
          acknowledge(ev.currentTarget, { ...a, requestId: c.request?.requestId }, () => this.close(k), 'dismiss'),
      });
    else
      button = h('button', {
        type: 'button',
        class: 'ack',
        text: t('alert.ack'),
        onclick: (ev) => acknowledge(ev.currentTarget, a, () => this.close(k)),
      });
    return h(
      'div',
      {
        class: `popup ${resolved ? 'resolved' : a.severity}`,
        role: resolved ? 'status' : 'alert',
        dataset: { rule: a.ruleId, ...(perRequest ? { request: String(c.request?.requestId ?? '') } : {}) },
      },
      h('div', { class: 'popup-top' }, head, button),
      h(
        'div',
        { class: 'popup-body' },
        h('pre', {}, ...lines.flatMap((line, i) => (i ? ['\n', line] : [line]))),
        resolved ? null : whyFold(c.why, this.unitOf, this.onSearch, entry.why),
        this.thumbnails(c.samples),
      ),
    );
  }

  /**
   * The lowest-confidence images behind an OCR alert, as small pictures (src set, never markup).
   * @param {import('../../../src/alerts/notifier.js').OcrSampleRef[] | undefined} samples
   */
  thumbnails(samples) {
    if (!Array.isArray(samples) || samples.length === 0) return null;
    const box = h('div', { class: 'samples' });
    for (const s of samples.slice(0, 6)) {
      if (typeof s?.url !== 'string' || !/^(\/|https?:)/.test(s.url)) continue;
      const img = document.createElement('img');
      img.src = s.url;
      img.alt = `${s.imageHash} · ${t('ocr.confidence')} ${fmtNumber(s.confidence, 2)}`;
      img.title = img.alt;
      img.loading = 'lazy';
      box.append(
        h(
          'figure',
          {},
          img,
          h('figcaption', { text: `${String(s.imageHash).slice(0, 8)} · ${fmtNumber(s.confidence, 2)}` }),
        ),
      );
    }
    return box.childElementCount ? box : null;
  }
}
