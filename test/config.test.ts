import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../src/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 7860,
      HOST: '0.0.0.0',
      MONITOR_INTERVAL_MS: 10_000,
      MONITOR_ENABLED: true,
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
    });
    expect(c.UPSTREAM_URL).toBeUndefined();
  });

  it('names the variable, the value and what was expected', () => {
    expect(problems({ PORT: 'eighty' })).toEqual(['PORT="eighty": expected a number']);
    expect(problems({ PORT: '70000' })[0]).toBe('PORT="70000": expected at most 65535');
    expect(problems({ MONITOR_ENABLED: 'maybe' })[0]).toBe('MONITOR_ENABLED="maybe": expected true or false');
    expect(problems({ UPSTREAM_URL: 'localhost:8000' })[0]).toMatch(
      /^UPSTREAM_URL="localhost:8000": expected an http\(s\) URL/,
    );
    expect(problems({ PORT: 'x', LOG_LEVEL: 'loud' })).toHaveLength(2);
  });

  it('never echoes a secret, even a malformed one', () => {
    const [p] = problems({ MONITOR_TOKEN: 'short' });
    expect(p).toBe('MONITOR_TOKEN=(hidden): expected at least 16 characters');
  });

  it('takes a JSON config file for what the environment leaves unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ PORT: 9000, UPSTREAM_URL: 'http://10.0.0.5:8000/v1/', MONITOR_INTERVAL_MS: 5000 }),
    );
    const c = loadConfig({ CONFIG_FILE: file, PORT: '9100' });
    expect(c.PORT).toBe(9100);
    expect(c.UPSTREAM_URL).toBe('http://10.0.0.5:8000/v1');
    expect(c.MONITOR_INTERVAL_MS).toBe(5000);
    writeFileSync(file, '{ nope');
    expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/CONFIG_FILE=.*config\.json/);
  });

  it('takes the routes /metrics times as route patterns', () => {
    expect(loadConfig({}).METRICS_HISTOGRAM_ROUTES).toEqual([]);
    expect(loadConfig({ METRICS_HISTOGRAM_ROUTES: '/healthz, /api/monitor/*' }).METRICS_HISTOGRAM_ROUTES).toEqual([
      '/healthz',
      '/api/monitor/*',
    ]);
    expect(problems({ METRICS_HISTOGRAM_ROUTES: '/healthz,api/monitor' })).toEqual([
      'METRICS_HISTOGRAM_ROUTES="/healthz,api/monitor": expected route patterns such as /healthz or /api/monitor/* (a trailing * names every route under it)',
    ]);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', UPSTREAM_URL: '' }).PORT).toBe(7860);
  });

  it('reads GPU_METRICS_URL as one DCGM exporter per GPU host, each named', () => {
    expect(loadConfig({}).GPU_METRICS_URL).toEqual([]);
    expect(loadConfig({}).GPU_METRICS_TIMEOUT_MS).toBe(2_000);
    // The host name by default, host:port where two entries share it; /metrics when no path is given.
    expect(
      loadConfig({
        GPU_METRICS_URL:
          'http://gpu-node-1:9400/metrics, http://10.0.0.7:9400, http://10.0.0.7:9401/metrics,gpu-b=https://10.0.0.8:9400/x',
      }).GPU_METRICS_URL,
    ).toEqual([
      { host: 'gpu-node-1', url: 'http://gpu-node-1:9400/metrics' },
      { host: '10.0.0.7:9400', url: 'http://10.0.0.7:9400/metrics' },
      { host: '10.0.0.7:9401', url: 'http://10.0.0.7:9401/metrics' },
      { host: 'gpu-b', url: 'https://10.0.0.8:9400/x' },
    ]);
    expect(problems({ GPU_METRICS_URL: 'gpu-node-1:9400' })).toEqual([
      'GPU_METRICS_URL="gpu-node-1:9400": "gpu-node-1:9400": expected an http(s) URL such as http://gpu-node-1:9400/metrics',
    ]);
    expect(problems({ GPU_METRICS_URL: 'a=http://x:9400,a=http://y:9400' })[0]).toContain(
      '"a" is named twice: give each GPU host its own name',
    );
    expect(problems({ GPU_METRICS_URL: 'http://u:p@x:9400' })[0]).toContain('credentials in the URL are not supported');
    expect(problems({ GPU_METRICS_URL: 'bad name=http://x:9400' })[0]).toContain('"bad name": expected a host name');
    const many = Array.from({ length: 17 }, (_, i) => `http://n${i}:9400`).join(',');
    expect(problems({ GPU_METRICS_URL: many })[0]).toContain('expected at most 16 GPU hosts (got 17)');
  });

  it("is the README's configuration table, setting for setting", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    const documented = new Set(
      rows.flatMap((r) => [...r.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!)),
    );
    const missing = Object.keys(configSchema.shape).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });
});
