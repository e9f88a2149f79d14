// The six cards: value, colour and the status in words, the change against the calm
// normal ("↑ 340 %", or "no calm baseline yet"), the key figures under the value, the
// lines the colour comes from and the rule that set them, a 5-minute sparkline, a
// readable chart on hover (updated in place while hovered), and a side panel on "expand".
// Cards are built once (card-view.js, which Model Metrics' cards share) and updated in place at every check.
import { fmtNumber } from '../dom.js';
import { fmtAgainst, fmtChange, fmtDuration, fmtPercent, fmtValue } from '../format.js';
import { reasonText, t } from '../i18n.js';
import { CardView, SPARK_MS } from './card-view.js';
import { linesText, linesTitle } from './lines.js';
import { showSeries } from './panel.js';

/** @typedef {import('../types.js').Card} Card */
/** @typedef {import('../types.js').Snapshot} Snapshot */
/** @typedef {NonNullable<Card['detail']>} Detail */

/**
 * A detail's number (the server's figures; anything else reads as none).
 * @param {Detail[string] | undefined} v
 */
const num = (v) => (typeof v === 'number' ? v : undefined);

/**
 * The big number of a card.
 * @param {Card} c
 */
export function cardValue(c) {
  if (c.value === null) return '—';
  if (c.id === 'connections') return fmtNumber(c.value, 0);
  return fmtAgainst(c.value, c.lines, c.unit);
}

/**
 * The figure beside the value that can colour the card too (P95, the 5xx share), on its own
 * side of its lines as the big number is.
 * @param {Card} c
 * @param {number | undefined} v
 * @param {(v: number | undefined) => string} plain how the figure prints without lines
 */
const besideValue = (c, v, plain) =>
  c.beside?.lines && v !== undefined ? fmtAgainst(v, c.beside.lines, c.unit) : plain(v);

/** @param {Detail} d */
const gpuName = (d) =>
  `GPU ${d.gpuIndex ?? d.gpu}${Number(d.gpuCount) > 1 ? ` ${t('card.gpu.of', { n: d.gpuCount })}` : ''}`;
/** Where a GPU read on another host was read (GPU_METRICS_URL); NVML's, on this machine, goes unsaid. */
/** @param {Detail} d */
const gpuSource = (d) => (d.source === 'dcgm' && d.host ? t('card.gpu.dcgm', { host: d.host }) : null);

/**
 * The figures under the value, each kept on one line.
 * @param {Card} c
 * @param {Snapshot} snapshot
 * @returns {(string | null)[]}
 */
export function cardFacts(c, snapshot) {
  /** @type {Detail} */
  const d = c.detail ?? {};
  switch (c.id) {
    case 'gpu_memory':
      if (c.value === null) return [];
      return [
        d.usedMiB !== undefined ? `${fmtNumber(num(d.usedMiB), 0)} / ${fmtNumber(num(d.totalMiB), 0)} MiB` : null,
        gpuName(d),
        gpuSource(d),
        d.simulated ? t('simulated.gpu') : null,
      ];
    case 'gpu_utilization':
      if (c.value === null) return [];
      return [gpuName(d), gpuSource(d), d.simulated ? t('simulated.gpu') : null];
    case 'latency':
      return [
        `P95 ${besideValue(c, num(d.p95), fmtDuration)}`,
        `P99 ${fmtDuration(num(d.p99))}`,
        `${t('card.avg')} ${fmtDuration(num(d.avg))}`,
      ];
    case 'rps': {
      if (d.requestsInWindow === null || d.requestsInWindow === undefined) return [];
      const minutes = snapshot.windowMs / 60_000;
      return [
        minutes === 1
          ? t('card.rps.lastMinute', { n: d.requestsInWindow })
          : t('card.rps.window', { n: d.requestsInWindow, w: fmtNumber(minutes, minutes % 1 ? 1 : 0) }),
      ];
    }
    case 'connections':
      // The parts add up to the value: streams + other requests in flight + WebSockets.
      if (c.value === null) return [];
      return [
        t('card.conn.streams', { n: fmtNumber(num(d.streams ?? 0), 0) }),
        t('card.conn.requests', { n: fmtNumber(num(d.otherRequestsInFlight ?? 0), 0) }),
        t('card.conn.websockets', { n: fmtNumber(num(d.websocket ?? 0), 0) }),
        // Only when it happens: requests held back because every model server connection is busy.
        d.waitingForUpstream ? t('card.conn.waiting', { n: fmtNumber(num(d.waitingForUpstream), 0) }) : null,
      ];
    case 'error_rate':
      return [
        d.share5xxPercent === null || d.share5xxPercent === undefined
          ? null
          : t('card.error.5xx', { p: besideValue(c, num(d.share5xxPercent), fmtPercent) }),
        d.status2xx === null || d.status2xx === undefined
          ? null
          : `2xx ${fmtNumber(num(d.status2xx), 0)} · 4xx ${fmtNumber(num(d.status4xx ?? 0), 0)} · 5xx ${fmtNumber(num(d.status5xx ?? 0), 0)}`,
      ];
    default:
      return [];
  }
}

/**
 * The change beside the value: "↑ 80 %", named when it is another figure's (the one that set
 * the colour: "P95 ↑ 80 %"), or why there is none to give.
 * @param {Card} c
 */
export function cardChange(c) {
  if (c.noCalmBaseline) return t('normal.none');
  const change = fmtChange(c.trend, c.changePercent);
  return change && c.trendMetric && c.trendMetric !== c.metric ? `${t(`figure.${c.trendMetric}`)} ${change}` : change;
}

/**
 * The card's lines, then those of the figure beside its value that can colour it too
 * ("P95 warning > 5.00 s · rule “P95 latency high”"): every rule watching the card is named.
 * @param {Card} c
 */
export function cardLines(c) {
  const own = linesText(c.lines, c.unit);
  const b = c.beside;
  const beside = b ? linesText(b.lines, c.unit).map((x) => `${t(`figure.${b.metric}`)} ${x}`) : [];
  return [...own, ...beside];
}

/**
 * The hover chart's lines: the card's series, and P95/P99 beside the latency's P50.
 * @param {Card} c
 * @returns {import('./chart.js').ChartSeries[]}
 */
function hoverSeries(c) {
  if (c.id === 'latency') {
    return [
      { name: 'P50', points: c.spark },
      { name: 'P95', points: c.sparks?.p95 ?? [] },
      { name: 'P99', points: c.sparks?.p99 ?? [] },
    ];
  }
  return [{ name: t(`card.${c.id}`), points: c.spark }];
}

/**
 * What an overview card says.
 * @param {Card} c
 * @param {Snapshot} snapshot
 * @returns {import('./card-view.js').CardFace}
 */
function overviewFace(c, snapshot) {
  const title = t(`card.${c.id}`);
  return {
    className: `card ${c.status}`,
    title,
    number: cardValue(c),
    change: {
      text: cardChange(c),
      className: `trend ${c.noCalmBaseline ? 'none' : (c.trend ?? '')}`,
      title: c.noCalmBaseline
        ? t('normal.noneTitle')
        : c.trend
          ? t('normal.trendTitle', { base: fmtValue(c.baseline, c.unit) })
          : '',
    },
    facts: cardFacts(c, snapshot).flatMap((text) => (text ? [{ text }] : [])),
    factsTitle: c.id === 'connections' ? t('card.conn.title') : c.id === 'error_rate' ? t('card.error.title') : '',
    lines: c.value === null ? [] : cardLines(c),
    linesTitle: linesTitle(),
    spark: { points: c.spark, from: snapshot.at - SPARK_MS, to: snapshot.at },
    status: t(`status.${c.status}`),
    reason: c.value === null ? reasonText(c) : '',
    hover: {
      label: `${title} · ${t('chart.last5m')}`,
      series: hoverSeries(c),
      unit: c.unit,
      legend: c.id === 'latency',
      height: 170,
    },
  };
}

export class Cards {
  /**
   * @param {HTMLElement} root
   * @param {HTMLElement} sidePanel
   */
  constructor(root, sidePanel) {
    this.root = root;
    this.side = sidePanel;
    /** @type {Snapshot | null} */
    this.last = null;
    /** @type {Map<string, CardView>} */
    this.views = new Map();
    /** @type {Map<string, Card>} each card as last drawn: what its expand button opens */
    this.latest = new Map();
  }

  /** @param {Snapshot} snapshot */
  render(snapshot) {
    this.last = snapshot;
    for (const c of snapshot.cards) {
      this.latest.set(c.id, c);
      let v = this.views.get(c.id);
      if (!v) {
        const id = c.id;
        v = new CardView({
          dataset: { card: id },
          withMetricName: false,
          onExpand: () => {
            const latest = this.latest.get(id);
            if (latest) this.expand(latest);
          },
        });
        this.views.set(id, v);
        this.root.append(v.el);
      }
      v.draw(overviewFace(c, snapshot));
    }
  }

  rerender() {
    if (this.last) this.render(this.last);
  }

  /**
   * Full series: every GPU or endpoint of the metric; the latency's P50/P95/P99 together.
   * @param {Card} c
   */
  expand(c) {
    const title = `${t(`card.${c.id}`)} · ${c.metric}`;
    const emptyText = reasonText(c) || '—';
    if (c.id === 'latency') {
      return showSeries(this.side, {
        title,
        emptyText,
        lines: ['p50', 'p95', 'p99'].map((q) => ({
          name: q.toUpperCase(),
          metric: `latency_ms_${q}`,
          labels: c.labels,
        })),
      });
    }
    // Every GPU, or every model endpoint next to their merged "*" series.
    return showSeries(this.side, {
      title,
      emptyText,
      lines: [{ metric: c.metric }],
      filter: (s) =>
        !s.labels.endpoint || s.labels.endpoint === '*' || /^\/(v1|api\/(ocr|gui|video))/.test(s.labels.endpoint),
    });
  }
}
