// The Alertmanager channel: this node speaks to Alertmanager as Prometheus does, so an
// Alertmanager cluster routes, groups, silences and inhibits our alerts with the fleet's.
// POST /api/v2/alerts to every configured Alertmanager (one accepting is enough, as
// Prometheus' notifier counts it), alerts as Alertmanager's OpenAPI `postableAlert`:
// labels (alertname, severity, instance, the series' labels, the channel's own), the
// context as annotations, startsAt, and endsAt. Following prometheus/prometheus
// rules/alerting.go (sendAlerts, needsSending) and rules/manager.go (SendAlerts): a firing
// alert is re-sent every resend delay (1 m, --rules.alert.resend-delay) with
// endsAt = now + 4 × max(check interval, resend delay), so Alertmanager resolves it by
// itself if this node goes quiet; a resolved one is sent with endsAt = when it resolved,
// and re-sent for 15 minutes (resolvedRetention) in case an Alertmanager missed it.
import { z } from 'zod';
import {
  channelName,
  defineChannelType,
  keptSecret,
  timeoutMs,
  writeOnly,
  type ChannelDeps,
  type ChannelNotifier,
} from '../channel-type.js';
import { alertLabels } from '../alert-labels.js';
import { withoutTrailingSlashes } from '../alert-site.js';
import { keptUrl, maskUrl } from '../mask-url.js';
import { type AlertPayload, delivered, type Notification, type SendResult } from '../notifier.js';
import { alertAnnotations } from './alert-annotations.js';
import { type PostOutcome, postJson } from './post-json.js';
import { httpUrl } from './webhook.js';

/** Prometheus' --rules.alert.resend-delay default. */
export const RESEND_DELAY_MS = 60_000;
/** Prometheus' resolvedRetention (rules/alerting.go). */
export const RESOLVED_RETENTION_MS = 15 * 60_000;
/** Prometheus' notifier DefaultMaxBatchSize: alerts in one POST. */
const MAX_BATCH = 256;
/** Alertmanager (before 0.27's UTF-8 names) takes Prometheus' classic label names. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const labelName = z
  .string()
  .regex(LABEL_NAME, { message: 'expected a label name: letters, digits and _, not starting with a digit' });
const fields = {
  name: channelName,
  type: z.literal('alertmanager'),
  /** The label `instance`; default this node's host name. */
  instance: z.string().min(1).max(200).optional(),
  /** Labels added to every alert, like Prometheus' external_labels (cluster, region). */
  labels: z.record(labelName, z.string().min(1).max(1024)).default({}),
  timeoutMs: timeoutMs(10_000),
};
const stored = z.object({
  ...fields,
  urls: z.array(httpUrl).min(1, { message: 'expected at least one Alertmanager URL' }).max(10),
  /** Sent as Authorization: Bearer (an Alertmanager behind an authenticating proxy). */
  secret: z.string().min(1).optional(),
});

/** What the API shows of an alertmanager channel besides its name and kind (channelViewSchema adds those). */
export const alertmanagerShown = z.object({
  urls: z.array(z.string()).describe('Masked: credentials and what follows the host are hidden'),
  instance: z.string().nullable(),
  instanceDefault: z.string().describe("This node's instance label, used when the channel names none"),
  labels: z.record(z.string(), z.string()),
  timeoutMs: z.number().int(),
  secretSet: z.boolean(),
});

export const alertmanagerChannel = defineChannelType({
  type: 'alertmanager',
  // URLs may carry credentials (https://user:pass@am.example): shown masked, kept when sent back so.
  input: z.strictObject({
    ...fields,
    urls: z.array(z.string()).min(1, { message: 'expected at least one Alertmanager URL' }).max(10).optional(),
    secret: writeOnly,
  }),
  stored,
  merge(input, previous) {
    const given = input.urls;
    const urls =
      given === undefined
        ? previous?.urls
        : given.map((u, i) =>
            keptUrl(
              u,
              previous?.urls.find((p) => maskUrl(p) === u),
              `urls[${i}]`,
            ),
          );
    return { ...input, urls: urls ?? [], secret: keptSecret(input.secret, previous?.secret) };
  },
  shown: alertmanagerShown,
  view: (c, deps) => ({
    urls: c.urls.map(maskUrl),
    instance: c.instance ?? null,
    instanceDefault: deps.site.instance,
    labels: c.labels,
    timeoutMs: c.timeoutMs,
    secretSet: Boolean(c.secret),
  }),
  create: (c, deps) =>
    alertmanagerNotifier(
      {
        urls: c.urls,
        instance: c.instance ?? deps.site.instance,
        job: deps.site.job,
        labels: c.labels,
        secret: c.secret,
        timeoutMs: c.timeoutMs,
      },
      deps,
    ),
  resend: { everyMs: RESEND_DELAY_MS, resolvedRetentionMs: RESOLVED_RETENTION_MS },
});

export interface AlertmanagerConfig {
  urls: string[];
  instance: string;
  /** The node's job label (MONITOR_JOB). */
  job: string;
  labels: Record<string, string>;
  secret?: string | undefined;
  timeoutMs: number;
}

/** Alertmanager's postableAlert (api/v2/openapi.yaml). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

const sanitize = (name: string) => (LABEL_NAME.test(name) ? name : `_${name}`.replace(/[^a-zA-Z0-9_]/g, '_'));

/** One alert as Alertmanager takes it. `validUntil`: endsAt of a firing alert. Pure. */
export function postableAlert(
  a: AlertPayload,
  cfg: Pick<AlertmanagerConfig, 'instance' | 'job' | 'labels'>,
  validUntil: number,
  test = false,
): PostableAlert {
  const labels = alertLabels(a, cfg, cfg.labels, sanitize);
  if (test) labels.test = 'true';
  const c = a.context;
  const annotations = alertAnnotations(a);
  const absolute = /^https?:\/\//i.test(c.monitorUrl);
  return {
    labels,
    annotations,
    startsAt: a.startsAt,
    endsAt: a.status === 'resolved' && a.endsAt ? a.endsAt : new Date(validUntil).toISOString(),
    // Alertmanager links to it; a relative link would be broken there.
    ...(absolute ? { generatorURL: c.monitorUrl } : {}),
  };
}

/** `http://am:9093` (or with a path prefix) → its alerts endpoint; a URL that already names it is kept. */
export function alertsEndpoint(base: string): string {
  const u = new URL(base);
  if (!/\/api\/v2\/alerts\/?$/.test(u.pathname)) u.pathname = `${withoutTrailingSlashes(u.pathname)}/api/v2/alerts`;
  return u.toString();
}

interface Outcome extends PostOutcome {
  url: string;
}

export function alertmanagerNotifier(
  cfg: AlertmanagerConfig,
  deps: Pick<ChannelDeps, 'clock' | 'intervalMs'>,
): ChannelNotifier {
  const targets = cfg.urls.map((base) => {
    const u = new URL(alertsEndpoint(base));
    // Credentials in the URL become Basic auth (fetch-style clients refuse them in the URL).
    const basic =
      u.username || u.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
        : undefined;
    u.username = '';
    u.password = '';
    return { url: u.toString(), shown: maskUrl(base), basic };
  });

  async function post(t: (typeof targets)[number], body: string, signal: AbortSignal): Promise<Outcome> {
    const headers: Record<string, string> = {};
    if (cfg.secret) headers.authorization = `Bearer ${cfg.secret}`;
    else if (t.basic) headers.authorization = t.basic;
    return {
      url: t.shown,
      ...(await postJson({ url: t.url, shown: t.shown, body, headers, timeoutMs: cfg.timeoutMs, signal })),
    };
  }

  return {
    kind: 'alertmanager',
    async send(n: Notification, signal: AbortSignal): Promise<SendResult> {
      const now = deps.clock();
      const validUntil = now + 4 * Math.max(deps.intervalMs, RESEND_DELAY_MS);
      const alerts = n.alerts.map((a) => postableAlert(a, cfg, validUntil, n.test));
      const batches: string[] = [];
      for (let i = 0; i < alerts.length; i += MAX_BATCH) batches.push(JSON.stringify(alerts.slice(i, i + MAX_BATCH)));
      // Every Alertmanager of the cluster gets every alert (they do not share what they receive).
      const outcomes = await Promise.all(
        targets.map(async (t) => {
          for (const body of batches) {
            const o = await post(t, body, signal);
            if (!o.ok) return o;
          }
          return { url: t.shown, ok: true, retry: false, detail: 'accepted' };
        }),
      );
      const accepted = outcomes.filter((o) => o.ok).length;
      const failures = outcomes.filter((o) => !o.ok).map((o) => `${o.url}: ${o.detail}`);
      if (accepted > 0)
        return delivered(
          { code: 'ALERTMANAGER_ACCEPTED', params: { alerts: alerts.length, accepted, targets: targets.length } },
          // Those that refused, as they said it.
          ...failures.map((text) => ({ code: 'TEXT' as const, params: { text } })),
        );
      return { ok: false, retry: outcomes.some((o) => o.retry), error: failures.join('; ') };
    },
  };
}
