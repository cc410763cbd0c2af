'use strict';
/**
 * Load generator, run by bench/run.js as a child process (IPC), pinned to its own core.
 * Open loop: messages leave at a fixed offered rate whatever the server does; each carries its
 * send time in `content`; receivers record send->receive latency in an HDR histogram (µs).
 * The receive path avoids JSON.parse: it finds `"content":"` in the frame text.
 *
 * Commands (process.send / on('message')):
 *   {cmd:'connect', clients:[{url, headers?, joins?:[room_id], inst?}], concurrency}
 *       -> {ms, ok, failed, errors}   ready = the self `user_online` frame (both servers send it)
 *       every socket is a RawWs: a minimal client on a bare TCP socket (see RawWs)
 *   {cmd:'step', rate, durationMs, drainMs, rooms:[{id, members:[client index]}], clientMsgId}
 *       -> {sent, expected, received, lost, dup, p50_ms, p90_ms, p99_ms, max_ms, same/cross p50, gen_cpu_ms}
 *   {cmd:'close'} -> {closed}
 */
const { createHash, randomBytes, randomUUID } = require('node:crypto');
const { EventEmitter } = require('node:events');
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const hdr = require('hdr-histogram-js');

let clients = []; // {ws, inst, ready}
let cur = null; // the running step's counters
const errors = new Map();
let mid = 0;

const newHist = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
const MARK = Buffer.from('"content":"B|');

function onMessage(c, data) {
  const i = data.indexOf(MARK);
  if (i < 0) {
    const s = data.toString();
    if (!c.ready && s.includes('"user_online"') && s.includes('Connected to chat server')) {
      c.ready = true;
      c.onReady?.();
    } else if (s.startsWith('{"type":"error"')) {
      errors.set(s.slice(0, 160), (errors.get(s.slice(0, 160)) || 0) + 1);
    }
    return;
  }
  if (!cur) return;
  const start = i + MARK.length;
  const end = data.indexOf(0x22, start); // closing quote
  const parts = data.toString('latin1', start, end).split('|'); // t | mid | senderInst
  const t = Number(parts[0]);
  const m = Number(parts[1]) - cur.base;
  if (m < 0 || m >= cur.counts.length) return;
  cur.counts[m]++;
  cur.received++;
  const us = Math.max(1, Math.round((performance.now() - t) * 1000));
  if (Number(parts[2]) === c.inst) cur.same.recordValue(us);
  else cur.cross.recordValue(us);
}

/**
 * The client side of RFC 6455 at its smallest, for every socket the generator opens. A `ws`
 * client costs the generator about 0.5 ms of CPU per handshake (more than either server), so a
 * `ws`-driven connect burst measured the generator; and in the fan-out ladders `ws` clients
 * (UTF-8 check of every text frame, event per frame) made the generator the limit of the
 * baseline's knee (a full core at the baseline's S1/S2 knee, the baseline's own core at 65-68 %);
 * RawWs costs the generator about 10 % less per delivery, and reading with `onread` into one
 * shared buffer about 10 % less again. One `Sec-WebSocket-Key` for every socket (its accept value
 * is computed once and compared as text), the upgrade request written in one piece, server frames
 * parsed in place (text → onMessage, ping → pong, close → closed). Frames it sends are masked with
 * a zero key (valid: the mask bit is set; XOR with zero leaves the payload as is). Emits 'open',
 * 'message' (a Buffer valid during the call only), 'error' (Error) and 'close' (code) like `ws`;
 * `send(text)` and `terminate()`.
 */
const READ_BUF = Buffer.allocUnsafe(256 * 1024);
/** A leftover to keep past this read: its own memory already (`owned`), or a copy of a READ_BUF view. */
const kept = (b, owned) => (owned ? b : Buffer.from(b));
const RAW_KEY = randomBytes(16).toString('base64');
const RAW_ACCEPT = createHash('sha1').update(RAW_KEY + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
class RawWs extends EventEmitter {
  constructor(url, headers = {}) {
    super();
    const u = new URL(url);
    let req = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${RAW_KEY}\r\nSec-WebSocket-Version: 13\r\n`;
    for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
    this.buf = null;
    this.upgraded = false;
    this.closeCode = 1006;
    // `onread`: the socket reads into one buffer shared by every RawWs and calls back with the
    // count, without a Buffer per read and the stream machinery around it ('data' events)
    const onread = { buffer: READ_BUF, callback: (n) => void this.onData(READ_BUF.subarray(0, n)) };
    this.sock = net.connect({ port: Number(u.port), host: u.hostname, onread }, () => this.sock.write(req + '\r\n'));
    this.sock.setNoDelay(true);
    this.sock.on('error', (e) => this.emit('error', e));
    this.sock.on('close', () => this.emit('close', this.closeCode));
  }
  /**
   * `d` is a view of READ_BUF: everything is used before returning, and a partial frame is kept
   * as a copy, unless it already lies in a Buffer.concat result of this call (its own memory).
   */
  onData(d) {
    const owned = this.buf !== null;
    let b = owned ? Buffer.concat([this.buf, d]) : d;
    if (!this.upgraded) {
      const end = b.indexOf('\r\n\r\n');
      if (end < 0) return void (this.buf = kept(b, owned));
      const head = b.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(RAW_ACCEPT)) {
        this.emit('error', new Error(`Unexpected server response: ${head.slice(9, 12)}`));
        return void this.sock.destroy();
      }
      this.upgraded = true;
      b = b.subarray(end + 4);
      this.emit('open');
    }
    while (b.length >= 2) {
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) break;
      const payload = b.subarray(off, off + len);
      const op = b[0] & 0x0f;
      b = b.subarray(off + len);
      if (op === 1) this.emit('message', payload);
      else if (op === 9) this.writeFrame(0x8a, payload);
      else if (op === 8) {
        if (payload.length >= 2) this.closeCode = payload.readUInt16BE(0);
        this.sock.destroy();
        return;
      }
    }
    this.buf = b.length ? kept(b, owned) : null;
  }
  writeFrame(b0, payload) {
    const n = payload.length;
    const head = n < 126 ? Buffer.from([b0, 0x80 | n, 0, 0, 0, 0])
      : n < 65536 ? Buffer.from([b0, 0xfe, n >> 8, n & 0xff, 0, 0, 0, 0])
        : null;
    if (!head) throw new Error('frame too large for RawWs');
    this.sock.write(Buffer.concat([head, payload]));
  }
  send(text) {
    this.writeFrame(0x81, Buffer.from(text));
  }
  terminate() {
    this.sock.destroy();
  }
}

function connectOne(spec, idx) {
  return new Promise((resolve) => {
    const c = { ws: null, inst: spec.inst || 0, ready: false, idx };
    const ws = new RawWs(spec.url, spec.headers);
    c.ws = ws;
    const timer = setTimeout(() => done('timeout'), 30_000);
    function done(err) {
      clearTimeout(timer);
      c.onReady = null;
      if (err) errors.set(`connect: ${err}`, (errors.get(`connect: ${err}`) || 0) + 1);
      resolve(err ? null : c);
    }
    c.onReady = () => done(null);
    ws.on('open', () => {
      for (const r of spec.joins || []) ws.send(`{"type":"join_room","payload":{"room_id":"${r}"}}`);
    });
    ws.on('message', (d) => onMessage(c, d));
    ws.on('error', (e) => done(e.message));
    ws.on('close', (code) => {
      c.closed = code;
      if (!c.ready) done(`closed ${code}`);
    });
  });
}

async function connect({ clients: specs, concurrency = 200 }) {
  const t0 = performance.now();
  const out = new Array(specs.length);
  let next = 0;
  async function worker() {
    while (next < specs.length) {
      const i = next++;
      out[i] = await connectOne(specs[i], clients.length + i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  const ms = performance.now() - t0;
  const ok = out.filter(Boolean).length;
  clients = clients.concat(out);
  return { ms, ok, failed: specs.length - ok, errors: Object.fromEntries(errors) };
}

async function step({ rate, durationMs, drainMs = 2000, rooms, clientMsgId = false }) {
  errors.clear();
  const total = Math.ceil((rate * durationMs) / 1000);
  const expectedPer = new Uint16Array(total);
  cur = { base: mid, counts: new Uint16Array(total), received: 0, same: newHist(), cross: newHist() };
  const cpu0 = process.cpuUsage();
  // Senders rotate: room r0 sender s0, room r1 sender s0, ... then s1 ...
  const order = [];
  const maxMembers = Math.max(...rooms.map((r) => r.members.length));
  for (let k = 0; k < maxMembers; k++) for (const r of rooms) if (r.members[k] !== undefined) order.push([r, r.members[k]]);
  let sent = 0;
  let expected = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((rate * elapsed) / 1000));
      while (sent < due) {
        const [room, ci] = order[sent % order.length];
        const c = clients[ci];
        const n = sent++;
        // delivered to every socket in the room (sender's own echo included)
        let exp = 0;
        for (const m of room.members) if (clients[m] && clients[m].closed === undefined) exp++;
        expectedPer[n] = exp;
        expected += exp;
        if (!c || c.closed !== undefined) continue;
        const id = clientMsgId ? `,"client_msg_id":"${randomUUID()}"` : '';
        c.ws.send(`{"type":"send_message","payload":{"room_id":"${room.id}","content":"B|${performance.now().toFixed(3)}|${mid + n}|${c.inst}|"${id}}}`);
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const sendMs = performance.now() - t0;
  const deadline = performance.now() + drainMs;
  while (cur.received < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  let lost = 0;
  let dup = 0;
  for (let i = 0; i < total; i++) {
    const d = cur.counts[i] - expectedPer[i];
    if (d < 0) lost -= d;
    else dup += d;
  }
  mid += total;
  const cpu = process.cpuUsage(cpu0);
  // each delivery was recorded once, as same- or cross-instance; the overall latency is their sum
  const all = newHist();
  all.add(cur.same);
  all.add(cur.cross);
  const q = (h, p) => (h.totalCount ? h.getValueAtPercentile(p) / 1000 : null);
  const r = {
    rate,
    sent,
    send_ms: Math.round(sendMs),
    expected,
    received: cur.received,
    lost,
    dup,
    delivered: expected ? Math.min(cur.received, expected - lost) / expected : 1,
    p50_ms: q(all, 50),
    p90_ms: q(all, 90),
    p99_ms: q(all, 99),
    max_ms: q(all, 100),
    same_p50_ms: q(cur.same, 50),
    cross_p50_ms: q(cur.cross, 50),
    same_n: cur.same.totalCount,
    cross_n: cur.cross.totalCount,
    gen_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    errors: Object.fromEntries(errors),
  };
  cur = null;
  return r;
}

async function close() {
  const open = clients.filter((c) => c && c.closed === undefined);
  await Promise.all(
    open.map(
      (c) =>
        new Promise((res) => {
          c.ws.once('close', res);
          c.ws.terminate();
        }),
    ),
  );
  clients = [];
  return { closed: open.length };
}

process.on('message', async (msg) => {
  try {
    let r;
    if (msg.cmd === 'connect') r = await connect(msg);
    else if (msg.cmd === 'step') r = await step(msg);
    else if (msg.cmd === 'close') r = await close();
    else if (msg.cmd === 'count') r = { open: clients.filter((c) => c && c.closed === undefined).length };
    process.send({ id: msg.id, ok: true, r });
  } catch (e) {
    process.send({ id: msg.id, ok: false, error: String(e && e.stack) });
  }
});
process.on('disconnect', () => process.exit(0));
