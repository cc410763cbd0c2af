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

/**
 * One text frame: bytes [s, e) of `b` (valid during the call only). A timed message is parsed in
 * place, digit by digit: no string, no split, no Number() per delivery.
 */
function onMessage(c, b, s, e) {
  // only a new_message frame ({"type":"n…) can be timed: any other is read as text, without a
  // search that would run on past `e` through the rest of the shared read buffer
  const i = e - s > 9 && b[s + 9] === 0x6e ? b.indexOf(MARK, s) : -1;
  if (i < 0 || i + MARK.length > e) {
    const str = b.toString('utf8', s, e);
    if (!c.ready && str.includes('"user_online"') && str.includes('Connected to chat server')) {
      c.ready = true;
      c.onReady?.();
    } else if (str.startsWith('{"type":"error"')) {
      const key = str.slice(0, 160);
      errors.set(key, (errors.get(key) || 0) + 1);
    }
    return;
  }
  if (!cur) return;
  // B|<send time, ms with 3 decimals>|<message no>|<sender's instance>|
  let p = i + MARK.length;
  let ch = 0;
  let t = 0;
  while (p < e && (ch = b[p]) !== 0x7c && ch !== 0x2e) (t = t * 10 + ch - 48), p++;
  if (ch === 0x2e) {
    let f = 0;
    let scale = 1;
    while (++p < e && (ch = b[p]) !== 0x7c) (f = f * 10 + ch - 48), (scale *= 10);
    t += f / scale;
  }
  let n = 0;
  while (++p < e && (ch = b[p]) !== 0x7c) n = n * 10 + ch - 48;
  let inst = 0;
  while (++p < e && (ch = b[p]) !== 0x7c) inst = inst * 10 + ch - 48;
  if (p >= e) return; // not our format
  const m = n - cur.base;
  if (m < 0 || m >= cur.counts.length) return;
  cur.counts[m]++;
  cur.received++;
  const us = Math.max(1, Math.round((performance.now() - t) * 1000));
  if (inst === c.inst) cur.same.recordValue(us);
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
 * parsed in place (text → `onText(buffer, start, end)`, ping → pong, close → closed). Frames it
 * sends are masked with a zero key (valid: the mask bit is set; XOR with zero leaves the payload as
 * is). Emits 'open', 'error' (Error) and 'close' (code) like `ws`; a text frame goes to `onText`
 * by offsets into the read buffer (valid during the call only), not as an event with a view;
 * `send(text)` and `terminate()`.
 */
const READ_BUF = Buffer.allocUnsafe(256 * 1024);
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
    /** (buffer, start, end) of each text frame, set by the owner */
    this.onText = () => {};
    this.closeCode = 1006;
    // `onread`: the socket reads into one buffer shared by every RawWs and calls back with the
    // count, without a Buffer per read and the stream machinery around it ('data' events)
    const onread = { buffer: READ_BUF, callback: (n) => void this.onData(READ_BUF, n) };
    this.sock = net.connect({ port: Number(u.port), host: u.hostname, onread }, () => this.sock.write(req + '\r\n'));
    this.sock.setNoDelay(true);
    this.sock.on('error', (e) => this.emit('error', e));
    this.sock.on('close', () => this.emit('close', this.closeCode));
  }
  /**
   * `d`'s first `n` bytes are new (READ_BUF, shared): every frame is handed on by offsets, without
   * a view per frame, before returning; a partial frame is kept as a copy of its own.
   */
  onData(d, n) {
    let b = d;
    let pos = 0;
    let end = n;
    if (this.buf !== null) {
      b = Buffer.concat([this.buf, d.subarray(0, n)]);
      end = b.length;
    }
    if (!this.upgraded) {
      const at = b.subarray(0, end).indexOf('\r\n\r\n'); // once per socket: a view is fine
      if (at < 0) return void (this.buf = Buffer.from(b.subarray(0, end)));
      const head = b.toString('latin1', 0, at);
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(RAW_ACCEPT)) {
        this.emit('error', new Error(`Unexpected server response: ${head.slice(9, 12)}`));
        return void this.sock.destroy();
      }
      this.upgraded = true;
      pos = at + 4;
      this.emit('open');
    }
    while (end - pos >= 2) {
      let len = b[pos + 1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (end - pos < 4) break;
        len = (b[pos + 2] << 8) | b[pos + 3];
        off = 4;
      } else if (len === 127) {
        if (end - pos < 10) break;
        len = Number(b.readBigUInt64BE(pos + 2));
        off = 10;
      }
      if (end - pos < off + len) break;
      const op = b[pos] & 0x0f;
      const ps = pos + off;
      pos = ps + len;
      if (op === 1) this.onText(b, ps, pos);
      else if (op === 9) this.writeFrame(0x8a, b.subarray(ps, pos));
      else if (op === 8) {
        if (len >= 2) this.closeCode = (b[ps] << 8) | b[ps + 1];
        this.sock.destroy();
        return;
      }
    }
    this.buf = pos < end ? Buffer.from(b.subarray(pos, end)) : null;
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
    ws.onText = (b, s, e) => onMessage(c, b, s, e);
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
