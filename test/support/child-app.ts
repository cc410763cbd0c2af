import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_JWT_SECRET } from '../setup/app';

export interface ChildApp {
  proc: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  exited: Promise<number | null>;
  /** stdout (pino's JSON lines) when started with `captureLogs` */
  logs: string[];
}

export interface ChildAppOptions {
  /** run it as a terminal runs `npm start`: its own process group, which Ctrl-C signals as a whole */
  ownGroup?: boolean;
  /** keep its log lines (stdout) in `logs` */
  captureLogs?: boolean;
}

/**
 * The built server (dist/main.js, `npm test` builds first) as a child process, so a test can
 * SIGKILL it or SIGTERM it like an operator would. Resolves once /ready answers 200. A null
 * `dbUrl` runs it as `npm start` does on a fresh machine: no DATABASE_URL, embedded PostgreSQL.
 */
export async function startChildApp(
  dbUrl: string | null,
  env: Record<string, string> = {},
  port = 0,
  readyMs = 30_000,
  opts: ChildAppOptions = {},
): Promise<ChildApp> {
  // below the kernel's ephemeral range (32768+), where listen(0) and outgoing sockets take theirs
  const p = port || 20000 + Math.floor(Math.random() * 12000);
  const proc = spawn(process.execPath, [join(__dirname, '../../dist/main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      APP_ENV: 'test',
      PORT: String(p),
      HOST: '127.0.0.1',
      ...(dbUrl === null ? {} : { DATABASE_URL: dbUrl }),
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'error',
      MIGRATIONS_RUN: 'false',
      RATE_LIMIT_AUTH_PER_MIN: '100000',
      RATE_LIMIT_API_PER_MIN: '100000',
      WS_EVENTS_BURST: '100000',
      WS_EVENTS_PER_SEC: '100000',
      ...env,
    },
    stdio: ['ignore', opts.captureLogs ? 'pipe' : 'ignore', 'inherit'],
    detached: opts.ownGroup ?? false,
  });
  const logs: string[] = [];
  let partial = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!; // a line the next chunk completes
    logs.push(...lines.filter(Boolean));
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + readyMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`child app on port ${p} did not become ready`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, port: p, url, wsUrl: `ws://127.0.0.1:${p}/api/v1/ws`, exited, logs };
}
