// The alert mail: subject, plain text and HTML. Everything user-supplied (rule names,
// labels, log lines) is escaped in the HTML: nothing a user typed becomes markup.
import { SUMMARY_EN, valueAndThreshold } from '../../alert-summary.js';
import { metricDef } from '../../metrics/catalogue.js';
import type { AlertPayload, Notification, OcrSampleRef } from '../notifier.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const labelText = (a: AlertPayload) =>
  Object.entries(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function emailSubject(n: Notification): string {
  const first = n.alerts[0];
  const tag = `${n.test ? '[TEST] ' : ''}[${n.status.toUpperCase()}]`;
  if (first && n.alerts.length === 1)
    return `${tag} [${first.severity}] ${first.ruleName}${labelText(first) ? ` (${labelText(first)})` : ''}`;
  return `${tag} ${n.alerts.length} alerts: ${[...new Set(n.alerts.map((a) => a.ruleName))].join(', ')}`;
}

/**
 * An alert's value (or another of its checks') and threshold as its summary writes them
 * (2.14 s, 91 °C), not as raw numbers.
 */
export function writtenValue(a: AlertPayload, value = a.context.value): { v: string; th: string } {
  const c = a.context;
  return valueAndThreshold(
    { unit: metricDef(a.metric)?.unit, value, threshold: c.threshold, surgeBaseline: c.surgeBaseline },
    'en',
    SUMMARY_EN['alert.noData'],
  );
}

/** An alert's context as rows of (what, value), for mail and Alertmanager's description. */
export function contextLines(a: AlertPayload): Array<[string, string]> {
  const c = a.context;
  const value = writtenValue(a);
  const rows: Array<[string, string]> = [
    ['Status', a.status],
    ['Severity', a.severity],
    ['Metric', `${a.metric}${labelText(a) ? ` {${labelText(a)}}` : ''}`],
    ['Value', `${value.v} (threshold ${c.op} ${value.th})`],
    ['Since', a.startsAt],
  ];
  if (a.endsAt) rows.push(['Resolved', a.endsAt]);
  if (c.breachPoints.length)
    rows.push([
      'Breaching checks',
      c.breachPoints.map(([t, v]) => `${new Date(t).toISOString().slice(11, 19)} ${writtenValue(a, v).v}`).join(', '),
    ]);
  if (Object.keys(c.gpuTemperatureCelsius).length)
    rows.push([
      'GPU temperature',
      Object.entries(c.gpuTemperatureCelsius)
        .map(([g, t]) => `${g} ${t} °C`)
        .join(', '),
    ]);
  for (const w of c.whyLines ?? []) rows.push(['Changed with it', w]);
  if (c.topClient) rows.push(['Top client', c.topClient]);
  if (c.request)
    rows.push([
      'Request',
      Object.entries(c.request)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]);
  if (c.lastError) rows.push(['Last error', c.lastError]);
  for (const w of c.warningsBefore) rows.push(['Warning before it', w]);
  for (const sm of c.samples ?? []) rows.push(['Low-confidence sample', sampleText(sm)]);
  rows.push(['Monitor', c.monitorUrl]);
  return rows;
}

function sampleText(s: OcrSampleRef): string {
  return `confidence ${s.confidence}${s.lang ? ` (${s.lang})` : ''}, request ${s.requestId}, image ${s.imageHash}, ${s.url}`;
}

export function emailText(n: Notification): string {
  return n.alerts
    .map((a) => [`${a.ruleName}: ${a.summary}`, ...contextLines(a).map(([k, v]) => `  ${k}: ${v}`)].join('\n'))
    .join('\n\n');
}

/** `inline`: the sample files attached to the mail, shown as images by their cid. */
export function emailHtml(n: Notification, inline: ReadonlySet<string> = new Set()): string {
  const colour = (s: string) => (s === 'critical' ? '#dc2626' : s === 'warning' ? '#d97706' : '#2563eb');
  const blocks = n.alerts.map((a) => {
    const rows = contextLines(a)
      .map(
        ([k, v]) =>
          `<tr><th align="left" style="padding:2px 8px">${escapeHtml(k)}</th><td style="padding:2px 8px">${escapeHtml(v)}</td></tr>`,
      )
      .join('');
    const images = (a.context.samples ?? [])
      .filter((s) => inline.has(s.file))
      .map(
        (s) =>
          `<figure style="display:inline-block;margin:4px"><img src="cid:${escapeHtml(s.file)}" alt="OCR sample ${escapeHtml(s.imageHash)}" style="max-width:320px"><figcaption>${escapeHtml(`confidence ${s.confidence}`)}</figcaption></figure>`,
      )
      .join('');
    return `<h3 style="color:${colour(a.severity)}">${escapeHtml(a.ruleName)}</h3><p>${escapeHtml(a.summary)}</p><table>${rows}</table>${images}`;
  });
  return `<!doctype html><html><body style="font-family:sans-serif">${blocks.join('<hr>')}</body></html>`;
}
