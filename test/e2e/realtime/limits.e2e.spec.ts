import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { WebSocket as ServerSocket } from 'ws';
import { ConnectionHub } from '../../../src/realtime/connection-hub';
import { createTestApp, TestApp } from '../../setup/app';
import { freshDatabase } from '../../setup/db';
import { connectWs, http, registerUser, sleep, WsClient } from '../../setup/clients';
import { closedWithin, roomWith, waitUntil } from './helpers';

/** The server-side socket of a user (for observing the server, never for driving it). */
function serverSocketOf(app: TestApp, userId: string): ServerSocket {
  const conns = (app.app.get(ConnectionHub) as unknown as { conns: Map<ServerSocket, { user: { id: string } | null }> }).conns;
  for (const [ws, conn] of conns) if (conn.user?.id === userId) return ws;
  throw new Error('no server socket for user');
}

/** Issue 4: frame size, event rate, binary frames, slow consumers, graceful shutdown. */
describe('realtime: limits', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ WS_EVENTS_BURST: '10', WS_EVENTS_PER_SEC: '5', WS_MAX_BUFFERED_BYTES: '262144' });
  });
  afterAll(() => app.close());

  it('a frame over 16 KiB closes the socket with 1009; a 2000-character message with heavy escaping fits', async () => {
    const u = await registerUser(app, 'lf');
    const room = await roomWith(app, [u]);
    const c = await connectWs(app, u.token);
    const content = '"\\'.repeat(1000); // 2000 characters, every one escaped in JSON
    const frame = JSON.stringify({ type: 'send_message', payload: { room_id: room, content } });
    expect(frame.length).toBeGreaterThan(4096); // the original's 4096-byte limit would have killed it
    c.sendRaw(frame);
    expect((await c.waitFor('new_message')).payload.content).toBe(content);
    const big = JSON.stringify({ type: 'ping', payload: 'x'.repeat(16 * 1024) });
    c.sendRaw(big);
    expect(await closedWithin(c, 2000)).toBe(1009);
    // exactly at the limit is still accepted
    const c2 = await connectWs(app, u.token);
    const pad = 16 * 1024 - JSON.stringify({ type: 'ping', payload: '' }).length;
    c2.sendRaw(JSON.stringify({ type: 'ping', payload: 'y'.repeat(pad) }));
    await c2.waitFor('pong');
    c2.close();
  });

  it('binary frames are parsed like text frames', async () => {
    const u = await registerUser(app, 'lb');
    const c = await connectWs(app, u.token);
    c.sendRaw(Buffer.from(JSON.stringify({ type: 'ping' })));
    await c.waitFor('pong');
    c.sendRaw(Buffer.from([0xff, 0x00, 0x12]));
    expect((await c.waitFor('error')).payload.error).toBe('Invalid message format');
    expect(c.closeCode).toBeNull();
    c.close();
  });

  it('flood: an error frame once the budget is spent (socket kept), then close 1008 on persistent abuse', async () => {
    const u = await registerUser(app, 'fl');
    const c = await connectWs(app, u.token);
    for (let i = 0; i < 14; i++) c.send('ping');
    const err = await c.waitFor('error');
    expect(err.payload.error).toBe('Rate limit exceeded, slow down');
    await sleep(300);
    expect(c.all('pong').length).toBeGreaterThanOrEqual(10);
    expect(c.all('pong').length).toBeLessThan(14);
    expect(c.closeCode).toBeNull();
    // after a pause the budget refills
    await sleep(1200);
    c.clear();
    c.send('ping');
    await c.waitFor('pong');
    // a client that keeps hammering is disconnected
    for (let i = 0; i < 200; i++) c.send('ping');
    expect(await closedWithin(c, 3000)).toBe(1008);
    expect(c.closeReason).toBe('rate limit exceeded');
  });

  it('slow consumer: a client that stops reading is closed with 1013; its server buffer stays bounded; others are unaffected', async () => {
    const fastApp = await createTestApp({ WS_EVENTS_BURST: '100000', WS_EVENTS_PER_SEC: '100000', WS_MAX_BUFFERED_BYTES: '262144' });
    try {
      const [sender, slowUser, fastUser] = [await registerUser(fastApp, 'ss'), await registerUser(fastApp, 'sl'), await registerUser(fastApp, 'sf')];
      const room = await roomWith(fastApp, [sender, slowUser, fastUser]);
      const s = await connectWs(fastApp, sender.token);
      const slow = await connectWs(fastApp, slowUser.token);
      const fast = await connectWs(fastApp, fastUser.token);
      const serverWs = serverSocketOf(fastApp, slowUser.id);
      let serverClose: number | null = null;
      const realClose = serverWs.close.bind(serverWs);
      const slowSocket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      serverWs.close = ((code?: number, reason?: string) => {
        serverClose ??= code ?? null;
        realClose(code, reason);
        // the client starts reading again at once: it must then see the close frame after the buffered frames
        setImmediate(() => slowSocket.resume());
      }) as typeof serverWs.close;
      let maxBuffered = 0;
      const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, serverWs.bufferedAmount)), 2);
      slowSocket.pause();
      const heapBefore = process.memoryUsage().heapUsed;
      const content = '😀'.repeat(2000); // 8 KB of UTF-8 per frame
      const total = 1200; // ~10 MB: more than the kernel's socket buffers and the server's limit
      for (let i = 0; i < total; i++) {
        s.send('send_message', { room_id: room, content, client_msg_id: randomUUID() });
        if (i % 100 === 99) await s.waitFor('message_ack', () => s.all('message_ack').length >= i + 1, 15_000);
      }
      await waitUntil(() => serverClose !== null, 10_000, 'server closing the slow socket');
      clearInterval(sampler);
      expect(serverClose).toBe(1013);
      expect(await closedWithin(slow, 3000)).toBe(1013);
      expect(slow.closeReason).toBe('send buffer overflow');
      // what the slow socket got before the close is a gapless prefix: frames are never skipped
      const seqs = slow.all('new_message').map((f) => f.payload.seq as number);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(seqs.length).toBeLessThan(total);
      // bounded: the limit plus at most one frame
      expect(maxBuffered).toBeLessThanOrEqual(262_144 + 16 * 1024);
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      await waitUntil(() => fast.all('new_message').length === total, 15_000, 'fast consumer receiving everything');
      // eslint-disable-next-line no-console
      console.log(
        `slow consumer: closed 1013 after ${seqs.length}/${total} frames of 8 KB; server buffer max ${maxBuffered} B ` +
          `(limit 262144); test-process heap growth (clients included) ${(heapGrowth / 1e6).toFixed(1)} MB; fast consumer got ${total}/${total}`,
      );
      expect(fastApp.app.get(ConnectionHub).socketCount).toBe(2);
      [s, fast].forEach((c) => c.close());
    } finally {
      await fastApp.close();
    }
  }, 60_000);
});

describe('realtime: graceful shutdown', () => {
  it('closes every socket with 1001 after the in-flight messages are persisted, acknowledged and delivered', async () => {
    const db = await freshDatabase();
    const app = await createTestApp({ WS_EVENTS_BURST: '100000', WS_EVENTS_PER_SEC: '100000' }, { dbUrl: db.url });
    const pg = new Client({ connectionString: db.url });
    try {
      const [a, b] = [await registerUser(app, 'ga'), await registerUser(app, 'gb')];
      const room = await roomWith(app, [a, b]);
      const wa = await connectWs(app, a.token);
      const wb = await connectWs(app, b.token);
      // alice keeps sending while the server stops: some frames are in flight when it drains
      let sent = 0;
      const sender = setInterval(() => {
        for (let k = 0; k < 5 && wa.ws.readyState === 1; k++) {
          wa.send('send_message', { room_id: room, content: `g${sent}`, client_msg_id: randomUUID() });
          sent++;
        }
      }, 1);
      await waitUntil(() => wa.all('message_ack').length >= 50, 10_000, 'first acks');
      await app.stop();
      clearInterval(sender);
      expect(await closedWithin(wa, 2000)).toBe(1001);
      expect(await closedWithin(wb, 2000)).toBe(1001);
      expect(wa.closeReason).toBe('server shutting down');
      await pg.connect();
      const rows: { client_msg_id: string; seq: string }[] = await pg.query('SELECT client_msg_id, seq FROM messages WHERE room_id = $1 ORDER BY seq', [room]).then((r) => r.rows);
      const acked = wa.all('message_ack').map((f) => f.payload.client_msg_id);
      // every stored message was acknowledged to the sender and delivered to the other member before the close
      expect(acked.length).toBeGreaterThan(0);
      expect(rows.map((r) => r.client_msg_id)).toEqual(acked);
      expect(wb.all('new_message').map((f) => f.payload.client_msg_id)).toEqual(acked);
      expect(rows.map((r) => Number(r.seq))).toEqual(acked.map((_, i) => i + 1));
      // eslint-disable-next-line no-console
      console.log(`graceful shutdown: ${sent} sends, ${acked.length} stored, every stored one acked and delivered before the 1001 close`);
    } finally {
      await pg.end().catch(() => undefined);
      await db.drop();
    }
  }, 30_000);
});

describe('realtime: heartbeat', () => {
  it('a socket that stops answering pings is dropped after two ping intervals; a quiet but live one stays', async () => {
    const app = await createTestApp({ WS_PING_INTERVAL_MS: '1000' });
    try {
      const [u, v] = [await registerUser(app, 'hb'), await registerUser(app, 'hb')];
      const deaf = await connectWs(app, u.token);
      const quiet = await connectWs(app, v.token);
      const t0 = Date.now();
      (deaf.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing, so answers no ping
      await waitUntil(() => app.app.get(ConnectionHub).socketCount === 1, 4000, 'the deaf socket dropped');
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(3500);
      // the quiet socket answered every ping (the ws client does automatically) and is still served
      quiet.send('ping');
      await quiet.waitFor('pong');
      expect(quiet.closeCode).toBeNull();
      quiet.close();
      deaf.ws.terminate();
    } finally {
      await app.close();
    }
  });
});
