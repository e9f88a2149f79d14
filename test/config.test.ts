import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
});
