// The one home of configuration: environment variables (optionally merged over a JSON
// config file named by CONFIG_FILE), validated with zod once at start-up.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
    message: 'expected true or false',
  })
  .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on');

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected at least ${min}` })
    .max(max, { message: `expected at most ${max}` });

const httpUrl = z
  .string()
  .url({ message: 'expected an http(s) URL such as http://127.0.0.1:8000/v1' })
  .refine((u) => /^https?:\/\//i.test(u), { message: 'expected an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

/** A comma-separated list; unset is empty. */
const list = z
  .string()
  .optional()
  .transform((s) =>
    s
      ? s
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : [],
  );

/** One GPU host's DCGM exporter page, and the name its GPUs carry (`gpu="<host>/<index>"`). */
export interface GpuMetricsTarget {
  host: string;
  url: string;
}

/** At most this many GPU hosts (GPU_METRICS_URL): each is one request per check. */
export const GPU_METRICS_MAX_HOSTS = 16;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/;

/**
 * GPU_METRICS_URL: `[name=]http(s)://host:port[/path]`, comma-separated, one per GPU host.
 * A URL without a path reads /metrics (DCGM exporter's). The name defaults to the URL's
 * host name (host:port where two entries share a host name); names are unique.
 */
const gpuMetricsTargets = list.transform((entries, ctx): GpuMetricsTarget[] => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (entries.length > GPU_METRICS_MAX_HOSTS)
    return fail(`expected at most ${GPU_METRICS_MAX_HOSTS} GPU hosts (got ${entries.length})`);
  const parsed: Array<{ name?: string; url: URL }> = [];
  for (const entry of entries) {
    const named = /^([^=/]+)=(.*)$/.exec(entry);
    const name = named?.[1]?.trim();
    const raw = (named?.[2] ?? entry).trim();
    if (name !== undefined && !HOST_NAME.test(name))
      return fail(`"${name}": expected a host name of letters, digits, ".", "-", "_" or ":" (at most 63)`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return fail(`"${raw}": expected an http(s) URL such as http://gpu-node-1:9400/metrics`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return fail(`"${raw}": expected an http(s) URL such as http://gpu-node-1:9400/metrics`);
    if (url.username || url.password) return fail(`"${url.host}": credentials in the URL are not supported`);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/metrics';
    parsed.push(name === undefined ? { url } : { name, url });
  }
  const sameHost = (u: URL) => parsed.filter((p) => p.name === undefined && p.url.hostname === u.hostname).length > 1;
  const out: GpuMetricsTarget[] = [];
  for (const p of parsed) {
    const host = p.name ?? (sameHost(p.url) ? p.url.host : p.url.hostname);
    if (out.some((t) => t.host === host))
      return fail(`"${host}" is named twice: give each GPU host its own name (name=http://…)`);
    out.push({ host, url: p.url.toString() });
  }
  return out;
});

/** Every setting with its default; the README's configuration table mirrors this. */
export const configSchema = z
  .object({
    PORT: int(0, 65535).default(7860),
    HOST: z.string().min(1).default('0.0.0.0'),
    UPSTREAM_URL: httpUrl.optional(),
    UPSTREAM_MODEL: z.string().min(1).optional(),
    /** The engine's Prometheus page; default: UPSTREAM_URL without /v1, plus /metrics. */
    UPSTREAM_METRICS_URL: httpUrl.optional(),
    UPSTREAM_API_KEY: z.string().min(1).optional(),
    UPSTREAM_TIMEOUT_MS: int(100, 3_600_000).default(120_000),
    UPSTREAM_CONNECT_TIMEOUT_MS: int(100, 600_000).default(5_000),
    /** The most of one whole (not streamed) model answer that is read; a streamed event is held to 1 MiB. */
    UPSTREAM_MAX_ANSWER_BYTES: int(64 * 1024, 1024 * 1024 * 1024).default(32 * 1024 * 1024),
    BODY_LIMIT_BYTES: int(1024, 1024 * 1024 * 1024).default(50 * 1024 * 1024),
    IMAGE_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
    /** Pixel budget per image: 1280 visual tokens of 32×32 pixels. */
    IMAGE_MAX_PIXELS: int(32 * 32, 16384 * 32 * 32).default(1280 * 32 * 32),
    IMAGE_MAX_SIDE: int(0, 65_536).default(0),
    IMAGE_FETCH_TIMEOUT_MS: int(100, 120_000).default(10_000),
    /** Largest image decoded at all, in pixels: bounds one image's memory (sharp's own limit is 268 M). */
    IMAGE_MAX_INPUT_PIXELS: int(1_000_000, 268_402_689).default(50_000_000),
    /** A truncated or undecodable image: refuse it (4xx), or degrade (send what can be sent, say so). */
    IMAGE_ON_PREPROC_FAILURE: z
      .enum(['refuse', 'degrade'], { message: 'expected refuse or degrade' })
      .default('refuse'),
    /**
     * Hosts or CIDRs that image and video URLs may reach although they are loopback, private
     * or link-local (e.g. an internal image store): `images.internal,10.2.0.0/16`.
     */
    IMAGE_FETCH_ALLOW: list,
    OCR_CONFIDENCE_THRESHOLD: z.coerce
      .number({ message: 'expected a number' })
      .min(0)
      .max(1, { message: 'expected a probability between 0 and 1' })
      .default(0.6),
    OCR_MAX_TOKENS: int(1, 65_536).default(2_048),
    /**
     * Keep the N lowest-confidence OCR images of the last hour as thumbnails in DATA_DIR, for
     * OCR alerts (0: off). The images are users' data: opt-in.
     */
    OCR_LOW_CONFIDENCE_SAMPLES: int(0, 50).default(0),
    GUI_STEP_TIMEOUT_MS: int(100, 600_000).default(30_000),
    VIDEO_FPS: z.coerce.number({ message: 'expected a number' }).positive().max(60).default(2),
    VIDEO_MIN_FRAMES: int(1, 10_000).default(4),
    VIDEO_MAX_FRAMES: int(1, 10_000).default(768),
    /** Per-frame budget: 256 visual tokens. */
    VIDEO_FRAME_MAX_PIXELS: int(32 * 32, 16384 * 32 * 32).default(256 * 32 * 32),
    VIDEO_MAX_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(200 * 1024 * 1024),
    /**
     * Large /api/video uploads at once (a video file, a video URL, a JSON body over 1 MiB);
     * past it 429 with Retry-After, the body unread. Each may hold VIDEO_MAX_BYTES on disk.
     */
    VIDEO_MAX_CONCURRENT: int(1, 1_000).default(2),
    MONITOR_ENABLED: bool.default(true),
    MONITOR_INTERVAL_MS: int(100, 3_600_000).default(10_000),
    MONITOR_TOKEN: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
    /** When set, changing alert rules, silences and channels needs it (header X-Admin-Token). */
    MONITOR_ADMIN_TOKEN: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
    /** How operators reach this server, for links in alerts (e.g. https://vlm.example.com). */
    PUBLIC_URL: httpUrl.optional(),
    /** This node's name in alerts it sends (label `instance`); default: the host name. */
    MONITOR_INSTANCE: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s]+$/, { message: 'expected a name without spaces, such as gpu-node-3' })
      .optional(),
    /** This node's `job` label in alerts it sends: the job_name Prometheus scrapes it under. */
    MONITOR_JOB: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s]+$/, { message: 'expected a name without spaces, such as qwen3vl' })
      .default('qwen3vl'),
    MONITOR_WINDOW_MS: int(10_000, 300_000).default(60_000),
    /**
     * Routes besides the model endpoints whose latency and response sizes /metrics exports
     * as histograms (`/healthz,/api/monitor/*`); every other route gets request counters only.
     */
    METRICS_HISTOGRAM_ROUTES: list.pipe(
      z.array(
        z.string().refine((p) => p.startsWith('/'), {
          message:
            'expected route patterns such as /healthz or /api/monitor/* (a trailing * names every route under it)',
        }),
      ),
    ),
    API_KEYS: list,
    NVML_LIBRARY: z.string().min(1).optional(),
    /**
     * DCGM exporters' Prometheus pages, one per GPU host (`gpu-node-1=http://10.0.0.5:9400/metrics`):
     * the GPUs are read there instead of through NVML on this machine.
     */
    GPU_METRICS_URL: gpuMetricsTargets,
    /** Time allowed to read one GPU host's page, body included. */
    GPU_METRICS_TIMEOUT_MS: int(100, 60_000).default(2_000),
    DATA_DIR: z.string().min(1).default('./data'),
    LOG_SAMPLE_RATE: z.coerce
      .number({ message: 'expected a number' })
      .min(0, { message: 'expected a share between 0 and 1' })
      .max(1, { message: 'expected a share between 0 and 1' })
      .default(0.1),
    LOG_RING_SIZE: int(100, 1_000_000).default(10_000),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Every JSON answer held to the API description before it is sent (the test suite's; costs CPU). */
    CHECK_ANSWERS: bool.default(false),

    // ---- Running safely in production (docs/RELIABILITY.md) ----
    /** On SIGTERM/SIGINT: how long requests in flight (streams too) may take to finish before being cut. */
    SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(30_000),
    /**
     * Host names the server answers to besides loopback names, IP addresses, its own host
     * name, HOST and PUBLIC_URL ("*": any; ".example.com": it and its subdomains).
     */
    ALLOWED_HOSTS: list,
    /** Origins (scheme://host[:port]) of other pages that may change this server or open its stream. */
    ALLOWED_ORIGINS: list.pipe(
      z.array(
        z.string().refine((o) => /^https?:\/\/[^/]+$/i.test(o), {
          message: 'expected origins such as https://vlm.example.com (scheme://host[:port], no path)',
        }),
      ),
    ),
    /** Time for a client to send its request headers (nginx's client_header_timeout). */
    HEADERS_TIMEOUT_MS: int(1_000, 3_600_000).default(60_000),
    /** Time for a client to send its whole request, body included (Prometheus's --web.read-timeout). */
    REQUEST_TIMEOUT_MS: int(1_000, 3_600_000).default(300_000),
    /** How long an idle keep-alive connection stays open (above the 60 s idle timeout of common balancers). */
    KEEP_ALIVE_TIMEOUT_MS: int(1_000, 3_600_000).default(72_000),
    /** Connections open at once (Prometheus's --web.max-connections); past it the slowest waiting one is closed. */
    MAX_CONNECTIONS: int(16, 1_000_000).default(512),
    /** Model requests sent at once (connections to the model server); default MAX_CONNECTIONS. */
    UPSTREAM_MAX_CONNECTIONS: int(1, 1_000_000).optional(),
    /** Monitor WebSockets open at once (default: a quarter of MAX_CONNECTIONS), so they never crowd out requests. */
    MAX_WEBSOCKETS: int(1, 1_000_000).optional(),
    /** Monitor WebSockets one client address may hold open (tabs of one operator, or a proxy for several). */
    MAX_WEBSOCKETS_PER_CLIENT: int(1, 1_000_000).default(16),
    /** Alert rules at most. */
    ALERT_RULES_MAX: int(1, 100_000).default(500),
  })
  .superRefine((c, ctx) => {
    if (c.MAX_WEBSOCKETS !== undefined && c.MAX_WEBSOCKETS >= c.MAX_CONNECTIONS) {
      ctx.addIssue({
        code: 'custom',
        path: ['MAX_WEBSOCKETS'],
        message: `expected fewer than MAX_CONNECTIONS (${c.MAX_CONNECTIONS}): requests and probes need connections too`,
      });
    }
    if (c.HEADERS_TIMEOUT_MS > c.REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['HEADERS_TIMEOUT_MS'],
        message: `expected at most REQUEST_TIMEOUT_MS (${c.REQUEST_TIMEOUT_MS}): the headers are part of the request`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** MAX_WEBSOCKETS, or its default: a quarter of MAX_CONNECTIONS. */
export const maxWebSockets = (c: Config): number => c.MAX_WEBSOCKETS ?? Math.max(1, Math.floor(c.MAX_CONNECTIONS / 4));

/** Names whose values are never echoed, not even in an error. */
const SECRET_KEYS = new Set(['UPSTREAM_API_KEY', 'MONITOR_TOKEN', 'MONITOR_ADMIN_TOKEN', 'API_KEYS']);

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Reads the configuration from `env`; a JSON file named by CONFIG_FILE supplies values
 * the environment does not. Throws ConfigError naming each bad variable, its value and
 * what was expected.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const merged: Record<string, unknown> = {};
  if (env.CONFIG_FILE) {
    let fileValues: unknown;
    try {
      fileValues = JSON.parse(readFileSync(env.CONFIG_FILE, 'utf8'));
    } catch (err) {
      throw new ConfigError([`CONFIG_FILE=${env.CONFIG_FILE}: ${(err as Error).message}`]);
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError([`CONFIG_FILE=${env.CONFIG_FILE}: expected a JSON object of settings`]);
    }
    for (const [k, v] of Object.entries(fileValues)) merged[k] = typeof v === 'string' ? v : String(v);
  }
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    // An empty variable means "not set", as shells and compose files often leave them.
    if (v !== undefined && v !== '') merged[key] = v;
  }
  const parsed = configSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '(config)');
    const raw = merged[key];
    const shown = SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(raw);
    return `${key}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}
