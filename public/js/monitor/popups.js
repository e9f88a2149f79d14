// Alert notices in every open Monitor tab: a firing alert appears at the top of the
// Monitor, in the page's flow (it pushes the cards down, never covers them or the
// Settings button), coloured by severity, with its context (the last ERROR line, GPU
// temperatures, the top client, thumbnails of the images behind it) until acknowledged
// from any tab. Resolved notices and test notices fade out by themselves.
import { fmtNumber, h } from '../dom.js';
import { fmtValue } from '../format.js';
import { ruleName, t } from '../i18n.js';
import { acknowledge } from './acknowledge.js';

const key = (ruleId, labels) => `${ruleId}|${JSON.stringify(Object.entries(labels ?? {}).sort())}`;
const FADE_AFTER_MS = 8_000;
const FADE_MS = 1_000;
const MAX_SHOWN = 4;

export class Popups {
  constructor(root, onChange = () => {}, unitOf = () => undefined) {
    this.root = root;
    this.open = new Map();
    this.onChange = onChange;
    this.unitOf = unitOf;
  }

  /** "latency_ms_p95 = 13.0 s (threshold > 5.00 s)" in the page's language. */
  summary(a) {
    const c = a.context ?? {};
    if (typeof c.threshold !== 'number') return a.summary;
    // Surge rules compare a change in % against the mean of a baseline window.
    if (c.surgeBaseline && a.status !== 'resolved')
      return t('alert.summary.surge', {
        m: a.metric,
        v: c.value === null || c.value === undefined ? t('alert.noData') : fmtNumber(c.value, 0),
        b: c.surgeBaseline,
        op: c.op,
        th: fmtNumber(c.threshold, 0),
      });
    const unit = this.unitOf(a.metric);
    const value = c.value === null || c.value === undefined ? t('alert.noData') : fmtValue(c.value, unit);
    return a.status === 'resolved'
      ? t('alert.summary.resolved', { m: a.metric, v: value })
      : t('alert.summary', { m: a.metric, v: value, op: c.op, th: fmtValue(c.threshold, unit) });
  }

  handle(data) {
    if (data.ack) {
      this.close(key(data.ruleId, data.labels));
      this.onChange(data);
      return;
    }
    for (const a of data.alerts) this.show(a, data.test);
    this.onChange(data);
  }

  close(k) {
    this.open.get(k)?.remove();
    this.open.delete(k);
    this.trim();
  }

  /** Fades a notice out and removes it; nothing waits on it. */
  fade(k, el) {
    setTimeout(() => {
      el.classList.add('fading');
      setTimeout(() => {
        if (this.open.get(k) === el) this.close(k);
        else el.remove();
      }, FADE_MS);
    }, FADE_AFTER_MS);
  }

  /** Only the newest few stay open; the firing list above holds them all. */
  trim() {
    const els = [...this.root.querySelectorAll(':scope > .popup')];
    els.forEach((el, i) => {
      el.hidden = i >= MAX_SHOWN;
    });
    let more = this.root.querySelector(':scope > .more');
    if (els.length > MAX_SHOWN) {
      if (!more) {
        more = h('div', { class: 'more muted' });
        this.root.append(more);
      }
      more.textContent = t('alert.more', { n: els.length - MAX_SHOWN });
    } else more?.remove();
  }

  show(a, test) {
    const k = `${test ? 'test:' : ''}${key(a.ruleId, a.labels)}`;
    this.open.get(k)?.remove();
    const c = a.context ?? {};
    const lines = [
      `${a.metric} ${Object.entries(a.labels)
        .map(([x, y]) => `${x}=${y}`)
        .join(' ')}`,
      // A log line, as the log prints it (a record: the same in both languages).
      c.lastError ? h('span', { class: 'log-record', text: `⚠ ${c.lastError}` }) : null,
      Object.keys(c.gpuTemperatureCelsius ?? {}).length
        ? `GPU °C: ${Object.entries(c.gpuTemperatureCelsius)
            .map(([g, v]) => `${g} ${v}`)
            .join(', ')}`
        : null,
      c.topClientLoad
        ? t('alert.topClient', {
            client: c.topClientLoad.client,
            gpu: fmtNumber(c.topClientLoad.gpuSeconds, 1),
            n: c.topClientLoad.requests,
            w: c.topClientLoad.windowMinutes,
          })
        : c.topClient
          ? `${t('alert.top')}: ${c.topClient}`
          : null,
    ].filter(Boolean);
    const resolved = a.status === 'resolved';
    const el = h(
      'div',
      {
        class: `popup ${resolved ? 'resolved' : a.severity}`,
        role: resolved ? 'status' : 'alert',
        dataset: { rule: a.ruleId },
      },
      h('strong', {
        text: `${test ? `[${t('alert.test')}] ` : ''}${resolved ? t('alert.resolved') : t('alert.firing')} · ${t(`severity.${a.severity}`)} · ${ruleName(a.ruleId, a.ruleName)}`,
      }),
      h('div', { class: 'summary', text: this.summary(a) }),
      h('pre', {}, ...lines.flatMap((line, i) => (i ? ['\n', line] : [line]))),
      this.thumbnails(c.samples),
      resolved || test
        ? null
        : h('button', {
            type: 'button',
            text: t('alert.ack'),
            onclick: (ev) => acknowledge(ev.currentTarget, a, () => this.close(k)),
          }),
      resolved || test
        ? h('button', { type: 'button', class: 'dismiss', text: t('alert.dismiss'), onclick: () => this.close(k) })
        : null,
    );
    el.notice = [a, test];
    this.root.prepend(el);
    this.open.set(k, el);
    this.trim();
    // A resolved notice replaced its firing one (same key); it fades by itself.
    if (resolved || test) this.fade(k, el);
  }

  /** The language changed: each open notice is drawn again in it, in the same order. */
  relabel() {
    for (const el of [...this.root.querySelectorAll(':scope > .popup')].reverse())
      if (el.notice) this.show(...el.notice);
  }

  /** The lowest-confidence images behind an OCR alert, as small pictures (src set, never markup). */
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
