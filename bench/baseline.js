'use strict';
/**
 * The baseline: a bare `ws` server that speaks ChatApp's wire protocol for
 * send_message -> new_message and nothing else. No framework, no auth, no validation.
 * It is the denominator of every ratio in the benchmark.
 *
 *   ws://127.0.0.1:PORT/api/v1/ws?uid=<user uuid>&name=<username>
 *   client -> {"type":"join_room","payload":{"room_id":"..."}}     (membership, no reply)
 *   client -> {"type":"send_message","payload":{"room_id":"...","content":"..."}}
 *   server -> {"type":"new_message","payload":<Message as ChatApp serializes it>} to every member
 *
 * Each message is serialized ONCE and the same buffer goes to every member socket.
 * On connect the server sends the same self `user_online` frame as ChatApp (the "authenticated" signal).
 *
 * Env: PORT, BASELINE_PERSIST = none | plain | seq (default none), DATABASE_URL (for persistence),
 *      BATCH_MAX (default 256). `plain` = batched multi-row INSERT with seq numbers taken from
 *      an in-memory counter; `seq` = the same batch also bumps rooms.last_seq in the same
 *      statement, exactly as ChatApp's group commit does. Fan-out happens after the commit.
 * GET /stats -> {"eld_p50_ms","eld_p99_ms","eld_max_ms","persisted"} (event-loop delay since the last call).
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const { WebSocketServer } = require('ws');

const PORT = Number(process.env.PORT || 0);
const PERSIST = process.env.BASELINE_PERSIST || 'none';
const BATCH_MAX = Number(process.env.BATCH_MAX || 256);

const rooms = new Map(); // room_id -> Set<ws>
const roomSeq = new Map(); // room_id -> last seq (plain mode, and none mode for the payload)
let persisted = 0;
let batches = 0;
let insertMs = 0;

const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    const body = JSON.stringify({
      eld_p50_ms: eld.percentile(50) / 1e6,
      eld_p99_ms: eld.percentile(99) / 1e6,
      eld_max_ms: eld.max / 1e6,
      persisted,
      batches,
      avg_batch: batches ? persisted / batches : null,
      avg_insert_ms: batches ? insertMs / batches : null,
    });
    batches = persisted = insertMs = 0;
    eld.reset();
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(body);
  }
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ server, path: '/api/v1/ws', perMessageDeflate: false, maxPayload: 16 * 1024 });

wss.on('connection', (ws, req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const now = new Date().toISOString();
  ws.user = {
    id: q.get('uid') || randomUUID(),
    username: q.get('name') || 'anon',
    avatar: '',
    status: 'Hey there! I am using ChatApp',
    is_online: true,
    last_seen: now,
    created_at: now,
    updated_at: now,
  };
  ws.rooms = [];
  ws.on('message', (data) => onFrame(ws, data));
  ws.on('close', () => {
    for (const r of ws.rooms) rooms.get(r)?.delete(ws);
  });
  ws.send(JSON.stringify({ type: 'user_online', payload: { user_id: ws.user.id, username: ws.user.username, message: 'Connected to chat server' } }));
});

function onFrame(ws, data) {
  let f;
  try {
    f = JSON.parse(data);
  } catch {
    return ws.send('{"type":"error","payload":{"error":"Invalid message format"}}');
  }
  const p = f.payload || {};
  if (f.type === 'send_message') {
    const now = new Date().toISOString();
    const m = {
      id: randomUUID(),
      room_id: p.room_id,
      sender_id: ws.user.id,
      sender: ws.user,
      content: p.content,
      type: 'text',
      is_edited: false,
      is_deleted: false,
      seq: 0,
      version: 0,
      created_at: now,
      updated_at: now,
    };
    if (p.client_msg_id) m.client_msg_id = p.client_msg_id;
    if (PERSIST === 'none') {
      m.seq = m.version = (roomSeq.get(m.room_id) || 0) + 1;
      roomSeq.set(m.room_id, m.seq);
      fanOut(m);
    } else {
      enqueue(m);
    }
  } else if (f.type === 'join_room') {
    let set = rooms.get(p.room_id);
    if (!set) rooms.set(p.room_id, (set = new Set()));
    set.add(ws);
    ws.rooms.push(p.room_id);
  }
}

/**
 * Serialize once, send the same buffer to every member socket, as a text frame like ChatApp's
 * (a Buffer alone would go out as a binary frame, which a client does not UTF-8-check).
 */
const TEXT = { binary: false };
function fanOut(m) {
  const set = rooms.get(m.room_id);
  if (!set) return;
  const buf = Buffer.from(JSON.stringify({ type: 'new_message', payload: m }));
  for (const s of set) if (s.readyState === 1) s.send(buf, TEXT);
}

// ---- optional persistence: group commit, multi-row INSERT, fan-out after the commit ----
let pool = null;
let queue = [];
let writing = false;
if (PERSIST !== 'none') {
  const { Pool } = require('pg');
  pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
}
// `plain` numbers messages in memory: start where the rooms are (other writers came before),
// and hand rooms.last_seq back on shutdown so the next writer continues without a gap.
const seeded =
  PERSIST === 'plain'
    ? pool.query('SELECT id, last_seq FROM rooms').then(({ rows }) => rows.forEach((r) => roomSeq.set(r.id, Number(r.last_seq))))
    : Promise.resolve();
async function handBackSeq() {
  if (PERSIST !== 'plain') return;
  await pool.query(
    `UPDATE rooms SET last_seq = m.mx FROM (SELECT room_id, max(seq) AS mx FROM messages GROUP BY room_id) m
      WHERE rooms.id = m.room_id AND rooms.last_seq < m.mx`,
  );
}

function enqueue(m) {
  queue.push(m);
  if (!writing) void flush();
}

async function flush() {
  writing = true;
  try {
    while (queue.length > 0) {
      const batch = queue.splice(0, BATCH_MAX);
      try {
        const t0 = performance.now();
        await (PERSIST === 'seq' ? insertWithSeq(batch) : insertPlain(batch));
        insertMs += performance.now() - t0;
        batches++;
        persisted += batch.length;
        for (const m of batch) fanOut(m);
      } catch (e) {
        console.error('baseline: batch insert failed', e.message);
      }
    }
  } finally {
    writing = false;
  }
}

const cols = (batch) => [batch.map((m) => m.id), batch.map((m) => m.room_id), batch.map((m) => m.sender_id), batch.map((m) => m.content)];

/** Sequence numbers from memory (this process is the only writer of these rooms). */
async function insertPlain(batch) {
  for (const m of batch) {
    m.seq = m.version = (roomSeq.get(m.room_id) || 0) + 1;
    roomSeq.set(m.room_id, m.seq);
  }
  await pool.query({
    name: 'plain',
    text: `INSERT INTO messages (id, room_id, sender_id, content, type, seq, version)
     SELECT id, room_id, sender_id, content, 'text', seq, seq
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::bigint[]) AS t(id, room_id, sender_id, content, seq)`,
    values: [...cols(batch), batch.map((m) => m.seq)],
  });
}

/** The same statement shape as ChatApp's group commit: bump rooms.last_seq, number, insert. */
async function insertWithSeq(batch) {
  if (batch.length === 1) {
    // idle: one row, the cheaper single-row statement (ChatApp does the same)
    const m = batch[0];
    const { rows } = await pool.query({
      name: 'seq1',
      text: `WITH r AS (
         UPDATE rooms SET last_seq = last_seq + 1, last_message_at = now(), updated_at = now() WHERE id = $2 RETURNING last_seq
       )
       INSERT INTO messages (id, room_id, sender_id, content, type, seq, version)
       SELECT $1, $2, $3, $4, 'text', r.last_seq, r.last_seq FROM r RETURNING seq`,
      values: [m.id, m.room_id, m.sender_id, m.content],
    });
    m.seq = m.version = rows.length ? Number(rows[0].seq) : 0;
    return;
  }
  // numbered here, as ChatApp's writer does: each room's count, each message's place in its room
  const counts = new Map();
  const place = batch.map((m) => {
    const k = (counts.get(m.room_id) || 0) + 1;
    counts.set(m.room_id, k);
    return k;
  });
  const { rows } = await pool.query({
    name: 'seqN',
    text: `WITH r AS (
       UPDATE rooms SET last_seq = rooms.last_seq + c.n, last_message_at = now(), updated_at = now()
         FROM unnest($5::uuid[], $6::bigint[]) AS c(room_id, n)
        WHERE rooms.id = c.room_id AND rooms.id = ANY($5::uuid[])
       RETURNING rooms.id, rooms.last_seq - c.n AS base
     )
     INSERT INTO messages (id, room_id, sender_id, content, type, seq, version)
     SELECT t.id, t.room_id, t.sender_id, t.content, 'text', r.base + t.k, r.base + t.k
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $7::bigint[]) AS t(id, room_id, sender_id, content, k)
       JOIN r ON r.id = t.room_id
     RETURNING id, seq`,
    values: [...cols(batch), [...counts.keys()], [...counts.values()], place],
  });
  const seqOf = new Map(rows.map((r) => [r.id, Number(r.seq)]));
  for (const m of batch) m.seq = m.version = seqOf.get(m.id) || 0;
}

seeded.then(() => server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`baseline listening ${server.address().port} persist=${PERSIST}\n`);
  if (process.send) process.send({ ready: true, port: server.address().port });
}));
process.on('SIGTERM', async () => {
  wss.close();
  server.close();
  setTimeout(() => process.exit(0), 5000).unref();
  if (pool) {
    while (writing || queue.length) await new Promise((r) => setTimeout(r, 10));
    await handBackSeq().catch((e) => console.error('baseline: last_seq hand-back failed', e.message));
    await pool.end();
  }
  process.exit(0);
});
