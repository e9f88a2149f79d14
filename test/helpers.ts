// Test helpers: a real app on an ephemeral port, configured like production.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App, type AppOptions } from '../src/app.js';
import { loadConfig } from '../src/config.js';

export interface TestApp extends App {
  baseUrl: string;
  dataDir: string;
}

export async function startApp(env: Record<string, string> = {}, opts: AppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qwen3vl-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    CHECK_ANSWERS: 'true',
    ...env,
  });
  const built = await buildApp(config, { logger: false, ...opts });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = built.app.server.address() as { port: number };
  return { ...built, baseUrl: `http://127.0.0.1:${port}`, dataDir };
}

/** A clock the test moves by hand. */
export function steppedClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms: number) => {
    now += ms;
    return now;
  };
  clock.set = (t: number) => {
    now = t;
  };
  return clock;
}

/** The tutorial's GPU rule: GPU 0's memory above 90 % for 3 consecutive checks, to the console. */
export const GPU_MEMORY_RULE = {
  name: 'GPU memory sustained pressure',
  metric: 'gpu_memory_utilization_percent',
  labels: { gpu: '0' },
  op: '>',
  threshold: 90,
  consecutiveChecks: 3,
  severity: 'warning',
  channels: ['console'],
};

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const userMessage = (text = 'What is in this image?') => ({
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    },
  ],
});
