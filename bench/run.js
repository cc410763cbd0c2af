'use strict';
/**
 * npm run bench [-- --quick] [-- --only=S1,S3]
 * Starts the baseline (bench/baseline.js) and ChatApp (dist/main.js) as child processes pinned to
 * core 0, the load generator (bench/loadgen.js) pinned to core 1, alternates B,C,B,C,... over the
 * same ladder of offered rates, and writes bench/results/<time>.json, bench/results/latest.json
 * and bench/results/latest.md. See bench/README.md for the method.
 */
const { spawn, fork, execFileSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const net = require('node:net');
const { Client } = require('pg');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(__dirname, 'results', `.dist-${process.pid}`); // inside the repo: node_modules resolve
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ONLY = (args.find((a) => a.startsWith('--only=')) || '').slice(7).split(',').filter(Boolean);
const want = (s) => ONLY.length === 0 || ONLY.includes(s);
const NPROC = os.cpus().length;
const PIN = NPROC >= 2 && existsSync('/usr/bin/taskset');
const DB_BASE = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL || '';
const JWT_SECRET = randomBytes(32).toString('hex');
/** Node options from an environment variable, split at spaces. */
const nodeArgs = (name) => (process.env[name] || '').split(' ').filter(Boolean);
// e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every server process (B and C)
const NODE_ARGS = nodeArgs('BENCH_NODE_ARGS');
// the same for the load generator alone (its profile is written when the run ends)
const GEN_NODE_ARGS = nodeArgs('BENCH_GEN_NODE_ARGS');
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

const P = QUICK
  ? { users: 200, rounds: 1, stepMs: 1200, drainMs: 1000, idleSockets: 1000, s5WindowMs: 4000, s6Rate: 500, costSteps: 1 }
  : { users: 1000, rounds: 3, stepMs: 2000, drainMs: 1500, idleSockets: 10000, s5WindowMs: 10000, s6Rate: 1000, costSteps: 3 };

const opt = (name) => (args.find((a) => a.startsWith(`--${name}=`)) || '').split('=')[1];
if (opt('users')) P.users = Number(opt('users'));
if (opt('rounds')) P.rounds = Number(opt('rounds'));
const PLAIN = !QUICK || args.includes('--plain');
// A/B mode: the same fixed offered rates for every server instead of the ladder (e.g. --fixed=1000,2000),
// optionally with a second ChatApp build (--c2=<its dist directory>) alternating with the first.
const FIXED = (opt('fixed') || '').split(',').filter(Boolean).map(Number);
// BENCH_C2_NODE_ARGS: node options for C2 only (then --c2 may name the same dist to compare options)
const C2_SRC = opt('c2') ? path.resolve(opt('c2')) : null;
const C2_DIST = C2_SRC ? path.join(__dirname, 'results', `.dist2-${process.pid}`) : null; // a private copy, as for dist
const C2_NODE_ARGS = nodeArgs('BENCH_C2_NODE_ARGS');
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Resolves when the child has exited or after `ms`, whichever is first (no timer left behind). */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const timer = setTimeout(done, ms);
    child.once('exit', done);
    function done() {
      clearTimeout(timer);
      child.off('exit', done);
      r();
    }
  });
}
const median = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

// ---------------------------------------------------------------- processes
const children = new Set();
function freePort() {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}
function pinned(core, argv) {
  return PIN ? ['/usr/bin/taskset', ['-c', String(core), process.execPath, ...argv]] : [process.execPath, argv];
}
async function waitHttp(url, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`not ready: ${url}`);
}
async function startServer(kind, extraEnv = {}, distDir = null) {
  const port = await freePort();
  const eldFile = path.join(os.tmpdir(), `chat_bench_eld_${process.pid}_${port}.json`);
  const readEld = () => {
    try {
      return JSON.parse(readFileSync(eldFile, 'utf8'));
    } catch {
      return null;
    }
  };
  let argv, env;
  // eld-probe.js, preloaded into both servers: event-loop delay and GC pauses, read over SIGUSR2
  const probe = ['-r', path.join(__dirname, 'eld-probe.js')];
  if (kind === 'B') {
    argv = [...NODE_ARGS, ...probe, path.join(__dirname, 'baseline.js')];
    env = { PATH: process.env.PATH, PORT: String(port), DATABASE_URL: DB_URL, BENCH_ELD_FILE: eldFile, ...extraEnv };
  } else {
    argv = [...NODE_ARGS, ...(distDir ? C2_NODE_ARGS : []), ...probe, path.join(distDir || DIST, 'main.js')];
    env = {
      BENCH_ELD_FILE: eldFile,
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: DB_URL,
      JWT_SECRET,
      DATA_DIR: path.join(os.tmpdir(), `chat_bench_${process.pid}`),
      // a load test: one client address registers everyone and sends thousands of frames/s
      RATE_LIMIT_AUTH_PER_MIN: '10000000',
      RATE_LIMIT_API_PER_MIN: '10000000',
      WS_MAX_SOCKETS_PER_USER: '50',
      WS_MAX_UNAUTHENTICATED: '20000',
      WS_EVENTS_BURST: '1000000',
      WS_EVENTS_PER_SEC: '1000000',
      WS_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024),
      ...extraEnv,
    };
  }
  const [cmd, a] = pinned(0, argv);
  const child = spawn(cmd, a, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  children.add(child);
  child.on('exit', () => children.delete(child));
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(kind === 'B' ? `${base}/stats` : `${base}/health`).catch((e) => {
    throw new Error(`${e.message}\n${stderr}`);
  });
  return {
    kind,
    port,
    pid: child.pid,
    url: base,
    wsUrl: `ws://127.0.0.1:${port}/api/v1/ws`,
    stderr: () => stderr,
    /** Event-loop delay and GC pauses (and for the baseline its batch counters) since the previous call; null if unavailable. */
    async stats() {
      const batches = kind === 'B' ? await fetch(`${base}/stats`).then((r) => r.json()).catch(() => null) : null;
      const before = readEld()?.n ?? 0;
      if (child.exitCode !== null || !child.kill('SIGUSR2')) return batches;
      for (const end = Date.now() + 2000; Date.now() < end; await sleep(5)) {
        const s = readEld();
        if (s && s.n > before) return batches ? { ...batches, ...s } : s;
      }
      return batches;
    },
    async stop() {
      rmSync(eldFile, { force: true });
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited(child, 15000);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
function cpuUs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_US; // utime + stime
}
/** System calls that read / wrote (all threads), from /proc/<pid>/io; null where not readable. */
function sysIo(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/syscr:\s+(\d+)/.exec(t)[1]), w: Number(/syscw:\s+(\d+)/.exec(t)[1]) };
  } catch {
    return null;
  }
}
/**
 * CPU time of the PostgreSQL the bench uses, when it runs on this machine: every `postgres` process
 * (user + system), plus what the postmaster collected from backends that exited (cutime + cstime).
 * null when the database is elsewhere or /proc cannot tell.
 */
const PG_LOCAL = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(DB_BASE).hostname);
function pgCpuUs() {
  if (!PG_LOCAL) return null;
  let ticks = 0;
  let seen = 0;
  for (const d of readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    let f;
    try {
      f = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (f.slice(f.indexOf('(') + 1, f.lastIndexOf(')')) !== 'postgres') continue;
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    ticks += Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
    seen++;
  }
  return seen ? ticks * TICK_US : null;
}
/**
 * Busy CPU time of the whole machine, all cores (everything but idle and iowait in /proc/stat),
 * and the part of it the hypervisor took for other guests (steal: time a virtual core was ready
 * to run but had no real core), both in µs.
 */
function machineBusyUs() {
  const f = readFileSync('/proc/stat', 'utf8');
  const v = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal (guest is inside user)
  return { busy: (total - v[3] - v[4]) * TICK_US, steal: v[7] * TICK_US };
}
/**
 * Marks a process's CPU time and system-call counters, PostgreSQL's CPU time and the machine's
 * busy time; `.since()` gives what each used after the mark.
 */
function usage(pid) {
  const cpu0 = cpuUs(pid);
  const io0 = sysIo(pid);
  const pg0 = pgCpuUs();
  const m0 = machineBusyUs();
  return {
    since() {
      const io1 = sysIo(pid);
      const pg1 = pgCpuUs();
      const m1 = machineBusyUs();
      return {
        cpuUs: cpuUs(pid) - cpu0,
        writes: io0 && io1 ? io1.w - io0.w : null,
        reads: io0 && io1 ? io1.r - io0.r : null,
        pgUs: pg0 !== null && pg1 !== null ? pg1 - pg0 : null,
        machineUs: m1.busy - m0.busy,
        stealUs: m1.steal - m0.steal,
      };
    },
  };
}
function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : null;
}
/** Wait until the server has been (nearly) idle for 300 ms: the previous step's backlog is gone. */
async function quiet(pid, maxMs = 8000) {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const c0 = cpuUs(pid);
    await sleep(300);
    if (cpuUs(pid) - c0 < 300 * 1000 * 0.15) return;
  }
}

let gen = null;
let reqId = 0;
const pending = new Map();
function startGen() {
  const [cmd, a] = pinned(1, [...GEN_NODE_ARGS, path.join(__dirname, 'loadgen.js')]);
  const child = spawn(cmd, a, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('message', (m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    m.ok ? p.resolve(m.r) : p.reject(new Error(m.error));
  });
  gen = child;
}
function call(cmd, body = {}) {
  const id = ++reqId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    gen.send({ id, cmd, ...body });
  });
}

// ---------------------------------------------------------------- database + users
let DB_URL = '';
const DB_NAME = `chat_bench_${process.pid}`;
async function adminQuery(sql) {
  const c = new Client({ connectionString: DB_BASE });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
async function dbQuery(sql, params) {
  const c = new Client({ connectionString: DB_URL });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
async function api(server, method, p, token, body) {
  const r = await fetch(server.url + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return JSON.parse(text);
}
async function pool(n, conc, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}
/** Real registrations over REST, then rooms created and joined over REST. */
async function setupUsers(server, n) {
  const t0 = Date.now();
  const tag = randomBytes(3).toString('hex');
  const users = await pool(n, 8, async (i) => {
    const username = `b${tag}_${i}`;
    const r = await api(server, 'POST', '/api/v1/auth/register', null, { username, email: `${username}@bench.local`, password: 'passw0rd' });
    return { id: r.user.id, username, token: r.token };
  });
  const regMs = Date.now() - t0;
  log(`registered ${n} users over REST in ${regMs} ms (${Math.round((n * 1000) / regMs)}/s)`);
  return { users, regMs };
}
async function makeRooms(server, users, size, label) {
  const groups = [];
  for (let i = 0; i + size <= users.length; i += size) groups.push(users.slice(i, i + size).map((_, k) => i + k));
  const rooms = await pool(groups.length, 4, async (g) => {
    const members = groups[g];
    const room = await api(server, 'POST', '/api/v1/rooms', users[members[0]].token, { name: `${label}-${g}` });
    await pool(members.length - 1, 8, (k) => api(server, 'POST', `/api/v1/rooms/${room.id}/join`, users[members[k + 1]].token));
    return { id: room.id, members };
  });
  log(`${label}: ${rooms.length} rooms of ${size}`);
  return rooms;
}
function clientSpecs(server, users, rooms, socketsPerUser = 1, inst = () => 0, servers = null) {
  const joins = new Map();
  for (const r of rooms) for (const m of r.members) (joins.get(m) || joins.set(m, []).get(m)).push(r.id);
  const specs = [];
  for (let k = 0; k < socketsPerUser; k++)
    users.forEach((u, i) => {
      const s = servers ? servers[inst(i)] : server;
      specs.push(
        s.kind === 'B'
          ? { url: `${s.wsUrl}?uid=${u.id}&name=${u.username}`, joins: joins.get(i) || [], inst: inst(i) }
          : { url: s.wsUrl, headers: { authorization: `Bearer ${u.token}` }, inst: inst(i) },
      );
    });
  return specs;
}

/**
 * A fresh server with every user's socket open (rooms joined), settled for 300 ms; `fn(server, conn)`
 * runs the steps, then the sockets are closed and the server stopped, whatever happened.
 */
async function withConnectedServer(kind, env, dist, users, rooms, fn) {
  const server = await startServer(kind, env, dist);
  try {
    const conn = await call('connect', { clients: clientSpecs(server, users, rooms), concurrency: 200 });
    if (conn.failed) log(`  ${kind}: ${conn.failed} sockets failed`, conn.errors);
    await sleep(300);
    return await fn(server, conn);
  } finally {
    await call('close');
    await server.stop();
  }
}
/** The baseline persisting with the same group commit as ChatApp (S3 and its fixed-rate variant). */
const B_SEQ = ['B_seq', 'B', { BASELINE_PERSIST: 'seq' }];

// ---------------------------------------------------------------- measuring a step
async function measure(server, rooms, rate, opts = {}) {
  await quiet(server.pid);
  await server.stats(); // starts the event-loop delay window
  const mark = usage(server.pid);
  const r = await call('step', { rate, durationMs: opts.stepMs || P.stepMs, drainMs: P.drainMs, rooms, clientMsgId: !!opts.clientMsgId });
  const { cpuUs: cpu, writes, pgUs, machineUs, stealUs } = mark.since();
  rooms.sent = (rooms.sent || 0) + r.sent;
  r.server_cpu_us_per_delivery = r.received ? cpu / r.received : null;
  r.write_calls_per_delivery = writes !== null && r.received ? writes / r.received : null;
  const pct = (us) => (us === null ? null : (us / ((r.send_ms || 1) * 1000)) * 100);
  r.server_cpu_pct = pct(cpu);
  r.gen_cpu_pct = pct(r.gen_cpu_ms * 1000); // on the same basis as the server's
  // PostgreSQL (all its processes) and the whole machine (all cores), on the same basis
  r.pg_cpu_pct = pct(pgUs);
  r.pg_cpu_us_per_msg = pgUs !== null && r.sent ? pgUs / r.sent : null;
  r.machine_cpu_pct = pct(machineUs);
  r.steal_cpu_pct = pct(stealUs); // included in machine_cpu_pct
  r.rss_mb = rssKb(server.pid) / 1024;
  const s = await server.stats();
  r.eld_p99_ms = s ? s.eld_p99_ms : null;
  // GC pauses while the step ran, as a share of the send time; the longest young-generation pause
  r.gc_pct = s && s.gc ? ((s.gc.minor.ms + s.gc.major.ms) / (r.send_ms || 1)) * 100 : null;
  r.gc_minor_max_ms = s && s.gc ? s.gc.minor.max_ms : null;
  if (s && s.batches) Object.assign(r, { db_batches: s.batches, db_avg_batch: s.avg_batch, db_avg_insert_ms: s.avg_insert_ms });
  r.warmup = !!opts.warmup;
  r.pass = r.delivered >= 0.999 && r.p50_ms !== null && r.p50_ms <= 5 && r.p90_ms <= 50;
  const e = Object.keys(r.errors).length ? ` errors=${JSON.stringify(r.errors).slice(0, 200)}` : '';
  log(
    `  ${server.label || server.kind}${opts.warmup ? ' warm-up' : ''} ${rate}/s: delivered ${(r.delivered * 100).toFixed(2)}% lost ${r.lost} dup ${r.dup} p50 ${fmt(r.p50_ms)} p90 ${fmt(r.p90_ms)} p99 ${fmt(r.p99_ms)} ms, ` +
      `cpu ${r.server_cpu_pct.toFixed(0)}% ${fmt(r.server_cpu_us_per_delivery)} µs/delivery ${fmt(r.write_calls_per_delivery)} writes/delivery eld p99 ${fmt(r.eld_p99_ms)} ms gc ${fmt(r.gc_pct, 1)}% (scavenge max ${fmt(r.gc_minor_max_ms, 1)} ms), gen ${r.gen_cpu_ms} ms, pg ${fmt(r.pg_cpu_pct, 0)}% machine ${fmt(r.machine_cpu_pct, 0)}% (steal ${fmt(r.steal_cpu_pct, 0)}%)${r.db_batches ? ` db ${r.db_batches} batches avg ${fmt(r.db_avg_batch, 1)} rows ${fmt(r.db_avg_insert_ms)} ms` : ''} ${r.pass ? 'PASS' : 'FAIL'}${e}`,
  );
  if (r.lost > 0 && server.stderr().trim()) log(`  ${server.kind} stderr: ${server.stderr().slice(-300).trim()}`);
  return r;
}
const fmt = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

/** A failing ladder step that lost this much of a core to steal is measured again (at most STEAL_RETRIES times). */
const STEAL_RETRY_PCT = 10;
const STEAL_RETRIES = 2;

/** Geometric ladder ×1.5 until the first failing step, then two bisection steps. */
async function ladder(server, rooms, start, opts = {}) {
  // warm-up (JIT, pools, caches): measured but not part of the ladder
  await measure(server, rooms, Math.round(start / 2), { ...opts, stepMs: 1000, warmup: true });
  const steps = [];
  let ok = 0;
  let bad = null;
  let rate = start;
  // A failing step is measured again before it counts: once in the full mode (a scheduling hiccup
  // on a busy machine), and in either mode up to STEAL_RETRIES more times while the failing
  // measurement had STEAL_RETRY_PCT % of a core or more stolen by the hypervisor (on a VM, other
  // guests' load, not the server's; both servers get the same rule).
  const tryStep = async (rate) => {
    let r = await measure(server, rooms, rate, opts);
    let plain = QUICK ? 0 : 1;
    let stolen = STEAL_RETRIES;
    while (!r.pass) {
      if (plain > 0) plain--;
      else if (stolen > 0 && r.steal_cpu_pct >= STEAL_RETRY_PCT) {
        stolen--;
        log(`    (${fmt(r.steal_cpu_pct, 0)}% of a core stolen by the hypervisor: measured again)`);
      } else break;
      steps.push({ ...r, retried: true });
      r = await measure(server, rooms, rate, opts);
    }
    return r;
  };
  for (let i = 0; i < 14; i++) {
    const r = await tryStep(Math.round(rate));
    steps.push(r);
    if (!r.pass) {
      bad = r.rate;
      break;
    }
    ok = r.rate;
    rate *= 1.5;
  }
  for (let i = 0; i < 2 && bad; i++) {
    const mid = Math.round(ok > 0 ? Math.sqrt(ok * bad) : bad / 2);
    if (mid <= ok || mid >= bad) break;
    const r = await tryStep(mid);
    steps.push(r);
    if (r.pass) ok = r.rate;
    else bad = r.rate;
  }
  return { knee: ok, steps };
}

// ---------------------------------------------------------------- scenarios
/** S1/S2: B and C alternate; R_cost at 25% and 50% of the baseline knee, R_cap = knee ratio. */
async function fanoutScenario(name, users, rooms, start) {
  const rounds = [];
  for (let k = 0; k < P.rounds; k++) {
    log(`${name} round ${k + 1}/${P.rounds}`);
    const round = {};
    let kneeB = 0;
    for (const kind of ['B', 'C']) {
      round[kind] = await withConnectedServer(kind, {}, null, users, rooms, async (server, conn) => {
        const lad = await ladder(server, rooms, start);
        if (kind === 'B') kneeB = lad.knee;
        const cost = {};
        for (const f of [0.25, 0.5]) cost[f] = await costStep(server, rooms, Math.max(50, Math.round(kneeB * f)));
        return { knee: lad.knee, ladder: lad.steps, cost, connect: conn, at_knee: cpuAtKnee(lad) };
      });
    }
    round.r_cap = round.B.knee ? round.C.knee / round.B.knee : null;
    for (const f of [0.25, 0.5]) {
      const b = round.B.cost[f].server_cpu_us_per_delivery;
      const c = round.C.cost[f].server_cpu_us_per_delivery;
      round[`r_cost_${f * 100}`] = b && c ? c / b : null;
    }
    log(`${name} round ${k + 1}: knee B ${round.B.knee} C ${round.C.knee} R_cap ${fmt(round.r_cap)} R_cost25 ${fmt(round.r_cost_25)} R_cost50 ${fmt(round.r_cost_50)}`);
    rounds.push(round);
  }
  const med = (f) => median(rounds.map(f));
  return {
    rounds,
    knee_b: med((r) => r.B.knee),
    knee_c: med((r) => r.C.knee),
    r_cap: med((r) => r.r_cap),
    r_cost_25: med((r) => r.r_cost_25),
    r_cost_50: med((r) => r.r_cost_50),
    us_b_50: med((r) => r.B.cost[0.5].server_cpu_us_per_delivery),
    us_c_50: med((r) => r.C.cost[0.5].server_cpu_us_per_delivery),
    lat_b_50: ['p50_ms', 'p90_ms', 'p99_ms'].map((q) => med((r) => r.B.cost[0.5][q])),
    lat_c_50: ['p50_ms', 'p90_ms', 'p99_ms'].map((q) => med((r) => r.C.cost[0.5][q])),
    rss_b: med((r) => r.B.cost[0.5].rss_mb),
    rss_c: med((r) => r.C.cost[0.5].rss_mb),
    eld_b: med((r) => r.B.cost[0.5].eld_p99_ms),
    eld_c: med((r) => r.C.cost[0.5].eld_p99_ms),
    // the generator must cost less than the server it measures, above all at the baseline's knee
    knee_cpu: Object.fromEntries(['B', 'C'].map((k) => [k, kneeCpuMedian(rounds, (r) => r[k].at_knee)])),
  };
}

/**
 * A cost point: P.costSteps steps at one rate; the step with the median CPU per delivery stands
 * for it (its latency, RSS and event-loop delay too), the others are kept as `cost_samples`.
 * One step right after an overloaded ladder step can carry the overload's aftermath.
 */
async function costStep(server, rooms, rate) {
  const steps = [];
  for (let i = 0; i < P.costSteps; i++) steps.push(await measure(server, rooms, rate));
  const us = (x) => x.server_cpu_us_per_delivery;
  const valid = steps.filter((x) => Number.isFinite(us(x))).sort((a, b) => us(a) - us(b));
  const r = valid.length ? valid[(valid.length - 1) >> 1] : steps[0]; // a step that delivered nothing has no cost
  return { ...r, cost_samples: steps.map(us) };
}

/**
 * Generator, server, PostgreSQL and whole-machine CPU (% of one core, each over the step's send +
 * drain time ÷ send time) at the knee's step; PostgreSQL's CPU per message sent.
 */
function cpuAtKnee(lad) {
  const at = lad.steps.filter((x) => x.pass && x.rate === lad.knee).pop();
  return at
    ? { gen_pct: at.gen_cpu_pct, server_pct: at.server_cpu_pct, pg_pct: at.pg_cpu_pct, machine_pct: at.machine_cpu_pct, steal_pct: at.steal_cpu_pct, pg_us_per_msg: at.pg_cpu_us_per_msg }
    : null;
}
const KNEE_CPU_KEYS = ['gen_pct', 'server_pct', 'pg_pct', 'machine_pct', 'steal_pct', 'pg_us_per_msg'];
/** Per key of cpuAtKnee, the median over rounds of one variant's knee step. */
const kneeCpuMedian = (rounds, pick) => Object.fromEntries(KNEE_CPU_KEYS.map((q) => [q, median(rounds.map((r) => pick(r)?.[q] ?? null))]));

/** S3: persistence. C (real path) vs B with the seq bump vs B without it; DB verified. */
async function s3(users, rooms) {
  const res = { rounds: [] };
  const sentPerRoom = new Map();
  for (let k = 0; k < P.rounds; k++) {
    log(`S3 round ${k + 1}/${P.rounds}`);
    const round = {};
    for (const [label, kind, env] of [B_SEQ, ['C', 'C', {}], ['B_plain', 'B', { BASELINE_PERSIST: 'plain' }]]) {
      if (!PLAIN && label === 'B_plain') continue;
      round[label] = await withConnectedServer(kind, env, null, users, rooms, async (server) => {
        const opts = { clientMsgId: kind === 'C' };
        const lad = await ladder(server, rooms, 1000, opts);
        const at2000 = await measure(server, rooms, 2000, opts);
        return { knee: lad.knee, at2000, ladder: lad.steps, at_knee: cpuAtKnee(lad) };
      });
    }
    round.seq_cost = round.B_plain ? round.B_seq.knee / round.B_plain.knee : null;
    log(`S3 round ${k + 1}: knee C ${round.C.knee} B_seq ${round.B_seq.knee} B_plain ${round.B_plain ? round.B_plain.knee : 'skipped'}`);
    res.rounds.push(round);
  }
  // Every message the generator sent to the S3 rooms is in the table exactly once, seq gapless.
  const ids = rooms.map((r) => r.id);
  const { rows } = await dbQuery(
    `SELECT r.id, r.last_seq, count(m.id)::int AS n, count(DISTINCT m.content)::int AS distinct_content,
            coalesce(max(m.seq), 0)::int AS max_seq, count(DISTINCT m.seq)::int AS distinct_seq
       FROM rooms r LEFT JOIN messages m ON m.room_id = r.id WHERE r.id = ANY($1::uuid[]) GROUP BY r.id, r.last_seq`,
    [ids],
  );
  const sent = rooms.sent || 0;
  const stored = rows.reduce((a, r) => a + r.n, 0);
  const dupContent = rows.reduce((a, r) => a + (r.n - r.distinct_content), 0);
  const gaps = rows.filter((r) => r.distinct_seq !== r.n || r.max_seq !== r.n).length;
  const plainRows = res.rounds.some((r) => r.B_plain); // B_plain numbers seq from memory per process: not gapless across processes
  res.db = { sent, stored, duplicated_content: dupContent, rooms_with_seq_gaps: gaps, note: plainRows ? 'B_plain rows are numbered per process (seq check informative only)' : '' };
  const med = (f) => median(res.rounds.map(f));
  res.knee_c = med((r) => r.C.knee);
  res.knee_b_seq = med((r) => r.B_seq.knee);
  res.knee_b_plain = med((r) => (r.B_plain ? r.B_plain.knee : null));
  res.knee_cpu = { C: kneeCpuMedian(res.rounds, (r) => r.C.at_knee), B_seq: kneeCpuMedian(res.rounds, (r) => r.B_seq.at_knee) };
  res.c_at2000 = ['p50_ms', 'p90_ms', 'p99_ms'].map((q) => med((r) => r.C.at2000[q]));
  res.b_at2000 = ['p50_ms', 'p90_ms', 'p99_ms'].map((q) => med((r) => r.B_seq.at2000[q]));
  res.c_lost = res.rounds.reduce((a, r) => a + r.C.ladder.concat(r.C.at2000).reduce((b, s) => b + (s.pass ? s.lost : 0), 0), 0);
  res.c_late_all = res.rounds.reduce((a, r) => a + r.C.ladder.concat(r.C.at2000).reduce((b, s) => b + s.lost, 0), 0);
  res.c_dup = res.rounds.reduce((a, r) => a + r.C.ladder.concat(r.C.at2000).reduce((b, s) => b + s.dup, 0), 0);
  log(`S3 DB check: sent ${sent}, stored ${stored}, duplicated ${dupContent}, rooms with seq gaps ${gaps}`);
  return res;
}

/**
 * S4 + S5: idle authenticated sockets. S4 (connect burst, RSS per socket) runs each server with its
 * default configuration; S5 (heartbeat CPU) then runs a fresh server with pings every 5 s so that
 * its window holds two ping rounds. Separate processes: the 5 s pings (6x the default rate) would
 * otherwise ping the sockets already open during the burst and bill the burst for them.
 */
async function s4s5(users) {
  const per = Math.ceil(P.idleSockets / users.length);
  const out = {};
  for (const kind of ['B', 'C']) {
    const specs = (server) => clientSpecs(server, users, [], per).slice(0, P.idleSockets);
    // S4: burst and memory
    let server = await startServer(kind);
    try {
      await sleep(QUICK ? 500 : 1000);
      await quiet(server.pid);
      const rss0 = rssKb(server.pid);
      const mark = usage(server.pid);
      const conn = await call('connect', { clients: specs(server), concurrency: 500 });
      const used = mark.since();
      await sleep(2000);
      const rss1 = rssKb(server.pid);
      out[kind] = {
        sockets: conn.ok,
        failed: conn.failed,
        connect_ms: conn.ms,
        connects_per_s: (conn.ok * 1000) / conn.ms,
        cpu_us_per_connect: conn.ok ? used.cpuUs / conn.ok : null,
        write_calls_per_connect: used.writes !== null && conn.ok ? used.writes / conn.ok : null,
        read_calls_per_connect: used.reads !== null && conn.ok ? used.reads / conn.ok : null,
        rss_before_mb: rss0 / 1024,
        rss_after_mb: rss1 / 1024,
        rss_per_socket_kb: (rss1 - rss0) / conn.ok,
      };
      log(`S4 ${kind}: ${conn.ok} sockets (${conn.failed} failed) in ${Math.round(conn.ms)} ms = ${Math.round(out[kind].connects_per_s)}/s (${fmt(out[kind].cpu_us_per_connect, 0)} µs CPU, ` +
        `${fmt(out[kind].write_calls_per_connect, 1)} write / ${fmt(out[kind].read_calls_per_connect, 1)} read calls each), ` +
        `RSS ${fmt(rss0 / 1024, 0)} -> ${fmt(rss1 / 1024, 0)} MB = ${fmt(out[kind].rss_per_socket_kb, 1)} KB/socket`);
      if (conn.failed) log('  errors', conn.errors);
    } finally {
      await call('close');
      await server.stop();
    }
    // S5: heartbeat CPU with the same number of idle sockets
    server = await startServer(kind, kind === 'C' ? { WS_PING_INTERVAL_MS: '5000' } : {});
    try {
      const idleMs = QUICK ? 2000 : 3000;
      await sleep(QUICK ? 500 : 1000);
      const idle = usage(server.pid);
      await sleep(idleMs);
      const idlePct = (idle.since().cpuUs / (idleMs * 1000)) * 100;
      const conn = await call('connect', { clients: specs(server), concurrency: 500 });
      await sleep(2000);
      const window = usage(server.pid);
      await sleep(P.s5WindowMs);
      const windowPct = (window.since().cpuUs / (P.s5WindowMs * 1000)) * 100;
      const open = (await call('count')).open;
      Object.assign(out[kind], { still_open: open, idle_cpu_pct_no_sockets: idlePct, idle_cpu_pct_with_sockets: windowPct });
      if (kind === 'C') {
        // pings every 5 s here; at the default 30 s the ping work is 1/6 of it
        out.C.heartbeat_pct_at_5s = Math.max(0, windowPct - idlePct);
        out.C.heartbeat_pct_at_30s = out.C.heartbeat_pct_at_5s / 6;
      }
      log(`S5 ${kind}: ${conn.ok} sockets, idle CPU ${fmt(idlePct)}% -> ${fmt(windowPct)}% (open ${open} after the window)`);
      if (conn.failed) log('  errors', conn.errors);
    } finally {
      await call('close');
      await server.stop();
    }
  }
  return out;
}

/** S6: two ChatApp instances over Redis; receivers on the sender's instance vs the other. */
async function s6(users, rooms, s1) {
  // The hop is measured at a load the machine carries: at most half of this run's single-instance
  // S1 knee (both instances share core 0); an overloaded server's queueing would drown the hop.
  const rate = s1 && s1.knee_c > 0 ? Math.min(P.s6Rate, Math.max(50, Math.floor(s1.knee_c / 2 / 50) * 50)) : P.s6Rate;
  const prefix = `bench${process.pid}`;
  const env = { REDIS_URL, REDIS_PREFIX: prefix };
  const a = await startServer('C', env);
  const b = await startServer('C', env);
  try {
    const specs = clientSpecs(null, users, rooms, 1, (i) => i % 2, [a, b]);
    const conn = await call('connect', { clients: specs, concurrency: 200 });
    await sleep(500);
    await measure(a, rooms, Math.round(rate / 2), { stepMs: 1000, warmup: true });
    const steps = [];
    for (let k = 0; k < P.rounds; k++) steps.push(await measure(a, rooms, rate, { clientMsgId: false }));
    const res = {
      rate,
      connected: conn.ok,
      same_p50_ms: median(steps.map((s) => s.same_p50_ms)),
      cross_p50_ms: median(steps.map((s) => s.cross_p50_ms)),
      p99_ms: median(steps.map((s) => s.p99_ms)),
      delivered: median(steps.map((s) => s.delivered)),
      steps,
    };
    log(`S6 at ${rate} msg/s: same-instance p50 ${fmt(res.same_p50_ms)} ms, cross-instance p50 ${fmt(res.cross_p50_ms)} ms`);
    return res;
  } finally {
    await call('close');
    await a.stop();
    await b.stop();
  }
}

/**
 * --fixed: every variant (S1/S2: B, C[, C2]; S3: B_seq, C[, C2]) measured at the same offered rates,
 * variants alternating within each round, each rate three times per round; medians over all.
 */
async function fixedScenario(name, users, rooms) {
  const variants = name === 'S3' ? [B_SEQ] : [['B', 'B', {}]];
  variants.push(['C', 'C', {}]);
  if (C2_DIST) variants.push(['C2', 'C', {}, C2_DIST]);
  const steps = {};
  for (let k = 0; k < P.rounds; k++) {
    for (const [label, kind, env, dist] of variants) {
      log(`${name} fixed, round ${k + 1}/${P.rounds}: ${label}`);
      await withConnectedServer(kind, env, dist, users, rooms, async (server) => {
        server.label = label;
        const opts = { clientMsgId: name === 'S3' && kind === 'C' };
        await measure(server, rooms, Math.round(FIXED[0] / 2), { ...opts, stepMs: 1000, warmup: true });
        for (const rate of FIXED)
          for (let i = 0; i < 3; i++) (steps[`${label}@${rate}`] ??= []).push(await measure(server, rooms, rate, opts));
      });
    }
  }
  const rows = [];
  for (const rate of FIXED)
    for (const [label] of variants) {
      const xs = steps[`${label}@${rate}`];
      const med = (f) => median(xs.map(f));
      rows.push({
        variant: label,
        rate,
        n: xs.length,
        passed: xs.filter((x) => x.pass).length,
        us_per_delivery: med((x) => x.server_cpu_us_per_delivery),
        cpu_pct: med((x) => x.server_cpu_pct),
        pg_cpu_pct: med((x) => x.pg_cpu_pct),
        pg_cpu_us_per_msg: med((x) => x.pg_cpu_us_per_msg),
        machine_cpu_pct: med((x) => x.machine_cpu_pct),
        steal_cpu_pct: med((x) => x.steal_cpu_pct),
        p50_ms: med((x) => x.p50_ms),
        p90_ms: med((x) => x.p90_ms),
        p99_ms: med((x) => x.p99_ms),
        eld_p99_ms: med((x) => x.eld_p99_ms),
        gc_pct: med((x) => x.gc_pct),
        gc_minor_max_ms: med((x) => x.gc_minor_max_ms),
        delivered: Math.min(...xs.map((x) => x.delivered)),
      });
    }
  return { fixed: FIXED, rows };
}
function fixedTable(name, f) {
  const L = [`${name}, fixed rates (median of ${P.rounds} round(s) × 3 steps):`, '', '| variant | msg/s | passed | µs/delivery | CPU % | PostgreSQL % / µs per msg | machine % (steal) | p50 / p90 / p99 ms | eld p99 ms | GC % / max scavenge ms | min delivered |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of f.rows)
    L.push(`| ${r.variant} | ${r.rate} | ${r.passed}/${r.n} | ${fmt(r.us_per_delivery, 1)} | ${fmt(r.cpu_pct, 0)} | ${fmt(r.pg_cpu_pct, 0)} / ${fmt(r.pg_cpu_us_per_msg, 0)} | ${fmt(r.machine_cpu_pct, 0)} (${fmt(r.steal_cpu_pct, 0)}) | ${[r.p50_ms, r.p90_ms, r.p99_ms].map((x) => fmt(x, 1)).join(' / ')} | ${fmt(r.eld_p99_ms, 1)} | ${fmt(r.gc_pct, 1)} / ${fmt(r.gc_minor_max_ms, 1)} | ${(r.delivered * 100).toFixed(2)}% |`);
  return L.join('\n') + '\n';
}

// ---------------------------------------------------------------- report
function table(R) {
  const m = R.machine;
  const L = [];
  const yes = (b) => (b === null || b === undefined ? 'n/a' : b ? '**met**' : 'not met');
  L.push(`Machine: ${m.nproc} × ${m.cpu}, ${m.mem_gb} GB RAM, Node ${m.node}, ${m.os}; server pinned to core 0, generator to core 1: ${m.pinned}; ` +
    `PostgreSQL ${m.pg} on the same machine (not pinned). Mode: ${R.mode}, ${R.rounds} interleaved round(s), steps of ${R.step_ms} ms. ${R.date}`);
  L.push('');
  if (R.S1 || R.S2) {
    L.push('| Fan-out | knee B / C (msg/s) | R_cap | R_cost @25% / @50% of B knee | µs/delivery B / C @50% | p50/p90/p99 ms B @50% | p50/p90/p99 ms C @50% | RSS MB B / C | target | |');
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const [k, lim] of [['S1', [1.5, 0.65]], ['S2', [1.2, 0.8]]]) {
      const s = R[k];
      if (!s) continue;
      const met = s.r_cost_25 !== null && s.r_cost_50 !== null && s.r_cap !== null ? Math.max(s.r_cost_25, s.r_cost_50) <= lim[0] && s.r_cap >= lim[1] : null;
      L.push(`| ${k} ${R.setup.users} sockets, rooms of ${k === 'S1' ? 10 : 100} | ${s.knee_b} / ${s.knee_c} | ${fmt(s.r_cap)} | ${fmt(s.r_cost_25)} / ${fmt(s.r_cost_50)} | ${fmt(s.us_b_50, 1)} / ${fmt(s.us_c_50, 1)} | ${s.lat_b_50.map((x) => fmt(x, 1)).join(' / ')} | ${s.lat_c_50.map((x) => fmt(x, 1)).join(' / ')} | ${fmt(s.rss_b, 0)} / ${fmt(s.rss_c, 0)} | R_cost ≤ ${lim[0]}, R_cap ≥ ${lim[1]} | ${yes(met)} |`);
    }
    L.push('');
  }
  if (R.S3) {
    const s = R.S3;
    L.push('| S3 persistence, rooms of 10 | value | target | |');
    L.push('|---|---|---|---|');
    L.push(`| ChatApp knee (persisted + fanned out, ack after commit) | ${s.knee_c} msg/s | ≥ 4,000 | ${yes(s.knee_c >= 4000)} |`);
    L.push(`| ChatApp p50 / p90 / p99 at 2,000 msg/s | ${s.c_at2000.map((x) => fmt(x, 1)).join(' / ')} ms | p50 ≤ 10 ms | ${yes(s.c_at2000[0] !== null && s.c_at2000[0] <= 10)} |`);
    L.push(`| Lost / duplicated deliveries (passing steps; not arrived within the drain time, all steps: ${s.c_late_all}) · DB: sent / stored / duplicated / rooms with seq gaps | ${s.c_lost} / ${s.c_dup} · ${s.db.sent} / ${s.db.stored} / ${s.db.duplicated_content} / ${s.db.rooms_with_seq_gaps} | 0 lost, 0 dup | ${yes(s.c_lost === 0 && s.c_dup === 0 && s.db.sent === s.db.stored && s.db.duplicated_content === 0)} |`);
    L.push(`| Baseline knee with seq bump / without (sequence cost) | ${s.knee_b_seq} / ${s.knee_b_plain ?? 'n/a'} msg/s | — | |`);
    L.push(`| Baseline (seq) p50 / p90 / p99 at 2,000 msg/s | ${s.b_at2000.map((x) => fmt(x, 1)).join(' / ')} ms | — | |`);
    if (s.knee_cpu) {
      const k = (v) => `${fmt(v.server_pct, 0)} / ${fmt(v.pg_pct, 0)} / ${fmt(v.machine_pct, 0)} (${fmt(v.steal_pct, 0)}) %, ${fmt(v.pg_us_per_msg, 0)} µs`;
      L.push(`| At the knee step: CPU of server / PostgreSQL / machine (of which stolen) (% of one core), PostgreSQL CPU per message | ChatApp ${k(s.knee_cpu.C)} · baseline (seq) ${k(s.knee_cpu.B_seq)} | — | |`);
    }
    L.push('');
  }
  if (R.S4) {
    const b = R.S4.B;
    const c = R.S4.C;
    L.push(`| S4/S5 idle sockets | baseline | ChatApp | target | |`);
    L.push('|---|---|---|---|---|');
    L.push(`| sockets open (authenticated) | ${b.sockets} | ${c.sockets} (${c.still_open} still open after the window) | ${R.idle_sockets} | ${yes(c.sockets >= R.idle_sockets && c.still_open >= R.idle_sockets)} |`);
    L.push(`| RSS per idle socket | ${fmt(b.rss_per_socket_kb, 1)} KB | ${fmt(c.rss_per_socket_kb, 1)} KB | ≤ 12 KB | ${yes(c.rss_per_socket_kb <= 12)} |`);
    L.push(`| connect burst (JWT header auth for C) | ${Math.round(b.connects_per_s)}/s | ${Math.round(c.connects_per_s)}/s | ≥ 1,500/s | ${yes(c.connects_per_s >= 1500)} |`);
    L.push(`| server CPU per connect in the burst | ${fmt(b.cpu_us_per_connect, 0)} µs | ${fmt(c.cpu_us_per_connect, 0)} µs | | |`);
    L.push(`| S5 CPU, idle / with sockets (pings every 5 s) | ${fmt(b.idle_cpu_pct_no_sockets)}% / ${fmt(b.idle_cpu_pct_with_sockets)}% | ${fmt(c.idle_cpu_pct_no_sockets)}% / ${fmt(c.idle_cpu_pct_with_sockets)}% | | |`);
    L.push(`| S5 heartbeat cost at the default 30 s interval | — | ${fmt(c.heartbeat_pct_at_30s)}% of a core | ≤ 3% | ${yes(c.heartbeat_pct_at_30s <= 3)} |`);
    L.push('');
  }
  if (R.S6) {
    const s = R.S6;
    if (s.skipped) L.push(`S6: skipped (${s.skipped}).`);
    else {
      L.push('| S6 two instances over Redis | same-instance p50 | cross-instance p50 | p99 | delivered | target | |');
      L.push('|---|---|---|---|---|---|---|');
      L.push(`| ${s.rate} msg/s, rooms of 10 split across instances | ${fmt(s.same_p50_ms)} ms | ${fmt(s.cross_p50_ms)} ms | ${fmt(s.p99_ms, 1)} ms | ${fmt(s.delivered * 100)}% | cross ≤ same + 1 ms | ${yes(s.cross_p50_ms <= s.same_p50_ms + 1)} |`);
    }
    L.push('');
  }
  const eld = ['S1', 'S2'].filter((k) => R[k]).map((k) => `${k} ${fmt(R[k].eld_b)} / ${fmt(R[k].eld_c)} ms`);
  const kc = ['S1', 'S2'].filter((k) => R[k]?.knee_cpu).map((k) => {
    const { B, C } = R[k].knee_cpu;
    const v = (x) => `${[x.gen_pct, x.server_pct, x.pg_pct, x.machine_pct].map((y) => fmt(y, 0)).join(' / ')} (${fmt(x.steal_pct, 0)})`;
    return `${k} B ${v(B)}, C ${v(C)}`;
  });
  if (kc.length) L.push(`CPU at each server's knee step, generator / server / PostgreSQL / whole machine (of which stolen by the hypervisor) (% of one core; ${R.machine.nproc} cores = ${R.machine.nproc * 100} %): ${kc.join('; ')}.`);
  L.push(`Event-loop delay p99, baseline / ChatApp, at 50% of the baseline's knee: ${eld.join('; ') || 'n/a'}. ` +
    `Setup: ${R.setup.users} users registered over REST in ${(R.setup.reg_ms / 1000).toFixed(1)} s.`);
  return L.join('\n');
}

async function main() {
  const t0 = Date.now();
  if (!existsSync(path.join(ROOT, 'dist/main.js'))) {
    log('dist/main.js missing: npx nest build');
    execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  // run a private copy of dist: a rebuild in the checkout during the bench must not pull it away
  for (let i = 0; i < 60 && !existsSync(path.join(ROOT, 'dist/main.js')); i++) await sleep(1000);
  await sleep(500);
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  cpSync(path.join(ROOT, 'dist'), DIST, { recursive: true });
  if (C2_SRC) cpSync(C2_SRC, C2_DIST, { recursive: true });
  await adminQuery(`CREATE DATABASE ${DB_NAME}`);
  const u = new URL(DB_BASE);
  u.pathname = `/${DB_NAME}`;
  DB_URL = u.toString();
  log(`database ${DB_NAME}; quick=${QUICK}; pinned=${PIN}`);
  const R = {
    mode: QUICK ? 'quick' : 'full',
    rounds: P.rounds,
    step_ms: P.stepMs,
    idle_sockets: P.idleSockets,
    date: new Date().toISOString(),
    machine: {
      nproc: NPROC,
      cpu: os.cpus()[0].model.trim(),
      mem_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      os: `${os.type()} ${os.release()}`,
      pinned: PIN,
      pg: '',
      loadavg_at_start: os.loadavg(),
    },
  };
  const steal0 = machineBusyUs().steal;
  const stealT0 = Date.now();
  startGen();
  try {
    R.machine.pg = (await dbQuery('SHOW server_version')).rows[0].server_version;
    // setup: one ChatApp registers everyone and creates the rooms; the tokens serve every run
    const setup = await startServer('C');
    let users, rooms10, rooms100, rooms3;
    try {
      const reg = await setupUsers(setup, P.users);
      users = reg.users;
      R.setup = { users: users.length, reg_ms: reg.regMs };
      rooms10 = await makeRooms(setup, users, 10, 's1');
      rooms100 = await makeRooms(setup, users, 100, 's2');
      rooms3 = await makeRooms(setup, users, 10, 's3');
    } finally {
      await setup.stop();
    }
    if (FIXED.length) {
      const sets = { S1: rooms10, S2: rooms100, S3: rooms3 };
      for (const k of ['S1', 'S2', 'S3']) if (want(k)) R.fixed = { ...R.fixed, [k]: await fixedScenario(k, users, sets[k]) };
    } else {
      if (want('S1')) R.S1 = await fanoutScenario('S1', users, rooms10, 500);
      if (want('S2')) R.S2 = await fanoutScenario('S2', users, rooms100, 100);
      if (want('S3')) R.S3 = await s3(users, rooms3);
      if (want('S4') || want('S5')) R.S4 = await s4s5(users);
      if (want('S6')) R.S6 = REDIS_URL ? await s6(users, rooms10, R.S1) : { skipped: 'REDIS_URL is not set' };
    }
  } finally {
    await call('close').catch(() => {});
    gen.disconnect();
    // the generator exits on disconnect (and writes its profile, with BENCH_GEN_NODE_ARGS)
    await exited(gen, 5000);
    for (const c of children) c.kill('SIGKILL');
    await sleep(500);
    await adminQuery(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`).catch((e) => log('drop failed', e.message));
    rmSync(DIST, { recursive: true, force: true });
    if (C2_DIST) rmSync(C2_DIST, { recursive: true, force: true });
  }
  R.machine.loadavg_at_end = os.loadavg();
  R.duration_s = Math.round((Date.now() - t0) / 1000);
  // of all cores' time over the run, the share the hypervisor gave to other guests
  R.machine.steal_pct = ((machineBusyUs().steal - steal0) / ((Date.now() - stealT0) * 1000 * NPROC)) * 100;
  const stolen = `the hypervisor took ${fmt(R.machine.steal_pct, 1)} % of the cores' time (steal)`;
  if (R.fixed) {
    const md = Object.entries(R.fixed).map(([k, f]) => fixedTable(k, f)).join('\n') + `\nDuration ${R.duration_s} s; ${stolen}.\n`;
    mkdirSync(path.join(__dirname, 'results'), { recursive: true });
    writeFileSync(path.join(__dirname, 'results', 'latest-fixed.json'), JSON.stringify(R, null, 1));
    process.stdout.write(md);
    return;
  }
  const md = table(R) + `\nDuration ${R.duration_s} s; load average at start ${R.machine.loadavg_at_start.map((x) => x.toFixed(1)).join(' ')}, at end ${R.machine.loadavg_at_end.map((x) => x.toFixed(1)).join(' ')}; ${stolen}.\n`;
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  const stamp = R.date.replace(/[:.]/g, '-');
  writeFileSync(path.join(__dirname, 'results', `${stamp}-${R.mode}.json`), JSON.stringify(R, null, 1));
  writeFileSync(path.join(__dirname, 'results', `latest-${R.mode}.json`), JSON.stringify(R, null, 1));
  writeFileSync(path.join(__dirname, 'results', `latest-${R.mode}.md`), md);
  // the committed result is a complete full run only (not one --only scenario)
  if (!QUICK && ONLY.length === 0) writeFileSync(path.join(__dirname, 'results', 'latest.md'), md);
  process.stdout.write(md);
}

process.on('SIGINT', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(DIST, { recursive: true, force: true });
  if (C2_DIST) rmSync(C2_DIST, { recursive: true, force: true });
  process.exit(130);
});
main().catch((e) => {
  log('failed:', e.stack || e);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
