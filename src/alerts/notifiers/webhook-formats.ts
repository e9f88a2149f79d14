// Webhook bodies, one pure formatter per receiver: generic JSON, Alertmanager webhook
// v4 (so existing receivers work), and the DingTalk, Feishu/Lark, WeCom and Slack robots.
import { createHash } from 'node:crypto';
import type { AlertPayload, Notification } from '../notifier.js';

export const WEBHOOK_FORMATS = ['generic', 'alertmanager', 'dingtalk', 'feishu', 'wecom', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

function line(a: AlertPayload): string {
  const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' ');
  return `[${a.status.toUpperCase()}] ${a.severity} ${a.ruleName}${labels ? ` (${labels})` : ''}: ${a.summary}`;
}

function text(n: Notification): string {
  const lines = n.alerts.map((a) => {
    const c = a.context;
    const extra = [
      c.lastError ? `last error: ${c.lastError}` : null,
      Object.keys(c.gpuTemperatureCelsius).length ? `GPU °C: ${Object.entries(c.gpuTemperatureCelsius).map(([g, t]) => `${g}=${t}`).join(' ')}` : null,
      c.topClient ? `top client: ${c.topClient}` : null,
      ...(c.samples ?? []).map((s) => `low-confidence sample: ${s.confidence}${s.lang ? ` (${s.lang})` : ''} request ${s.requestId} ${s.url}`),
    ].filter(Boolean);
    return [line(a), ...extra.map((e) => `  ${e}`)].join('\n');
  });
  const link = n.alerts[0]?.context.monitorUrl;
  return `${n.test ? '[TEST] ' : ''}${lines.join('\n')}${link ? `\n${link}` : ''}`;
}

function alertmanager(n: Notification): unknown {
  const labelsOf = (a: AlertPayload) => ({ alertname: a.ruleName, severity: a.severity, metric: a.metric, ...a.labels });
  const all = n.alerts.map(labelsOf);
  const common = Object.fromEntries(Object.entries(all[0] ?? {}).filter(([k, v]) => all.every((l) => (l as Record<string, string>)[k] === v)));
  return {
    version: '4',
    groupKey: `{}:{alertname="${n.alerts[0]?.ruleName ?? ''}"}`,
    truncatedAlerts: 0,
    status: n.status,
    receiver: 'qwen3vl-monitor',
    groupLabels: { alertname: n.alerts[0]?.ruleName ?? '' },
    commonLabels: common,
    commonAnnotations: {},
    externalURL: n.alerts[0]?.context.monitorUrl ?? '',
    alerts: n.alerts.map((a) => ({
      status: a.status,
      labels: labelsOf(a),
      annotations: { summary: a.summary, description: text({ ...n, alerts: [a] }) },
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: a.context.monitorUrl,
      fingerprint: createHash('sha256').update(JSON.stringify(labelsOf(a))).digest('hex').slice(0, 16),
    })),
  };
}

export function formatWebhook(format: WebhookFormat, n: Notification): unknown {
  switch (format) {
    case 'alertmanager':
      return alertmanager(n);
    case 'dingtalk':
      return { msgtype: 'text', text: { content: text(n) } };
    case 'feishu':
      return { msg_type: 'text', content: { text: text(n) } };
    case 'wecom':
      return { msgtype: 'text', text: { content: text(n) } };
    case 'slack':
      return { text: text(n) };
    default:
      return { source: 'qwen3vl-monitor', ...n, text: text(n) };
  }
}
