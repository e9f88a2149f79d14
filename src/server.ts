// Server entry: read the configuration, start the app, print where the Monitor is, and
// shut down gracefully on SIGINT/SIGTERM (drain requests in flight, then stop).
import { buildApp, type AppOptions } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';

export async function startServer(config: Config, opts: AppOptions = {}) {
  const built = await buildApp(config, opts);
  const { app, token } = built;
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  built.startMonitor();

  const port = (app.server.address() as { port: number }).port;
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  app.log.info(
    { address, upstream: config.UPSTREAM_URL ?? null, monitor: config.MONITOR_ENABLED },
    'Qwen3-VL WebUI listening',
  );
  if (!config.UPSTREAM_URL) app.log.warn('UPSTREAM_URL is not set: model endpoints answer 503 until it is');
  if (config.MONITOR_ENABLED) {
    // stdout is the log: JSON lines only, and never the token (log shippers keep what they read).
    const where = token.source === 'env' ? 'MONITOR_TOKEN' : `${config.DATA_DIR}/monitor-token`;
    app.log.info({ monitor_url: `http://${shownHost}:${port}/monitor`, token_from: where }, 'Monitor ready');
    // A person at a terminal gets the ready-to-open link, as Jupyter prints it.
    if (process.stderr.isTTY) {
      const link = `http://${shownHost}:${port}/monitor?token=${encodeURIComponent(token.token)}`;
      process.stderr.write(`\n  Monitor: ${link}\n  (token from ${where}; loopback clients need none)\n\n`);
    }
  }
  // The start lines now, not at the log's next batch (src/log/stdout.ts): someone is
  // watching them. Fastify's logger type leaves out the flush pino's logger has.
  if ('flush' in app.log && typeof app.log.flush === 'function') app.log.flush();

  // SIGTERM/SIGINT drain: /readyz 503 at once, no new connections, requests in flight
  // get SHUTDOWN_GRACE_MS to finish, then the alert history is written and we exit 0.
  // A second signal cuts what is left at once (Ctrl-C twice).
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: cutting the requests still in flight');
      built.cutNow();
      return;
    }
    closing = true;
    const started = performance.now();
    app.log.info({ signal, grace_ms: config.SHUTDOWN_GRACE_MS }, 'shutting down: draining requests in flight');
    built.shutdown(config.SHUTDOWN_GRACE_MS).then(
      (result) => {
        app.log.info(
          {
            drained_ms: Math.round(performance.now() - started),
            cut: result.cut,
            in_flight_at_start: result.inFlightAtStart,
          },
          'shut down',
        );
        process.exit(0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return built;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  startServer(config).catch((err: unknown) => {
    process.stderr.write(`Failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
