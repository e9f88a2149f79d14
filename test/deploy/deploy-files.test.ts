// The files operators deploy with (deploy/): Prometheus' and Alertmanager's own checkers
// accept their configurations, the compose file and the Dockerfile say what the README and
// docs/SCALE-OUT.md promise (Docker itself is not run here), the Dockerfile's health check
// works against a live server, and the rules file is the presets' export.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/config.js';
import { metricDef } from '../../src/metrics/catalogue.js';
import { AMTOOL, PROMTOOL, runTool } from '../prometheus/real-programs.js';
import { postJson, startApp } from '../helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = join(ROOT, 'deploy');
const read = (path: string) => readFileSync(join(DEPLOY, path), 'utf8');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('deploy/prometheus and deploy/alertmanager', () => {
  it('pass promtool check config and check rules', () => {
    // --syntax-only: the scrape credentials are a compose secret (/run/secrets/…) that
    // exists only in the container; the rule files are checked in full below.
    const config = runTool(PROMTOOL, ['check', 'config', '--syntax-only', join(DEPLOY, 'prometheus/prometheus.yml')]);
    expect(config.output).toContain('SUCCESS');
    expect(config.status).toBe(0);
    const ruleFiles = readdirSync(join(DEPLOY, 'prometheus/rules'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join(DEPLOY, 'prometheus/rules', f));
    expect(ruleFiles.length).toBeGreaterThan(0);
    const rules = runTool(PROMTOOL, ['check', 'rules', ...ruleFiles]);
    expect(rules.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(rules.status).toBe(0);
  });

  it('passes amtool check-config', () => {
    const r = runTool(AMTOOL, ['check-config', join(DEPLOY, 'alertmanager/alertmanager.yml')]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('ships the rules file the presets export today', async () => {
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const presets = (await (await fetch(`${app.baseUrl}/api/monitor/alerts/presets`)).json()) as {
      presets: Array<{ id: string }>;
    };
    for (const p of presets.presets) await postJson(`${app.baseUrl}/api/monitor/alerts/presets/${p.id}/import`, {});
    const exported = await (await fetch(`${app.baseUrl}/api/monitor/alerts/rules/export.prometheus.yml`)).text();
    // If this fails after a preset changed: save the export over deploy/prometheus/rules/qwen3vl.yml.
    expect(read('prometheus/rules/qwen3vl.yml')).toBe(exported);
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as { services: Record<string, any>; secrets: Record<string, any> };

  it('runs vLLM serving Qwen3-VL, the WebUI, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'grafana', 'prometheus', 'vllm', 'webui']);
    expect(compose.services.vllm.image).toMatch(/^vllm\/vllm-openai:/);
    expect(compose.services.vllm.command.join(' ')).toContain('Qwen/Qwen3-VL');
    expect(compose.services.webui.build.dockerfile).toBe('deploy/Dockerfile');
    expect(
      existsSync(join(DEPLOY, compose.services.webui.build.context, compose.services.webui.build.dockerfile)),
    ).toBe(true);
  });

  it('configures the WebUI with settings that exist, pointed at vLLM, with time to drain', () => {
    const env = compose.services.webui.environment as Record<string, string>;
    for (const key of Object.keys(env)) expect(Object.keys(configSchema.shape), key).toContain(key);
    expect(env.UPSTREAM_URL).toBe('http://vllm:8000/v1');
    expect(compose.services.webui.hostname).toBe('webui');
    const graceS = Number(/^(\d+)s$/.exec(compose.services.webui.stop_grace_period)![1]);
    expect(graceS * 1000).toBeGreaterThan(configSchema.shape.SHUTDOWN_GRACE_MS.parse(undefined));
  });

  it('mounts files that exist, and the services find each other by name', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const v of (service.volumes ?? []) as string[]) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(DEPLOY, source)), `${name}: ${source}`).toBe(true);
      }
    }
    const prometheus = parse(read('prometheus/prometheus.yml')) as any;
    const targets = prometheus.scrape_configs.flatMap((j: any) => j.static_configs.flatMap((s: any) => s.targets));
    expect(targets).toEqual(expect.arrayContaining(['webui:7860', 'vllm:8000', 'alertmanager:9093']));
    expect(prometheus.scrape_configs.find((j: any) => j.job_name === 'qwen3vl').authorization.credentials_file).toBe(
      `/run/secrets/${compose.services.prometheus.secrets[0]}`,
    );
    expect(compose.secrets.monitor_token.environment).toBe('MONITOR_TOKEN');
    expect(prometheus.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    const datasource = parse(read('grafana/provisioning/datasources/prometheus.yml')) as any;
    expect(datasource.datasources[0].url).toBe('http://prometheus:9090');
    const dashboards = parse(read('grafana/provisioning/dashboards/qwen3vl.yml')) as any;
    expect(compose.services.grafana.volumes).toContain(
      `./grafana/qwen3vl.json:${dashboards.providers[0].options.path}/qwen3vl.json:ro`,
    );
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const final = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM ')));

  it('runs node itself, as a user that is not root, with a health check on /healthz', () => {
    const user = final.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user!.slice(5).trim()).not.toMatch(/^(root|0)(:|$)/);
    expect(JSON.parse(final.find((l) => l.startsWith('CMD '))!.slice(4))).toEqual(['node', 'dist/server.js']);
    expect(final.some((l) => l.startsWith('ENTRYPOINT'))).toBe(false);
    expect(final.find((l) => l.startsWith('STOPSIGNAL'))).toBe('STOPSIGNAL SIGTERM');
    expect(final.find((l) => l.startsWith('HEALTHCHECK'))).toContain('/healthz');
  });

  it('copies only what exists, builds with the script package.json has', () => {
    for (const l of instructions.filter((i) => i.startsWith('COPY ') && !i.includes('--from'))) {
      const sources = l.slice(5).trim().split(/\s+/).slice(0, -1);
      for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBeDefined();
    expect(dockerfile).toContain('npm run build');
    expect(readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')).toMatch(/^node_modules$/m);
  });

  it('has a health check command that passes on a live server and fails on a dead one', async () => {
    const hc = final.find((l) => l.startsWith('HEALTHCHECK'))!;
    const argv = JSON.parse(hc.slice(hc.indexOf('CMD ') + 4)) as string[];
    expect(argv[0]).toBe('node');
    const app = await startApp({}, { probes: false });
    cleanups.push(() => app.close());
    const port = new URL(app.baseUrl).port;
    // Run as Docker runs it, in its own process (the server must keep answering meanwhile).
    const run = (p: string) =>
      new Promise<number | null>((done) => {
        spawn(process.execPath, argv.slice(1), {
          env: { ...process.env, PORT: p },
          stdio: 'ignore',
          timeout: 10_000,
        }).once('exit', done);
      });
    expect(await run(port)).toBe(0);
    await app.close();
    cleanups.pop();
    expect(await run(port)).toBe(1);
  });
});

describe('deploy/grafana/qwen3vl.json', () => {
  const dashboard = JSON.parse(read('grafana/qwen3vl.json')) as any;

  it('shows the six cards first, and picks nodes with an instance variable', () => {
    const stats = dashboard.panels.filter((p: any) => p.type === 'stat').map((p: any) => p.title);
    expect(stats).toEqual([
      'GPU memory (fullest GPU)',
      'GPU utilisation (busiest GPU)',
      'Latency P50 (model endpoints)',
      'Requests / s (model endpoints)',
      'Active connections',
      'Error rate (4xx + 5xx, model endpoints)',
    ]);
    const instance = dashboard.templating.list.find((v: any) => v.name === 'instance');
    expect(instance.query.query).toContain('label_values(qwen3vl_http_requests_total');
    for (const p of dashboard.panels.filter((x: any) => x.targets)) {
      for (const t of p.targets) expect(t.expr, p.title).toContain('instance=~"$instance"');
    }
    const rows = dashboard.panels.filter((p: any) => p.type === 'row').map((p: any) => p.title);
    expect(rows).toEqual(expect.arrayContaining(['Latency and traffic per endpoint', 'Model layer', 'GPUs per node']));
  });

  it("colours the cards at the Monitor's default lines (Grafana's steps count from the line: ≥)", () => {
    const steps = (title: string) =>
      dashboard.panels
        .find((p: any) => p.title === title)
        .fieldConfig.defaults.thresholds.steps.slice(1)
        .map((s: any) => s.value as number);
    const cases = [
      ['GPU memory (fullest GPU)', 'gpu_memory_utilization_percent', 0.01, 0.0001],
      ['GPU utilisation (busiest GPU)', 'gpu_utilization_percent', 0.01, 0.0001],
      ['Active connections', 'active_connections', 1, 1],
      ['Error rate (4xx + 5xx, model endpoints)', 'error_rate_percent', 0.01, 0.0001],
    ] as const;
    for (const [title, metric, scale, above] of cases) {
      const t = metricDef(metric)!.thresholds!;
      // A line ">" is one step past it: the next whole user, or a hundredth of a percent.
      const step = (v: number | null, op: string) => (v! * scale + (op === '>' ? above : 0)).toFixed(6);
      expect(
        steps(title).map((v: number) => v.toFixed(6)),
        title,
      ).toEqual([step(t.warn, t.warnOp), step(t.crit, t.critOp)]);
    }
  });
});
