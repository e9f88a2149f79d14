// The host strip under the cards: CPU load, host memory, disk IO wait, the load average
// and the event loop's worst stall, coloured by their thresholds, with the change against
// the baseline. Status in words beside anything that is not fine: colour is never the
// only sign. Hovering an item draws its last 5 minutes; a click opens its full series.
// Lines break where checks were missed, so a blind stretch shows as a gap.
import { fmtNumber, h } from '../dom.js';
import { fmtChange, fmtDuration, fmtPercent, fmtTime } from '../format.js';
import { t } from '../i18n.js';
import { breakGaps, lineChart } from './chart.js';
import { showSeries } from './panel.js';

/** @typedef {import('../types.js').HostItem} HostItem */
/** @typedef {import('../types.js').Snapshot} Snapshot */

/**
 * More than one and a half check intervals without a point is a missed check.
 * @param {Snapshot} snapshot
 */
const gapOf = (snapshot) => snapshot.intervalMs * 1.5;

/** @param {HostItem} item */
const valueText = (item) => (item.value === null ? '—' : figureText(item, item.value));

/**
 * One of the item's figures as its value is printed.
 * @param {HostItem} item
 * @param {number} v
 */
function figureText(item, v) {
  if (item.id === 'load') return fmtNumber(v, 2);
  if (item.id === 'event_loop') return fmtDuration(v);
  return fmtPercent(v);
}

/**
 * What the arrow is measured against, on hover, as the cards' arrows say it: the normal and
 * the item's own flat band (an IO wait of 0.6 % against 0.5 % is → by its 1 % band, though
 * 20 % up).
 * @param {HostItem} item
 */
function changeTitle(item) {
  if (item.noCalmBaseline) return t('host.noneTitle');
  if (item.baseline === null) return '';
  const rule = item.trendRule;
  return t('host.trendTitle', {
    base: figureText(item, item.baseline),
    delta: figureText(item, rule.minDelta ?? 0),
    pct: rule.flatPercent,
  });
}

/**
 * @param {number | null | undefined} v
 * @returns {v is number}
 */
const known = (v) => v !== null && v !== undefined;

/** @param {HostItem} item */
function detailText(item) {
  /** @type {Record<string, number | null>} */
  const d = item.detail ?? {};
  if (item.id === 'memory' && known(d.usedMiB))
    return `${fmtNumber(d.usedMiB / 1024, 1)} / ${fmtNumber(Number(d.totalMiB) / 1024, 1)} GiB`;
  if (item.id === 'load' && known(d.load5m))
    return `5m ${fmtNumber(d.load5m, 2)} · 15m ${fmtNumber(d.load15m, 2)}${d.cpus ? ` · ${t('host.cpus', { n: d.cpus })}` : ''}`;
  if (item.id === 'io_wait' && known(d.ioPressureSomeAvg10)) return `PSI ${fmtNumber(d.ioPressureSomeAvg10, 1)} %`;
  if (item.id === 'event_loop') {
    // The worst stall of the last 10 minutes stays in view after the loop is free again.
    const parts = [];
    if (known(d.p99Ms)) parts.push(`P99 ${fmtDuration(d.p99Ms)}`);
    if (known(d.worstMs)) parts.push(t('host.event_loop.worst', { v: fmtDuration(d.worstMs), at: fmtTime(d.worstAt) }));
    return parts.join(' · ');
  }
  return '';
}

class HostItemView {
  /**
   * @param {HostStrip} owner
   * @param {HostItem['id']} id
   */
  constructor(owner, id) {
    this.owner = owner;
    this.id = id;
    /** @type {HostItem | undefined} */
    this.item = undefined;
    /** @type {Snapshot | undefined} */
    this.snapshot = undefined;
    /** @type {{ box: HTMLElement, chart: import('./chart.js').LineChart } | null} */
    this.hover = null;
    this.label = h('span', { class: 'label' });
    this.value = h('span', { class: 'hv' });
    this.change = h('span', { class: 'trend' });
    this.status = h('span', { class: 'hstatus' });
    this.detail = h('span', { class: 'hdetail muted' });
    this.el = h(
      'div',
      { class: 'host-item', dataset: { host: id }, tabindex: 0, role: 'button' },
      this.label,
      this.value,
      this.change,
      this.status,
      this.detail,
    );
    this.el.addEventListener('mouseenter', () => this.openHover());
    this.el.addEventListener('mouseleave', () => this.closeHover());
    this.el.addEventListener('click', () => this.expand());
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.expand();
      }
    });
  }

  /**
   * @param {HostItem} item
   * @param {Snapshot} snapshot
   */
  update(item, snapshot) {
    this.item = item;
    this.snapshot = snapshot;
    this.el.className = `host-item ${item.status}`;
    this.label.textContent = t(`host.${item.id}`);
    this.value.textContent = valueText(item);
    this.change.textContent = fmtChange(item.trend, item.changePercent);
    this.change.title = changeTitle(item);
    this.status.textContent = item.status === 'warn' || item.status === 'crit' ? t(`status.${item.status}`) : '';
    this.detail.textContent = detailText(item);
    const unavailable = item.value === null ? ` · ${t('status.unavailable')}` : '';
    this.el.title = `${item.metric}${unavailable} · ${t('host.expand', { name: t(`host.${item.id}`) })}`;
    if (this.hover) this.hover.chart.update(this.lines());
  }

  /** @returns {import('./chart.js').ChartSeries[]} */
  lines() {
    const { item, snapshot } = this;
    if (!item || !snapshot) return [];
    return [{ name: t(`host.${this.id}`), points: breakGaps(item.spark ?? [], gapOf(snapshot)) }];
  }

  openHover() {
    if (!this.item?.spark?.length || this.hover) return;
    const caption = `${t(`host.${this.id}`)} · ${t('chart.last5m')}`;
    const box = h(
      'div',
      { class: 'hover-chart', role: 'img', 'aria-label': caption },
      h('div', { class: 'muted small', text: caption }),
    );
    this.el.append(box);
    // Inside the viewport even for an item at the right edge of a phone.
    const width = Math.max(200, Math.min(360, document.documentElement.clientWidth - 32));
    const left = this.el.getBoundingClientRect().left;
    const room = document.documentElement.clientWidth - 8 - (left + width + 14);
    if (room < 0) box.style.left = `${Math.round(room)}px`;
    this.hover = {
      box,
      chart: lineChart(box, this.lines(), { width, height: 150, unit: this.item?.unit, legend: false }),
    };
  }

  closeHover() {
    this.hover?.chart.destroy();
    this.hover?.box.remove();
    this.hover = null;
  }

  expand() {
    const { item, snapshot } = this;
    if (!item || !snapshot) return;
    this.closeHover();
    return showSeries(this.owner.side, {
      title: `${t(`host.${item.id}`)} · ${item.metric}`,
      lines: [{ metric: item.metric }],
    });
  }
}

export class HostStrip {
  /**
   * @param {HTMLElement} root
   * @param {HTMLElement} sidePanel
   */
  constructor(root, sidePanel) {
    this.root = root;
    this.side = sidePanel;
    /** @type {Map<string, HostItemView>} */
    this.items = new Map();
    /** @type {Snapshot | undefined} */
    this.last = undefined;
    /** @type {HTMLElement | undefined} */
    this.titleEl = undefined;
    this.root.setAttribute('role', 'group');
  }

  /** @param {Snapshot} snapshot */
  render(snapshot) {
    this.last = snapshot;
    this.root.setAttribute('aria-label', t('host.title'));
    if (!this.titleEl) {
      this.titleEl = h('span', { class: 'host-title' });
      this.root.append(this.titleEl);
    }
    this.titleEl.textContent = t('host.title');
    for (const item of snapshot.host ?? []) {
      let v = this.items.get(item.id);
      if (!v) {
        v = new HostItemView(this, item.id);
        this.items.set(item.id, v);
        this.root.append(v.el);
      }
      v.update(item, snapshot);
    }
  }

  rerender() {
    if (this.last) this.render(this.last);
  }
}
