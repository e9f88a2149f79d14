// The real Prometheus and Alertmanager (Debian's packages, installed by .ci/run) started
// from the tests on loopback ports, each in a temp dir, no systemd. Helpers poll their HTTP
// APIs until what the test waits for is there: a scrape happened, a rule was evaluated.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
export const AMTOOL = '/usr/bin/amtool';

/** Says how to get the program when it is missing (CI installs it: .ci/run). */
function installed(binary: string): string {
  if (!existsSync(binary))
    throw new Error(`${binary} is not installed: apt-get install prometheus prometheus-alertmanager (as .ci/run does)`);
  return binary;
}

/** Runs promtool or amtool; returns its exit status and what it printed. */
export function runTool(tool: string, args: string[], input?: string): { status: number; output: string } {
  installed(tool);
  const r = spawnSync(tool, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits (vi.waitFor) until `fn` returns something other than undefined, and returns it. */
export function pollUntil<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return vi.waitFor(
    async () => {
      const v = await fn();
      if (v === undefined) throw new Error(`still waiting for ${what}`);
      return v;
    },
    { timeout: timeoutMs, interval: 200 },
  );
}

export interface RunningProgram {
  url: string;
  dir: string;
  /** What the program printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

async function startProgram(
  name: string,
  binary: string,
  args: (port: number, dir: string) => string[] | Promise<string[]>,
  ready: string,
  files: Record<string, string>,
): Promise<RunningProgram> {
  installed(binary);
  const dir = mkdtempSync(join(tmpdir(), `qwen3vl-${name}-`));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  // A port picked free can be taken before the program binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    let log = '';
    const child: ChildProcess = spawn(binary, await args(port, dir), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      // Ready when its /-/ready answers; a program that exits (a taken port) ends the wait.
      await Promise.race([
        pollUntil(`${name} to be ready`, async () =>
          (await fetch(url + ready).catch(() => null))?.ok ? true : undefined,
        ),
        exited.then(() => Promise.reject(new Error(`${name} exited (${child.exitCode}): ${log.slice(-2000)}`))),
      ]);
      return { url, dir, output: () => log, stop };
    } catch (err) {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (attempt >= 2 || !/address already in use/.test(log)) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

export interface PrometheusOptions {
  /** host:port of the WebUIs to scrape. */
  targets: string[];
  /** An alerting-rules file to load (its text). */
  rules?: string;
  /** Where to send alerts (host:port of an Alertmanager, or of each of a cluster's). */
  alertmanager?: string | string[];
  /** Each target's `instance` label, where it is not its address (the node's MONITOR_INSTANCE). */
  instances?: Record<string, string>;
}

/** A real Prometheus scraping `targets` every second and evaluating rules every second. */
export function startPrometheus(o: PrometheusOptions): Promise<RunningProgram> {
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    ...(o.rules ? ['rule_files: [rules.yml]'] : []),
    ...(o.alertmanager
      ? [
          'alerting:',
          '  alertmanagers:',
          `    - static_configs: [{ targets: [${[o.alertmanager].flat().map((a) => `'${a}'`)}] }]`,
        ]
      : []),
    'scrape_configs:',
    '  - job_name: qwen3vl',
    '    static_configs:',
    ...o.targets.map(
      (t) => `      - { targets: ['${t}']${o.instances?.[t] ? `, labels: { instance: '${o.instances[t]}' }` : ''} }`,
    ),
    '',
  ].join('\n');
  return startProgram(
    'prometheus',
    PROMETHEUS,
    (port, dir) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    '/-/ready',
    { 'prometheus.yml': config, ...(o.rules ? { 'rules.yml': o.rules } : {}) },
  );
}

/** How an Alertmanager joins a cluster, with its timings (durations as Alertmanager writes them: 500ms, 1s). */
export interface AlertmanagerCluster {
  /** Cluster addresses (host:port) of the peers to join. */
  peers: string[];
  /** --cluster.peer-timeout: the peer at position p waits p × this before it notifies. */
  peerTimeout: string;
  /** --cluster.gossip-interval: how often what a peer learnt (a notification sent, a silence) is passed on. */
  gossipInterval: string;
  /** --cluster.pushpull-interval: how often peers exchange their whole state. */
  pushPullInterval: string;
}

export interface RunningAlertmanager extends RunningProgram {
  /** Its cluster address (host:port), where it is in a cluster. */
  clusterAddress?: string;
}

/** A real Alertmanager with the given configuration (YAML), clustering off unless `cluster` is given. */
export async function startAlertmanager(
  configYaml: string,
  externalUrl?: string,
  cluster?: AlertmanagerCluster,
): Promise<RunningAlertmanager> {
  let clusterAddress: string | undefined;
  const program = await startProgram(
    'alertmanager',
    ALERTMANAGER,
    async (port, dir) => {
      // A port of its own for the gossip (TCP and UDP), picked again on each try.
      if (cluster) clusterAddress = `127.0.0.1:${await freePort()}`;
      const clusterArgs = cluster
        ? [
            `--cluster.listen-address=${clusterAddress}`,
            `--cluster.advertise-address=${clusterAddress}`,
            ...cluster.peers.map((p) => `--cluster.peer=${p}`),
            `--cluster.peer-timeout=${cluster.peerTimeout}`,
            `--cluster.gossip-interval=${cluster.gossipInterval}`,
            `--cluster.pushpull-interval=${cluster.pushPullInterval}`,
          ]
        : ['--cluster.listen-address='];
      return [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // Links in its notifications; its own routes stay at / (no path in the URL).
        ...(externalUrl ? [`--web.external-url=${externalUrl}`, '--web.route-prefix=/'] : []),
        ...clusterArgs,
        '--log.level=warn',
      ];
    },
    '/-/ready',
    { 'alertmanager.yml': configYaml },
  );
  return clusterAddress ? { ...program, clusterAddress } : program;
}

/**
 * An Alertmanager cluster of `size` peers on loopback, started one after the other, each
 * joining those already running (gossip then tells every peer of every other: the same
 * mesh as each naming all the others, without knowing ports before they are taken).
 * Resolves once every peer sees `size` members and has settled: before that, Alertmanager
 * holds its notifications back (its gossip-settle stage).
 */
export async function startAlertmanagerCluster(
  configYaml: string,
  size: number,
  timing: Omit<AlertmanagerCluster, 'peers'>,
  cleanups: Array<() => Promise<void>>,
): Promise<RunningAlertmanager[]> {
  const peers: RunningAlertmanager[] = [];
  for (let i = 0; i < size; i++) {
    const am = await startAlertmanager(configYaml, undefined, {
      ...timing,
      peers: peers.map((p) => p.clusterAddress!),
    });
    cleanups.push(() => am.stop());
    peers.push(am);
  }
  for (const am of peers)
    await pollUntil(`Alertmanager ${am.url} to see ${size} peers and settle`, async () => {
      const { cluster } = (await (await fetch(`${am.url}/api/v2/status`)).json()) as {
        cluster: { status: string; peers?: unknown[] };
      };
      return cluster.status === 'ready' && cluster.peers?.length === size ? true : undefined;
    });
  return peers;
}

/** The samples of one metric (without labels, or with the given ones) in a program's /metrics. */
export async function ownMetric(program: RunningProgram, name: string, labels: Record<string, string> = {}) {
  const text = await (await fetch(`${program.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const own = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => own.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query against Prometheus' HTTP API. */
export async function query(prometheus: RunningProgram, promql: string): Promise<QueryResult[]> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: QueryResult[] } };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** Polls until the query returns a series whose value passes `ok`; returns that value. */
export function queryUntil(
  prometheus: RunningProgram,
  promql: string,
  ok: (v: number) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<number> {
  return pollUntil(
    `${promql} in Prometheus`,
    async () => {
      const r = await query(prometheus, promql);
      const v = r.length ? Number(r[0]!.value[1]) : undefined;
      return v !== undefined && ok(v) ? v : undefined;
    },
    timeoutMs,
  );
}

/** An Alertmanager configuration: every alert grouped by alertname and instance, to one webhook. */
export function oneWebhookRoute(url: string, groupIntervalMs: number): string {
  return [
    'route:',
    '  receiver: hook',
    '  group_by: [alertname, instance]',
    '  group_wait: 100ms',
    `  group_interval: ${groupIntervalMs}ms`,
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: hook',
    `    webhook_configs: [{ url: '${url}' }]`,
    '',
  ].join('\n');
}
