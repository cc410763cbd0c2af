import { randomBytes, randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../../setup/app';
import { freshDatabase } from '../../setup/db';
import { connectWs, http, registerUser, sleep, TestUser, WsClient } from '../../setup/clients';

const REDIS_URL = process.env.REDIS_URL;
const FAST = { WS_EVENTS_BURST: '100000', WS_EVENTS_PER_SEC: '100000' };

/** Room sequence and idempotent send, on two instances when Redis is available (one otherwise). */
describe('delivery guarantees: gapless room sequence, idempotent send', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let apps: TestApp[];

  beforeAll(async () => {
    db = await freshDatabase();
    const env = REDIS_URL ? { ...FAST, REDIS_URL, REDIS_PREFIX: `chatapp-seq-${randomBytes(4).toString('hex')}` } : FAST;
    apps = [await createTestApp(env, { dbUrl: db.url })];
    if (REDIS_URL) apps.push(await createTestApp(env, { dbUrl: db.url }));
    // eslint-disable-next-line no-console
    else console.log('delivery tests run on ONE instance: REDIS_URL is not set');
  }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await db.drop();
  });

  async function room(n: number): Promise<{ roomId: string; users: TestUser[] }> {
    const users: TestUser[] = [];
    for (let i = 0; i < n; i++) users.push(await registerUser(apps[0], 'q'));
    const r = await http(apps[0], 'POST', '/api/v1/rooms', { token: users[0].token, body: { name: 'sequence room' } });
    await Promise.all(users.slice(1).map((u) => http(apps[0], 'POST', `/api/v1/rooms/${r.body.id}/join`, { token: u.token })));
    return { roomId: r.body.id, users };
  }

  it('20 clients × 100 messages: the room sequence is exactly 1..2000, every client receives all in seq order', async () => {
    const { roomId, users } = await room(20);
    const sockets = await Promise.all(users.map((u, i) => connectWs(apps[i % apps.length], u.token)));
    const acked = new Set<string>();
    await Promise.all(
      sockets.map(async (s, i) => {
        for (let k = 0; k < 100; k++) {
          const id = randomUUID();
          s.send('send_message', { room_id: roomId, content: `c${i}-m${k}`, client_msg_id: id });
          if (k % 10 === 9) await s.waitFor('message_ack', (p) => p.client_msg_id === id, 15_000);
        }
      }),
    );
    for (const s of sockets) {
      await waitUntil(() => s.all('message_ack').length === 100, 20_000);
      s.all('message_ack').forEach((f) => acked.add(f.payload.id));
    }
    expect(acked.size).toBe(2000);
    const rows: { seq: string }[] = await apps[0].ds.query('SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq', [roomId]);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    const [{ last_seq }] = await apps[0].ds.query('SELECT last_seq FROM rooms WHERE id = $1', [roomId]);
    expect(Number(last_seq)).toBe(2000);
    for (const s of sockets) {
      await waitUntil(() => s.all('new_message').length >= 2000, 20_000);
      const seqs = s.all('new_message').map((f) => f.payload.seq as number);
      expect(new Set(seqs).size).toBe(2000);
      expect(seqs.length).toBe(2000);
      // per sender, messages arrive in the order they were sent
      const mine = s.all('new_message').filter((f) => f.payload.sender_id === users[sockets.indexOf(s)].id);
      expect(mine.map((f) => f.payload.content)).toEqual(Array.from({ length: 100 }, (_, k) => `c${sockets.indexOf(s)}-m${k}`));
    }
    sockets.forEach((s) => s.close());
  }, 90_000);

  it('a message sent twice, three times, or from a second socket is stored once and delivered once to others', async () => {
    const { roomId, users } = await room(3);
    const [alice, bob, carol] = users;
    const a1 = await connectWs(apps[0], alice.token);
    const a2 = await connectWs(apps[apps.length - 1], alice.token); // alice's second device
    const b = await connectWs(apps[0], bob.token);
    const c = await connectWs(apps[apps.length - 1], carol.token);
    const ids = Array.from({ length: 30 }, () => randomUUID());
    ids.forEach((id, i) => {
      const payload = { room_id: roomId, content: `idem ${i}`, client_msg_id: id };
      a1.send('send_message', payload);
      a1.send('send_message', payload);
      if (i % 3 === 0) a2.send('send_message', payload);
      if (i % 5 === 0) a1.send('send_message', payload);
    });
    for (const w of [b, c]) await waitUntil(() => w.all('new_message').length >= 30, 10_000);
    // REST retry of the same id: same message, no new row
    const rest = await http(apps[0], 'POST', `/api/v1/rooms/${roomId}/messages`, {
      token: alice.token,
      body: { content: 'idem 0', client_msg_id: ids[0] },
    });
    expect(rest.status).toBe(201);
    const conflict = await http(apps[0], 'POST', `/api/v1/rooms/${roomId}/messages`, {
      token: alice.token,
      body: { content: 'different text', client_msg_id: ids[1] },
    });
    expect(conflict.status).toBe(409);
    await sleep(500);
    const [{ n }] = await apps[0].ds.query('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [roomId]);
    expect(n).toBe(30);
    expect(rest.body.id).toBe((await apps[0].ds.query('SELECT id FROM messages WHERE client_msg_id = $1', [ids[0]]))[0].id);
    for (const w of [b, c]) {
      const got = w.all('new_message').map((f) => f.payload.client_msg_id);
      expect(got).toHaveLength(30);
      expect(new Set(got).size).toBe(30);
    }
    // every send was acknowledged with the same message id
    const ackIds = new Map<string, Set<string>>();
    for (const f of [...a1.all('message_ack'), ...a2.all('message_ack')]) {
      const set = ackIds.get(f.payload.client_msg_id) ?? new Set();
      set.add(f.payload.id);
      ackIds.set(f.payload.client_msg_id, set);
    }
    expect(ackIds.size).toBe(30);
    for (const set of ackIds.values()) expect(set.size).toBe(1);
    [a1, a2, b, c].forEach((w) => w.close());
  }, 40_000);

  it('resume: edits and deletes made while away arrive through sync; a gap over the limit asks for a resync', async () => {
    const { roomId, users } = await room(2);
    const [alice, bob] = users;
    const a = await connectWs(apps[0], alice.token);
    const first: WsClient = await connectWs(apps[apps.length - 1], bob.token);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await http(apps[0], 'POST', `/api/v1/rooms/${roomId}/messages`, { token: alice.token, body: { content: `r${i}` } });
      sent.push(r.body.id);
    }
    await first.waitFor('new_message', (p) => p.content === 'r4');
    const lastSeen = Math.max(...first.all('new_message').map((f) => f.payload.seq));
    first.close();
    await first.closed;
    // while bob is away: an edit, a delete, two new messages
    expect((await http(apps[0], 'PATCH', `/api/v1/messages/${sent[3]}`, { token: alice.token, body: { content: 'r3 edited' } })).status).toBe(200);
    expect((await http(apps[0], 'DELETE', `/api/v1/messages/${sent[4]}`, { token: alice.token })).status).toBe(200);
    await http(apps[0], 'POST', `/api/v1/rooms/${roomId}/messages`, { token: alice.token, body: { content: 'r5' } });
    await http(apps[0], 'POST', `/api/v1/rooms/${roomId}/messages`, { token: alice.token, body: { content: 'r6' } });
    const back = await connectWs(apps[0], bob.token);
    back.send('sync', { rooms: { [roomId]: lastSeen } });
    const done = await back.waitFor('sync_done', (p) => p.room_id === roomId);
    expect(done.payload.seq).toBe(9);
    const kinds = back.frames.filter((f) => ['new_message', 'edit_message', 'delete_message'].includes(f.type)).map((f) => `${f.type}:${f.payload.content ?? f.payload.id}`);
    expect(kinds).toEqual([`edit_message:r3 edited`, `delete_message:${sent[4]}`, 'new_message:r5', 'new_message:r6']);
    // REST equivalent
    const changes = await http(apps[0], 'GET', `/api/v1/rooms/${roomId}/changes?after=${lastSeen}`, { token: bob.token });
    expect(changes.body.data.map((m: { version: number }) => m.version)).toEqual([6, 7, 8, 9]);
    // far behind: resync_required
    const apps0 = apps[0];
    const gapApp = await createTestApp({ SYNC_MAX_GAP: '3' }, { dbUrl: apps0.dbUrl });
    const far = await connectWs(gapApp, bob.token);
    far.send('sync', { rooms: { [roomId]: 0 } });
    expect((await far.waitFor('resync_required')).payload.room_id).toBe(roomId);
    far.close();
    await gapApp.stop();
    [a, back].forEach((w) => w.close());
  }, 40_000);
});

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}
