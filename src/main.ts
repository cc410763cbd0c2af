import 'reflect-metadata';
import { prepareDatabase, startApp } from './bootstrap';
import { loadConfig } from './config/app-config';
import { EmbeddedDb, startEmbeddedPostgres } from './database/embedded-postgres';

/** Plain JSON lines before the app's logger exists (same shape as pino's). */
function log(level: 'info' | 'error', msg: string): void {
  process.stderr.write(JSON.stringify({ level: level === 'info' ? 30 : 50, time: Date.now(), context: 'Bootstrap', msg }) + '\n');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const config = loadConfig(process.env, (m) => log('info', m));
  let embedded: EmbeddedDb | null = null;
  let url = config.DATABASE_URL;
  let started: Awaited<ReturnType<typeof startApp>> | null = null;
  const stop = async (signal: string) => {
    log('info', `${signal} received, shutting down`);
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 10_000);
    force.unref();
    try {
      await started?.shutdown();
      await embedded?.stop();
    } finally {
      process.exit(0);
    }
  };
  // A second signal while shutting down (Ctrl-C pressed again) exits at once; the embedded
  // cluster still stops (embedded-postgres's exit hook). Unhandled, it killed the process outright.
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      log('info', `${signal} received again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    void stop(signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // a hangup (the terminal closed) too; Node.js resets SIGHUP at start-up even under nohup
  process.on('SIGHUP', () => onSignal('SIGHUP'));
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.DATA_DIR,
      port: config.EMBEDDED_PG_PORT,
      log: (m) => log('info', m),
      ownProcessGroup: true,
    });
    url = embedded.url;
    log('info', `embedded PostgreSQL running on 127.0.0.1:${config.EMBEDDED_PG_PORT} (data in ${config.DATA_DIR}/pg)`);
  }
  try {
    const applied = await prepareDatabase(url, config);
    if (applied > 0) log('info', `applied ${applied} migration(s)`);
    started = await startApp(config, url);
    log('info', `ChatApp listening on http://${config.HOST}:${started.port} (ready in ${Date.now() - t0} ms)`);
  } catch (e) {
    log('error', `start-up failed: ${e instanceof Error ? e.message : String(e)}`);
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

main().catch((e) => {
  log('error', e instanceof Error ? e.message : String(e));
  process.exit(1);
});
