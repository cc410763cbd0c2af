import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { freshDatabase } from '../../setup/db';
import { http, registerUser, sleep, TestUser } from '../../setup/clients';
import { ChildApp, startChildApp } from '../../support/child-app';

const REDIS_URL = process.env.REDIS_URL;

/**
 * A client as a careful app would write one: an outbox of unacknowledged sends (resent with the
 * same client_msg_id after reconnect), per-room contiguous seq tracking (gap → sync from the last
 * contiguous seq), dedupe by seq, reconnect to whichever instance is up.
 */
class ResilientClient {
  ws: WebSocket | null = null;
  readonly outbox = new Map<string, string>(); // client_msg_id → content
  readonly acked = new Map<string, string>(); // client_msg_id → message id
  readonly seen = new Map<number, string>(); // seq → message id
  rawDeliveries = 0;
  duplicates = 0;
  reconnects = 0;
  private contiguous = 0;
  private stopped = false;
  private urlIndex = 0;

  constructor(
    readonly user: TestUser,
    readonly roomId: string,
    private readonly urls: () => string[],
  ) {}

  async connect(): Promise<void> {
    while (!this.stopped) {
      const list = this.urls();
      const url = list[this.urlIndex++ % list.length];
      try {
        await this.open(url);
        return;
      } catch {
        await sleep(100);
      }
    }
  }

  private open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.user.token}` } });
      let ready = false;
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'user_online' && f.payload.user_id === this.user.id && f.payload.message) {
          ready = true;
          this.ws = ws;
          ws.send(JSON.stringify({ type: 'sync', payload: { rooms: { [this.roomId]: this.contiguous } } }));
          for (const [id, content] of this.outbox) this.rawSend(id, content);
          resolve();
        } else if (f.type === 'new_message' && f.payload.room_id === this.roomId) {
          this.rawDeliveries++;
          if (this.seen.has(f.payload.seq)) this.duplicates++;
          this.seen.set(f.payload.seq, f.payload.id);
          while (this.seen.has(this.contiguous + 1)) this.contiguous++;
        } else if (f.type === 'message_ack') {
          this.outbox.delete(f.payload.client_msg_id);
          this.acked.set(f.payload.client_msg_id, f.payload.id);
        }
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (!ready) return reject(new Error('closed before ready'));
        if (this.ws === ws) this.ws = null;
        if (!this.stopped) {
          this.reconnects++;
          setTimeout(() => void this.connect(), 50);
        }
      });
    });
  }

  private rawSend(id: string, content: string): void {
    this.ws?.send(JSON.stringify({ type: 'send_message', payload: { room_id: this.roomId, content, client_msg_id: id } }));
  }

  send(content: string): void {
    const id = randomUUID();
    this.outbox.set(id, content);
    this.rawSend(id, content);
  }

  /** Final catch-up: resend the outbox and sync until nothing is missing. */
  async settle(expectedSeqs: number): Promise<void> {
    const end = Date.now() + 20_000;
    while (Date.now() < end && (this.outbox.size > 0 || this.contiguous < expectedSeqs)) {
      if (this.ws) {
        for (const [id, content] of this.outbox) this.rawSend(id, content);
        this.ws.send(JSON.stringify({ type: 'sync', payload: { rooms: { [this.roomId]: this.contiguous } } }));
      }
      await sleep(300);
    }
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}

describe('chaos: an instance is SIGKILLed and restarted while clients send', () => {
  it('every acknowledged message is stored exactly once and reaches every client exactly once (after dedupe)', async () => {
    const db = await freshDatabase();
    const env: Record<string, string> = REDIS_URL ? { REDIS_URL, REDIS_PREFIX: `chatapp-chaos-${randomBytes(4).toString("hex")}` } : {};
    const apps: (ChildApp | null)[] = [await startChildApp(db.url, env)];
    if (REDIS_URL) apps.push(await startChildApp(db.url, env));
    const urls = () => apps.filter((a): a is ChildApp => a !== null).map((a) => a.wsUrl);
    const clients: ResilientClient[] = [];
    try {
      const base = apps[0]!;
      const users: TestUser[] = [];
      for (let i = 0; i < 6; i++) users.push(await registerUser(base, 'chaos'));
      const room = await http(base, 'POST', '/api/v1/rooms', { token: users[0].token, body: { name: 'chaos room' } });
      for (const u of users.slice(1)) await http(base, 'POST', `/api/v1/rooms/${room.body.id}/join`, { token: u.token });
      for (const u of users) {
        const c = new ResilientClient(u, room.body.id, urls);
        await c.connect();
        clients.push(c);
      }
      let sent = 0;
      const pump = setInterval(() => {
        for (const c of clients) {
          c.send(`msg ${sent++}`);
        }
      }, 20);
      await sleep(1000);
      const victim = apps[0]!;
      victim.proc.kill('SIGKILL');
      await victim.exited;
      apps[0] = null;
      await sleep(700);
      apps[0] = await startChildApp(db.url, env, victim.port);
      await sleep(1000);
      clearInterval(pump);
      // everyone resends what was not acknowledged and catches up
      const total = () => clients.reduce((s, c) => s + c.acked.size, 0);
      await Promise.all(clients.map((c) => c.settle(0)));
      const { Client } = await import('pg');
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      const rows = (await pg.query('SELECT id, seq, client_msg_id FROM messages WHERE room_id = $1 ORDER BY seq', [room.body.id])).rows;
      await pg.end();
      const dbIds = new Set(rows.map((r) => r.id as string));
      const lastSeq = rows.length;
      await Promise.all(clients.map((c) => c.settle(lastSeq)));
      // the database: gapless 1..N, each client_msg_id once
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.client_msg_id)).size).toBe(rows.length);
      // every send was eventually acknowledged, and every ack names a stored message
      expect(sent).toBe(total());
      for (const c of clients) {
        expect(c.outbox.size).toBe(0);
        for (const id of c.acked.values()) expect(dbIds.has(id)).toBe(true);
      }
      // every client ends with exactly the stored messages (nothing missing, nothing extra)
      for (const c of clients) {
        expect(c.seen.size).toBe(rows.length);
        expect(new Set(c.seen.values())).toEqual(dbIds);
      }
      // eslint-disable-next-line no-console
      console.log(
        `chaos: instances=${apps.length} sent=${sent} acknowledged=${total()} stored=${rows.length} ` +
          clients.map((c, i) => `c${i}: delivered=${c.seen.size} raw=${c.rawDeliveries} dup=${c.duplicates} reconnects=${c.reconnects}`).join('; '),
      );
    } finally {
      clients.forEach((c) => c.stop());
      for (const a of apps) a?.proc.kill('SIGKILL');
      await db.drop();
    }
  }, 90_000);
});
