import { DataSource } from 'typeorm';
import type { Json } from '../setup/clients';

export interface Res {
  status: number;
  body: Json;
  text: string;
  contentType: string;
  ms: number;
}

/** fetch with a hard timeout (a hang fails the test instead of stalling it); JSON parsed when possible. */
export async function req(
  base: { url: string },
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; raw?: BodyInit; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined = opts.raw;
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.json);
  } else if (typeof opts.raw === 'string') {
    headers['content-type'] ??= 'application/json';
  }
  const t0 = performance.now();
  const res = await fetch(base.url + path, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
  const text = await res.text();
  let json: Json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { __unparsable__: text };
  }
  return { status: res.status, body: json, text, contentType: res.headers.get('content-type') ?? '', ms: performance.now() - t0 };
}

/** A 4xx in the protocol's error shape: JSON `{"error": "<non-empty text>", ...}`. */
export function expectClientError(r: Res, what: string): void {
  const ok = r.status >= 400 && r.status < 500 && r.contentType.includes('application/json') && typeof r.body.error === 'string' && r.body.error.length > 0;
  if (!ok) throw new Error(`${what}: expected a 4xx JSON error, got ${r.status} ${r.contentType} ${r.text.slice(0, 300)}`);
}

/** Never 5xx; any error is in the protocol's shape. */
export function expectNo5xx(r: Res, what: string): void {
  if (r.status >= 500) throw new Error(`${what}: got ${r.status} ${r.text.slice(0, 300)}`);
  if (r.status >= 400) expectClientError(r, what);
}

/** Digest of every row of every table a request could write: equal digests = nothing written or changed. */
export async function dbFingerprint(ds: DataSource): Promise<string> {
  // presence columns (is_online, last_seen) follow sockets, not requests: left out
  const tables: [string, string][] = [
    ['users', '(x.id, x.username, x.email, x.password, x.avatar, x.status, x.username_changed_at, x.token_version, x.token_keep_jti, x.updated_at)::text'],
    ['rooms', 'x::text'],
    ['room_members', 'x::text'],
    ['messages', 'x::text'],
    ['token_blacklists', 'x::text'],
    ['uploads', 'x::text'],
  ];
  const parts = tables.map(([t, row]) => `(SELECT count(*) || ':' || md5(coalesce(string_agg(${row}, '|' ORDER BY ${row}), '')) FROM ${t} x)`);
  const rows: { f: string }[] = await ds.query(`SELECT ${parts.join(" || ',' || ")} AS f`);
  return rows[0].f;
}

export async function tableCount(ds: DataSource, table: string): Promise<number> {
  const rows: { n: string }[] = await ds.query(`SELECT count(*)::int AS n FROM ${table}`);
  return Number(rows[0].n);
}

/** A gc function when it can be had (node flag or v8 trick), else null. */
export function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('v8').setFlagsFromString('--expose_gc');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('vm').runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

export async function heapAfterGc(): Promise<number> {
  const gc = getGc();
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/** UUIDs in odd forms (the accepted ones are the Go forms) and garbage. */
export const BAD_IDS = [
  'not-a-uuid',
  '123',
  '00000000-0000-0000-0000-00000000000',
  '00000000-0000-0000-0000-0000000000000',
  'g0000000-0000-0000-0000-000000000000',
  '((((((((-((((-((((-((((-((((((((((((',
  "' OR 1=1 --",
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  'x'.repeat(5000),
  '%F0%9F%98%80',
  '%E2%80%AE',
  '%ED%A0%80',
  '[object Object]',
  'null',
  '-1',
  '1e308',
];

/** BATTERY_RUNS_FACTOR=10 for a deeper local run; the default keeps the suite fast. */
export const RUNS_FACTOR = Math.max(1, Number(process.env.BATTERY_RUNS_FACTOR ?? 1));
// CI runs a fixed seed (a red run must be reproducible); locally every run explores new cases.
const SEED = process.env.BATTERY_SEED ? Number(process.env.BATTERY_SEED) : process.env.CI ? 20261127 : undefined;
/** fast-check options: the runs, cut short (not failed) after 40 s on a starved machine; the printed counts say how many ran. */
export const budget = (n: number) => ({
  numRuns: Math.round(n * RUNS_FACTOR),
  seed: SEED,
  interruptAfterTimeLimit: 40_000 * RUNS_FACTOR,
  markInterruptAsFailure: false,
});

/** Cases run per family, printed at the end of a file. */
export function caseCounter(): { counts: Record<string, number>; count(family: string, n?: number): void } {
  const counts: Record<string, number> = {};
  return { counts, count: (family, n = 1) => void (counts[family] = (counts[family] ?? 0) + n) };
}
