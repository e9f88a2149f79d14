// Who is speaking in an alert that leaves this node: its `instance` label (the host name
// unless MONITOR_INSTANCE names it) and the absolute URL operators reach it at
// (PUBLIC_URL, else http://<host name>:<PORT>, as Alertmanager derives its own
// --web.external-url), for links that work from a phone or another machine.
import { hostname } from 'node:os';
import type { Config } from '../config.js';

export interface AlertSite {
  instance: string;
  /** The job Prometheus scrapes this node under (MONITOR_JOB). */
  job: string;
  /** Absolute, without a trailing slash. */
  externalUrl: string;
}

/** MONITOR_JOB's default: the job_name of the shipped Prometheus configuration. */
export const DEFAULT_JOB = 'qwen3vl';

export function alertSite(
  config: Pick<Config, 'PUBLIC_URL' | 'PORT' | 'MONITOR_INSTANCE' | 'MONITOR_JOB'>,
  host = hostname(),
): AlertSite {
  return {
    instance: config.MONITOR_INSTANCE ?? host,
    job: config.MONITOR_JOB,
    externalUrl: withoutTrailingSlashes(config.PUBLIC_URL ?? `http://${host}:${config.PORT}`),
  };
}

/**
 * `url` without its trailing slashes, in one pass from the end: the pattern /\/+$/ retries
 * from every slash of a long run that is not at the end, quadratic in the run.
 */
export function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end--;
  return url.slice(0, end);
}

/** Without the configuration: the host name, and the node's URL from a link into it when absolute. */
export function siteFromLink(link: string, host = hostname()): AlertSite {
  const hash = link.indexOf('#');
  const base = /^https?:\/\//i.test(link)
    ? withoutTrailingSlashes(hash < 0 ? link : link.slice(0, hash))
    : `http://${host}`;
  return { instance: host, job: DEFAULT_JOB, externalUrl: base };
}
