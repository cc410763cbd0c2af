#!/usr/bin/env node
/* eslint-disable no-console */
'use strict';
/**
 * Soak: 300 WebSockets chatting at a steady rate for a few minutes, with reconnects, against the
 * built server (dist/main.js) started as a child process. Prints delivered/expected, duplicates,
 * p50/p99 delivery latency and the server's memory growth per minute.
 *
 *   npm run soak                       # 3 minutes, 300 sockets, 50 messages/s
 *   SOAK_SECONDS=60 npm run soak       # shorter
 *
 * Database: SOAK_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL (an admin URL; a fresh database
 * is created and dropped), otherwise the server's embedded PostgreSQL in a temporary directory.
 * Everything listens on 127.0.0.1. Exit code 1 when a message is lost or stored twice.
 */
const { spawn } = require('node:child_process');
const { randomUUID, randomBytes } = require('node:crypto');
const { mkdtempSync, readFileSync, rmSync, existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const WebSocket = require('ws');
const { Client } = require('pg');

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const SOCKETS = Number(process.env.SOAK_SOCKETS ?? 300);
const SOCKETS_PER_USER = 2; // every user on two devices
const ROOM_SIZE = 10; // users per room
const RATE = Number(process.env.SOAK_RATE ?? 50); // messages per second, all sockets together
const RECONNECTS_PER_SEC = Number(process.env.SOAK_RECONNECTS_PER_SEC ?? 2);
const ROOT = join(__dirname, '../..');
const JWT_SECRET = randomBytes(32).toString('hex');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] : NaN);

async function createDatabase() {
  const admin = process.env.SOAK_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!admin) return { url: undefined, drop: async () => undefined };
  const name = `chatapp_soak_${randomBytes(4).toString('hex')}`;
  const c = new Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await d.end();
    },
  };
}

async function startServer(dbUrl, dataDir) {
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js missing: run `npx nest build` first');
  const port = 20000 + Math.floor(Math.random() * 12000); // below the ephemeral range
  const env = {
    PATH: process.env.PATH ?? '',
    APP_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(30000 + Math.floor(Math.random() * 20000)),
    UPLOAD_DIR: join(dataDir, 'uploads'),
    LOG_LEVEL: 'error',
    RATE_LIMIT_AUTH_PER_MIN: '100000',
    RATE_LIMIT_API_PER_MIN: '100000',
  };
  if (dbUrl) env.DATABASE_URL = dbUrl;
  const proc = spawn(process.execPath, [join(ROOT, 'dist/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('server did not become ready');
    await sleep(200);
  }
  return { proc, url, wsUrl: `ws://127.0.0.1:${port}/api/v1/ws` };
}

async function api(base, method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Least-squares slope of (t minutes, MB) samples. */
function slope(samples) {
  const n = samples.length;
  if (n < 2) return NaN;
  const mx = samples.reduce((a, s) => a + s.t, 0) / n;
  const my = samples.reduce((a, s) => a + s.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - mx) * (s.mb - my);
    den += (s.t - mx) ** 2;
  }
  return den ? num / den : NaN;
}

const stats = { sent: 0, acked: 0, liveDeliveries: 0, syncDeliveries: 0, rawDuplicates: 0, reconnects: 0, errors: 0, closes: {}, latencies: [] };
const ackedByRoom = new Map(); // room → Set(message id)

/** One device: a socket that follows its room's sequence, resends its outbox and syncs after a reconnect. */
class Slot {
  constructor(user, roomId, wsUrl) {
    this.user = user;
    this.roomId = roomId;
    this.wsUrl = wsUrl;
    this.ws = null;
    this.seen = new Set();
    this.seqs = new Set();
    this.contiguous = 0;
    this.outbox = new Map();
    this.syncing = false;
    this.stopped = false;
  }

  connect() {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.wsUrl, { headers: { authorization: `Bearer ${this.user.token}` } });
      let ready = false;
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'user_online' && f.payload.message && f.payload.user_id === this.user.id) {
          ready = true;
          this.ws = ws;
          this.syncing = true;
          ws.send(JSON.stringify({ type: 'sync', payload: { rooms: { [this.roomId]: this.contiguous } } }));
          for (const [cid, content] of this.outbox) this.raw(cid, content);
          resolve();
        } else if (f.type === 'new_message' && f.payload.room_id === this.roomId) {
          this.receive(f.payload);
        } else if (f.type === 'sync_done') {
          this.syncing = false;
        } else if (f.type === 'message_ack') {
          if (this.outbox.delete(f.payload.client_msg_id)) {
            stats.acked++;
            ackedByRoom.get(this.roomId).add(f.payload.id);
          }
        } else if (f.type === 'error') {
          stats.errors++;
        }
      });
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        stats.closes[code] = (stats.closes[code] ?? 0) + 1;
        if (this.ws === ws) this.ws = null;
        if (!ready) setTimeout(() => this.connect().then(resolve), 500);
        else if (!this.stopped) {
          stats.reconnects++;
          setTimeout(() => void this.connect(), 200 + Math.random() * 300);
        }
      });
    });
  }

  receive(m) {
    if (this.seen.has(m.id)) {
      stats.rawDuplicates++;
      return;
    }
    this.seen.add(m.id);
    this.seqs.add(m.seq);
    while (this.seqs.has(this.contiguous + 1)) this.contiguous++;
    const parts = /^soak\|(\d+)\|/.exec(m.content);
    if (this.syncing || !parts) stats.syncDeliveries++;
    else {
      stats.liveDeliveries++;
      stats.latencies.push(Date.now() - Number(parts[1]));
    }
  }

  raw(cid, content) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: 'send_message', payload: { room_id: this.roomId, content, client_msg_id: cid } }));
    }
  }

  send() {
    const cid = randomUUID();
    const content = `soak|${Date.now()}|${this.user.username}`;
    this.outbox.set(cid, content);
    stats.sent++;
    this.raw(cid, content);
  }

  resync() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.syncing = true;
      this.ws.send(JSON.stringify({ type: 'sync', payload: { rooms: { [this.roomId]: this.contiguous } } }));
      for (const [cid, content] of this.outbox) this.raw(cid, content);
    }
  }
}

async function main() {
  const users = Math.ceil(SOCKETS / SOCKETS_PER_USER);
  console.log(`soak: ${SOCKETS} sockets (${users} users × ${SOCKETS_PER_USER}), rooms of ${ROOM_SIZE} users, ${RATE} msg/s, ${RECONNECTS_PER_SEC} forced reconnects/s, ${SECONDS} s`);
  const dataDir = mkdtempSync(join(tmpdir(), 'chatapp-soak-'));
  const db = await createDatabase();
  const server = await startServer(db.url, dataDir);
  let failed = false;
  const slots = [];
  try {
    // accounts and rooms
    const people = [];
    for (let i = 0; i < users; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, users - i) }, async (_, k) => {
          const username = `soak${i + k}_${randomBytes(3).toString('hex')}`;
          const r = await api(server.url, 'POST', '/api/v1/auth/register', undefined, { username, email: `${username}@example.com`, password: 'passw0rd' });
          return { id: r.user.id, username, token: r.token };
        }),
      );
      people.push(...batch);
    }
    for (let i = 0; i < people.length; i += ROOM_SIZE) {
      const group = people.slice(i, i + ROOM_SIZE);
      const room = await api(server.url, 'POST', '/api/v1/rooms', group[0].token, { name: `soak room ${i / ROOM_SIZE}` });
      ackedByRoom.set(room.id, new Set());
      for (const u of group.slice(1)) await api(server.url, 'POST', `/api/v1/rooms/${room.id}/join`, u.token);
      for (const u of group) for (let d = 0; d < SOCKETS_PER_USER && slots.length < SOCKETS; d++) slots.push(new Slot(u, room.id, server.wsUrl));
    }
    for (let i = 0; i < slots.length; i += 50) await Promise.all(slots.slice(i, i + 50).map((s) => s.connect()));
    console.log(`soak: ${slots.length} sockets connected, ${ackedByRoom.size} rooms; chatting…`);

    // steady traffic, forced reconnects, memory samples
    const t0 = Date.now();
    const mem = [];
    const sendEvery = 1000 / RATE;
    let next = 0;
    const sender = setInterval(() => {
      const due = Math.floor((Date.now() - t0) / sendEvery);
      while (next < due) {
        slots[next % slots.length].send();
        next++;
      }
    }, 20);
    const churn = setInterval(() => {
      for (let i = 0; i < RECONNECTS_PER_SEC; i++) slots[Math.floor(Math.random() * slots.length)].ws?.terminate();
    }, 1000);
    const sampler = setInterval(() => {
      const t = (Date.now() - t0) / 60000;
      mem.push({ t, mb: rssMb(server.proc.pid) });
      const s = Math.round((Date.now() - t0) / 1000);
      if (s % 30 < 5) console.log(`  ${s}s: sent ${stats.sent}, acked ${stats.acked}, live deliveries ${stats.liveDeliveries}, reconnects ${stats.reconnects}, server RSS ${mem[mem.length - 1].mb.toFixed(0)} MB`);
    }, 5000);
    await sleep(SECONDS * 1000);
    clearInterval(sender);
    clearInterval(churn);
    clearInterval(sampler);

    // settle: unacked sends are resent, every socket syncs its room until nothing is missing
    for (let round = 0; round < 20; round++) {
      await sleep(1000);
      const missing = slots.reduce((a, s) => a + [...ackedByRoom.get(s.roomId)].filter((id) => !s.seen.has(id)).length, 0);
      const unacked = slots.reduce((a, s) => a + s.outbox.size, 0);
      if (missing === 0 && unacked === 0) break;
      for (const s of slots) s.resync();
    }
    for (const s of slots) {
      s.stopped = true;
      s.ws?.close();
    }

    // database: each acknowledged message stored once; nothing stored twice
    let dupRows = 0;
    let storedRows = 0;
    if (db.url) {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      dupRows = Number((await c.query('SELECT count(*) AS n FROM (SELECT 1 FROM messages GROUP BY sender_id, client_msg_id HAVING count(*) > 1) d')).rows[0].n);
      storedRows = Number((await c.query('SELECT count(*) AS n FROM messages')).rows[0].n);
      await c.end();
    }

    let expected = 0;
    let delivered = 0;
    for (const s of slots) {
      const acked = ackedByRoom.get(s.roomId);
      expected += acked.size;
      for (const id of acked) if (s.seen.has(id)) delivered++;
    }
    const unacked = slots.reduce((a, s) => a + s.outbox.size, 0);
    const lat = stats.latencies.sort((a, b) => a - b);
    const steady = mem.filter((m) => m.t >= 0.5 && !Number.isNaN(m.mb));
    const growth = slope(steady);
    console.log('\n=== soak results ===');
    console.log(`duration                 ${SECONDS} s, ${slots.length} sockets, ${ackedByRoom.size} rooms`);
    console.log(`messages sent / acked    ${stats.sent} / ${stats.acked} (unacked at the end: ${unacked})${db.url ? `; rows stored ${storedRows}` : ''}`);
    console.log(`delivered / expected     ${delivered} / ${expected} (${((100 * delivered) / Math.max(1, expected)).toFixed(3)} %): ${stats.liveDeliveries} live, ${stats.syncDeliveries} by sync after reconnects`);
    console.log(`duplicates               ${stats.rawDuplicates} frames received twice by a socket (dropped by the client); ${db.url ? `${dupRows} stored twice` : 'database not checked (embedded)'}`);
    console.log(`delivery latency (live)  p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat[lat.length - 1]} ms`);
    console.log(`reconnects               ${stats.reconnects} (forced ${RECONNECTS_PER_SEC}/s); close codes ${JSON.stringify(stats.closes)}; error frames ${stats.errors}`);
    console.log(`server RSS               ${steady.length ? `${steady[0].mb.toFixed(1)} → ${steady[steady.length - 1].mb.toFixed(1)} MB` : 'n/a'}, growth ${growth.toFixed(2)} MB/min (least squares after the first 30 s)`);
    failed = delivered !== expected || unacked > 0 || dupRows > 0 || (db.url && storedRows !== stats.acked);
    console.log(failed ? 'soak: FAILED' : 'soak: OK');
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => (server.proc.exitCode !== null ? r() : server.proc.once('exit', r)));
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
