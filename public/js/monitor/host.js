// The host strip under the cards: CPU load, host memory, disk IO wait and the load
// average, coloured by their thresholds, with the change against the baseline. Status in
// words beside anything that is not fine: colour is never the only sign.
import { fmtNumber, h } from '../dom.js';
import { fmtChange, fmtPercent } from '../format.js';
import { t } from '../i18n.js';

function valueText(item) {
  if (item.value === null) return '—';
  if (item.id === 'load') return fmtNumber(item.value, 2);
  return fmtPercent(item.value);
}

function detailText(item) {
  const d = item.detail ?? {};
  if (item.id === 'memory' && d.usedMiB !== null && d.usedMiB !== undefined)
    return `${fmtNumber(d.usedMiB / 1024, 1)} / ${fmtNumber(d.totalMiB / 1024, 1)} GiB`;
  if (item.id === 'load' && d.load5m !== null && d.load5m !== undefined)
    return `5m ${fmtNumber(d.load5m, 2)} · 15m ${fmtNumber(d.load15m, 2)}${d.cpus ? ` · ${t('host.cpus', { n: d.cpus })}` : ''}`;
  if (item.id === 'io_wait' && d.ioPressureSomeAvg10 !== null && d.ioPressureSomeAvg10 !== undefined)
    return `PSI ${fmtNumber(d.ioPressureSomeAvg10, 1)} %`;
  return '';
}

export class HostStrip {
  constructor(root) {
    this.root = root;
    this.items = new Map();
    this.root.setAttribute('role', 'group');
  }

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
        v = {
          label: h('span', { class: 'label' }),
          value: h('span', { class: 'hv' }),
          change: h('span', { class: 'trend' }),
          status: h('span', { class: 'hstatus' }),
          detail: h('span', { class: 'hdetail muted' }),
        };
        v.el = h(
          'div',
          { class: 'host-item', dataset: { host: item.id } },
          v.label,
          v.value,
          v.change,
          v.status,
          v.detail,
        );
        this.items.set(item.id, v);
        this.root.append(v.el);
      }
      v.el.className = `host-item ${item.status}`;
      v.label.textContent = t(`host.${item.id}`);
      v.value.textContent = valueText(item);
      v.change.textContent = fmtChange(item.trend, item.changePercent);
      v.status.textContent = item.status === 'warn' || item.status === 'crit' ? t(`status.${item.status}`) : '';
      v.detail.textContent = detailText(item);
      v.el.title = `${item.metric}${item.value === null ? ` · ${t('status.unavailable')}` : ''}`;
    }
  }

  rerender() {
    if (this.last) this.render(this.last);
  }
}
