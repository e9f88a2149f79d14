// Webhook bodies: generic JSON and Alertmanager webhook v4 (so existing receivers work);
// the DingTalk, Feishu/Lark, WeCom and Slack robots' are in chat-robots.ts.
// (Pure but for the host name, the default instance label.)
import { siteFromLink, type AlertSite } from '../alert-site.js';
import type { AlertPayload, Notification } from '../notifier.js';
import { alertLabels } from '../alert-labels.js';
import { alertAnnotations } from './alert-annotations.js';

/** The chat robots (chat-robots.ts): signed, summarised to their size limits, markdown or text. */
export const ROBOT_FORMATS = ['dingtalk', 'feishu', 'wecom', 'slack'] as const;
export type RobotFormat = (typeof ROBOT_FORMATS)[number];
export const WEBHOOK_FORMATS = ['generic', 'alertmanager', ...ROBOT_FORMATS] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

function line(a: AlertPayload): string {
  const labels = Object.entries(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `[${a.status.toUpperCase()}] ${a.severity} ${a.ruleName}${labels ? ` (${labels})` : ''}: ${a.summary}`;
}

/** One alert as plain text: its line, then its context indented under it. */
export function alertText(a: AlertPayload): string {
  const c = a.context;
  const extra = [
    ...(c.whyLines ?? []).map((w) => `changed with it: ${w}`),
    c.lastError ? `last error: ${c.lastError}` : null,
    Object.keys(c.gpuTemperatureCelsius).length
      ? `GPU °C: ${Object.entries(c.gpuTemperatureCelsius)
          .map(([g, t]) => `${g}=${t}`)
          .join(' ')}`
      : null,
    c.topClient ? `top client: ${c.topClient}` : null,
    ...(c.samples ?? []).map(
      (s) => `low-confidence sample: ${s.confidence}${s.lang ? ` (${s.lang})` : ''} request ${s.requestId} ${s.url}`,
    ),
  ].filter(Boolean);
  return [line(a), ...extra.map((e) => `  ${e}`)].join('\n');
}

function text(n: Notification): string {
  const lines = n.alerts.map(alertText);
  const link = n.alerts[0]?.context.monitorUrl;
  return `${n.test ? '[TEST] ' : ''}${lines.join('\n')}${link ? `\n${link}` : ''}`;
}

/** Alertmanager's zero time: what its webhook sends as endsAt while an alert fires. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Alertmanager's alert fingerprint (prometheus/common model.LabelSet.Fingerprint): FNV-1a
 * 64 over the sorted label names and values, each followed by the byte 0xff.
 */
export function alertFingerprint(labels: Record<string, string>): string {
  const PRIME = 1099511628211n;
  const MASK = (1n << 64n) - 1n;
  let h = 14695981039346656037n;
  const add = (bytes: Iterable<number>) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * PRIME) & MASK;
  };
  for (const [k, v] of Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))) {
    add(Buffer.from(k, 'utf8'));
    add([0xff]);
    add(Buffer.from(v, 'utf8'));
    add([0xff]);
  }
  return h.toString(16).padStart(16, '0');
}

/** A time as Go writes it (RFC 3339, fraction without trailing zeros): 12:00:00.500Z → 12:00:00.5Z. */
export function goTime(iso: string): string {
  return iso.replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/** Keys in order, as Go's encoding/json writes a map. */
const sorted = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/** The labels and annotations every alert has in common (Alertmanager's template.Data). */
function common(sets: Array<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = sets;
  return sorted(Object.fromEntries(Object.entries(first ?? {}).filter(([k, v]) => rest.every((s) => s[k] === v))));
}

/**
 * Alertmanager's webhook payload (version 4), field by field as notify/webhook/webhook.go's
 * Message and template/template.go's Data and Alert define it, so a receiver written for
 * Alertmanager reads ours unchanged. One notification is one group: this node's alerts,
 * grouped by instance (groupKey `{}:{instance="…"}`, stable across firing and resolved).
 */
function alertmanager(n: Notification, site: AlertSite) {
  const alerts = n.alerts.map((a) => {
    const labels = sorted(alertLabels(a, site));
    // The annotations Alertmanager gets from this node's own channel: one set, either road.
    const annotations = sorted(alertAnnotations(a));
    return {
      status: a.status,
      labels,
      annotations,
      startsAt: goTime(a.startsAt),
      endsAt: a.status === 'resolved' && a.endsAt ? goTime(a.endsAt) : ZERO_TIME,
      generatorURL: absolute(a.context.monitorUrl, site),
      fingerprint: alertFingerprint(labels),
    };
  });
  return {
    receiver: 'qwen3vl-monitor',
    status: n.status,
    alerts,
    groupLabels: { instance: site.instance },
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: site.externalUrl,
    version: '4',
    groupKey: `{}:{instance=${JSON.stringify(site.instance)}}`,
    truncatedAlerts: 0,
  };
}

/** A link that works from anywhere: relative ones are made absolute on the node's URL. */
function absolute(url: string, site: AlertSite): string {
  return /^https?:\/\//i.test(url) ? url : `${site.externalUrl}${url.startsWith('/') ? '' : '/'}${url}`;
}

/**
 * The generic and Alertmanager bodies (the chat robots' are chat-robots.ts's). `site`: this
 * node's instance label and URL (alert-site.ts); derived from the alerts when absent.
 */
export function formatWebhook(
  format: 'generic' | 'alertmanager',
  n: Notification,
  site: AlertSite = siteFromLink(n.alerts[0]?.context.monitorUrl ?? ''),
): unknown {
  return format === 'alertmanager' ? alertmanager(n, site) : { source: 'qwen3vl-monitor', ...n, text: text(n) };
}
