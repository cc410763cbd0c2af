import { randomBytes, randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../../setup/app';
import { freshDatabase } from '../../setup/db';
import { connectWs, http, Json, registerUser, TestUser, WsClient } from '../../setup/clients';
import { roomWith, waitUntil } from './helpers';

const REDIS_URL = process.env.REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) {
  process.stdout.write('SKIPPED two-instance part of test/e2e/realtime/order.e2e.spec.ts: REDIS_URL is not set\n');
}

const MESSAGE_EVENTS = new Set(['new_message', 'edit_message', 'delete_message']);
const SENDERS = 6;
const ROUNDS = 25;
const env = { WS_EVENTS_BURST: '100000', WS_EVENTS_PER_SEC: '100000', DB_POOL_SIZE: '10' };

/** Versions of the room's message events, in the order this socket received them. */
function versions(w: WsClient, roomId: string): number[] {
  return w.frames
    .filter((f) => MESSAGE_EVENTS.has(f.type) && (f.payload as Json)?.room_id === roomId)
    .map((f) => Number((f.payload as Json).version));
}

/**
 * Every sender, concurrently: send a message over WS (acked), then edit or delete it over REST
 * on some instance without waiting, and send the next one at once — new messages (group-commit
 * writer) and edits/deletes (own transactions) race for the room's sequence.
 */
async function storm(apps: TestApp[], senders: { user: TestUser; ws: WsClient }[], roomId: string): Promise<void> {
  await Promise.all(
    senders.map(async ({ user, ws }, s) => {
      const changes: Promise<unknown>[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const cid = randomUUID();
        ws.send('send_message', { room_id: roomId, content: `s${s} m${i}`, client_msg_id: cid });
        const ack = await ws.waitFor('message_ack', (p) => p.client_msg_id === cid, 10_000);
        const app = apps[(s + i) % apps.length];
        const id = ack.payload.id as string;
        if (i % 3 === 0) changes.push(http(app, 'DELETE', `/api/v1/messages/${id}`, { token: user.token }));
        else if (i % 3 === 1) changes.push(http(app, 'PATCH', `/api/v1/messages/${id}`, { token: user.token, body: { content: `s${s} m${i} edited` } }));
      }
      const results = (await Promise.all(changes)) as { status: number; text: string }[];
      for (const r of results) if (r.status !== 200) throw new Error(`change failed: ${r.status} ${r.text}`);
    }),
  );
}

/** The observer saw exactly 1..N (N = the room's committed sequence), each change once, in order. */
async function expectOrdered(app: TestApp, observers: WsClient[], roomId: string, extra = 0): Promise<number> {
  const [{ last_seq }] = await app.ds.query('SELECT last_seq::int AS last_seq FROM rooms WHERE id = $1', [roomId]);
  const [{ n, maxv }] = await app.ds.query('SELECT count(*)::int AS n, max(version)::int AS maxv FROM messages WHERE room_id = $1', [roomId]);
  expect(n).toBe(SENDERS * ROUNDS + extra);
  expect(maxv).toBe(last_seq);
  // every message takes a number; a third are deleted, a third edited: one more number each
  expect(last_seq).toBe(n + Math.ceil(ROUNDS / 3) * SENDERS + Math.floor((ROUNDS + 1) / 3) * SENDERS);
  for (const o of observers) {
    await waitUntil(() => versions(o, roomId).length >= last_seq, 10_000, `observer saw ${last_seq} events`);
  }
  const expected = Array.from({ length: last_seq }, (_, i) => i + 1);
  const rows: { id: string; version: number; is_deleted: boolean }[] = await app.ds.query(
    'SELECT id, version::int AS version, is_deleted FROM messages WHERE room_id = $1',
    [roomId],
  );
  for (const o of observers) {
    const got = versions(o, roomId);
    const inversions = got.flatMap((v, i) => (i > 0 && v <= got[i - 1] ? [`${got[i - 1]}→${v}`] : []));
    if (inversions.length > 0) process.stdout.write(`order: inversions ${inversions.join(' ')} among ${got.length} message events\n`);
    expect(got).toEqual(expected);
    // the last event an observer saw of each message is its committed state
    const last = new Map<string, Json>();
    for (const f of o.frames) if (MESSAGE_EVENTS.has(f.type)) last.set((f.payload as Json).id as string, f);
    for (const r of rows) {
      const f = last.get(r.id)!;
      expect(Number((f.payload as Json).version)).toBe(r.version);
      expect(f.type === 'delete_message').toBe(r.is_deleted);
    }
  }
  return last_seq;
}

describe('realtime order: message events of a room reach sockets in version order (one instance)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(env);
  });
  afterAll(() => app?.close());

  it('concurrent sends, edits and deletes: the observer sees versions 1..N, no gap, no duplicate', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < SENDERS + 1; i++) users.push(await registerUser(app, 'ord'));
    const roomId = await roomWith(app, users);
    const observer = await connectWs(app, users[SENDERS].token);
    const senders = await Promise.all(users.slice(0, SENDERS).map(async (user) => ({ user, ws: await connectWs(app, user.token) })));
    const t0 = Date.now();
    await storm([app], senders, roomId);
    const n = await expectOrdered(app, [observer, ...senders.map((s) => s.ws)], roomId);
    process.stdout.write(`order (one instance): ${n} changes in ${Date.now() - t0} ms, all sockets in version order\n`);
    [observer, ...senders.map((s) => s.ws)].forEach((w) => w.close());
  }, 60_000);
});

describeRedis('realtime order across two instances over Redis', () => {
  const prefix = `chatapp-test-${randomBytes(4).toString('hex')}`;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await freshDatabase();
    const e = { ...env, REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix };
    a = await createTestApp(e, { dbUrl: db.url });
    b = await createTestApp(e, { dbUrl: db.url });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  it('senders on both instances: observers on each see versions 1..N, no gap, no duplicate', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < SENDERS + 2; i++) users.push(await registerUser(a, 'ordr'));
    const roomId = await roomWith(a, users);
    const observers = [await connectWs(a, users[SENDERS].token), await connectWs(b, users[SENDERS + 1].token)];
    const senders = await Promise.all(
      users.slice(0, SENDERS).map(async (user, i) => ({ user, ws: await connectWs(i % 2 ? b : a, user.token) })),
    );
    // each instance learns the room's position from the first event it sees of it: one message
    // everyone has received first (an instance that meets a room mid-stream releases an earlier
    // version arriving after that first one late — docs/realtime.md, Order)
    const cid = randomUUID();
    senders[0].ws.send('send_message', { room_id: roomId, content: 'first', client_msg_id: cid });
    for (const w of [...observers, ...senders.map((s) => s.ws)]) await w.waitFor('new_message', (p) => p.content === 'first');
    const t0 = Date.now();
    await storm([a, b], senders, roomId);
    const n = await expectOrdered(a, [...observers, ...senders.map((s) => s.ws)], roomId, 1);
    process.stdout.write(`order (two instances): ${n} changes in ${Date.now() - t0} ms, all sockets in version order\n`);
    [...observers, ...senders.map((s) => s.ws)].forEach((w) => w.close());
  }, 60_000);
});
