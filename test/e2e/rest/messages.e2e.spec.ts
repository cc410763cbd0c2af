import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../../setup/app';
import { connectWs, http, Json, registerUser, TestUser } from '../../setup/clients';
import { MessageWriter } from '../../../src/modules/messages/message-writer';
import { expectError, expectValidation, NIL_UUID } from './helpers';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const CONTENT_RULE = 'Message content must be 1-2000 characters';
const NOT_MEMBER = 'you are not a member of this room';

describe('REST messages: send, history, edit, delete (§4.3.8, §4.4, Part A5/A9/A10)', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  const room = async (owner: TestUser, members: TestUser[] = [], type: 'public' | 'private' = 'public') => {
    const r = await http(app, 'POST', '/api/v1/rooms', { token: owner.token, body: { name: `room ${randomUUID().slice(0, 8)}`, type } });
    for (const m of members) await http(app, 'POST', `/api/v1/rooms/${r.body.id}/members`, { token: owner.token, body: { user_id: m.id } });
    return r.body.id as string;
  };
  const post = (u: TestUser, roomId: string, body: Json) => http(app, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: u.token, body });
  const send = async (u: TestUser, roomId: string, content: string, extra: Json = {}) => {
    const r = await post(u, roomId, { content, ...extra });
    expect(r.status).toBe(201);
    return r.body;
  };
  const upload = async (u: TestUser, name = 'pic.png', bytes: Buffer = PNG) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    const r = await http(app, 'POST', '/api/v1/upload', { token: u.token, raw: form });
    expect(r.status).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    app = await createTestApp();
    [alice, bob, carol] = [await registerUser(app, 'alice'), await registerUser(app, 'bob'), await registerUser(app, 'carol')];
  });
  afterAll(() => app.close());
  afterEach(() => app.clock.reset());

  describe('POST /rooms/:id/messages', () => {
    it('201 with the stored Message; the sender carries no e-mail', async () => {
      const id = await room(alice, [bob]);
      const r = await post(alice, id, { content: 'hello <b>&', unknown_key: 1 });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ room_id: id, sender_id: alice.id, content: 'hello <b>&', type: 'text', is_edited: false, is_deleted: false, seq: 1 });
      expect(r.body.sender).toMatchObject({ id: alice.id, username: alice.username });
      expect(r.body.sender.email).toBeUndefined();
      for (const k of ['file_url', 'file_name', 'file_size', 'reply_to_id', 'reply_to']) expect(r.body[k]).toBeUndefined();
      const rows = await app.ds.query('SELECT content, sender_id FROM messages WHERE id = $1', [r.body.id]);
      expect(rows).toEqual([{ content: 'hello <b>&', sender_id: alice.id }]);
      expect((await send(bob, id, 'second')).seq).toBe(2);
    });

    it('new messages get time-ordered ids (UUID version 7) carrying the time of the insert, alone and in group commits', async () => {
      const id = await room(alice, [bob]);
      const single = [await send(alice, id, 'one'), await send(bob, id, 'two')];
      const burst = await Promise.all(Array.from({ length: 24 }, (_, i) => send(i % 2 ? alice : bob, id, `burst ${i}`)));
      const millis = (uuid: string) => parseInt(uuid.replace(/-/g, '').slice(0, 12), 16);
      for (const m of [...single, ...burst]) {
        expect(m.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        // the id's clock is read during the insert, created_at at the start of its transaction
        expect(Math.abs(millis(m.id) - Date.parse(m.created_at))).toBeLessThan(1000);
      }
      // in seq order, the ids' times never go back (a burst shares statements: equal times there)
      const stored: { id: string }[] = await app.ds.query('SELECT id FROM messages WHERE room_id = $1 ORDER BY seq', [id]);
      expect(stored).toHaveLength(26);
      const times = stored.map((r) => millis(r.id));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(stored.map((r) => r.id)).size).toBe(26);
    });

    it('content limits count characters (code points), same rules as WebSocket send_message', async () => {
      const id = await room(alice);
      expect((await post(alice, id, { content: '😀'.repeat(2000) })).status).toBe(201);
      expect((await post(alice, id, { content: 'x'.repeat(2000) })).status).toBe(201);
      expectError(await post(alice, id, { content: 'x'.repeat(2001) }), 400, CONTENT_RULE);
      expectError(await post(alice, id, { content: '' }), 400, CONTENT_RULE);
      expectError(await post(alice, id, { content: '   \n' }), 400, CONTENT_RULE);
      expectError(await post(alice, id, {}), 400, CONTENT_RULE);
      expectError(await post(alice, id, { content: 5 }), 400, 'Invalid payload');
      expectError(await post(alice, id, { content: 'x', file_size: 'big' }), 400, 'Invalid payload');
      expectError(await post(alice, id, { content: 'nul \u0000 byte' }), 400, 'Message content contains invalid characters');
      const raw = await http(app, 'POST', `/api/v1/rooms/${id}/messages`, { token: alice.token, raw: '["x"]', headers: { 'content-type': 'application/json' } });
      expect(raw.status).toBe(400);
      expect(Number((await app.ds.query('SELECT count(*) FROM messages WHERE room_id = $1', [id]))[0].count)).toBe(2);
    });

    it('non-members: public room 403, private room 404; bad and unknown room ids', async () => {
      const pub = await room(alice);
      const priv = await room(alice, [], 'private');
      expectError(await post(carol, pub, { content: 'x' }), 403, NOT_MEMBER);
      expectError(await post(carol, priv, { content: 'x' }), 404, NOT_MEMBER);
      expectError(await post(carol, NIL_UUID, { content: 'x' }), 404, NOT_MEMBER);
      expectError(await http(app, 'POST', '/api/v1/rooms/bad/messages', { token: carol.token, body: { content: 'x' } }), 400, 'Invalid room ID');
      expectError(await http(app, 'POST', `/api/v1/rooms/${pub}/messages`, { body: { content: 'x' } }), 401, 'Authorization header is required');
    });

    it('reply_to_id must be a message of the same room', async () => {
      const a = await room(alice, [bob]);
      const b = await room(alice);
      const first = await send(bob, a, 'question?');
      const elsewhere = await send(alice, b, 'elsewhere');
      const ws = await connectWs(app, bob.token);
      const reply = await send(alice, a, 'answer', { reply_to_id: first.id });
      // members get the same Message over WebSocket, reply and its sender included
      const pushed = await ws.waitFor('new_message', (p) => p.id === reply.id);
      ws.close();
      expect(pushed.payload.reply_to).toMatchObject({ id: first.id, sender: { id: bob.id, username: bob.username } });
      expect(reply.reply_to_id).toBe(first.id);
      expect(reply.reply_to).toMatchObject({ id: first.id, content: 'question?', sender: { id: bob.id } });
      expect(reply.reply_to.sender.email).toBeUndefined();
      expectError(await post(alice, a, { content: 'x', reply_to_id: elsewhere.id }), 400, 'reply_to_id must be a message in the same room');
      expectError(await post(alice, a, { content: 'x', reply_to_id: NIL_UUID }), 400, 'reply_to_id must be a message in the same room');
      expectError(await post(alice, a, { content: 'x', reply_to_id: 'not-a-uuid' }), 400, 'Invalid reply_to_id');
      // an empty reply_to_id means "no reply"
      expect((await send(alice, a, 'plain', { reply_to_id: '' })).reply_to_id).toBeUndefined();
    });

    it('attachments: file_url must be an upload of this server; size from the upload; file_name bounded', async () => {
      const id = await room(alice);
      const up = await upload(alice);
      const m = await send(alice, id, 'caption', { type: 'image', file_url: up.url, file_name: 'holiday.png', file_size: 999999999 });
      expect(m).toMatchObject({ type: 'image', file_url: up.url, file_name: 'holiday.png', file_size: PNG.length, content: 'caption' });
      const noName = await send(alice, id, '', { type: 'file', file_url: up.url });
      expect(noName.file_name).toBe('pic.png');
      for (const file_url of ['https://evil.example/x.png', '/static/uploads/../index.html', `/static/uploads/${randomUUID()}.png`, '/static/index.html', 'javascript:alert(1)']) {
        expectError(await post(alice, id, { content: '', type: 'image', file_url }), 400, 'file_url must be a file uploaded to this server');
      }
      expectError(await post(alice, id, { content: 'x', type: 'image' }), 400, 'file_url is required for file/image/audio messages');
      expectError(await post(alice, id, { content: '', type: 'file', file_url: up.url, file_name: 'n'.repeat(256) }), 400, 'file_name must be at most 255 characters');
      expect((await post(alice, id, { content: '', type: 'file', file_url: up.url, file_name: 'n'.repeat(255) })).status).toBe(201);
      expectError(await post(alice, id, { content: 'c'.repeat(2001), type: 'image', file_url: up.url }), 400, 'Caption must be at most 2000 characters');
      // a text message ignores file fields
      const text = await send(alice, id, 'just text', { file_url: 'https://evil.example/x', file_name: 'x' });
      expect(text.file_url).toBeUndefined();
    });

    it('what a send returns and broadcasts is exactly what history reads back (single and group-committed inserts)', async () => {
      // the insert returns only what the database decides; the rest is filled in from the input
      const id = await room(alice, [bob]);
      expect((await http(app, 'PATCH', '/api/v1/auth/me', { token: alice.token, body: { status: 'busy 🚧' } })).status).toBe(200);
      const watcher = await connectWs(app, bob.token); // a member: gets every new_message of the room
      const up = await upload(alice, 'Report Q3.png');
      const key = randomUUID();
      const sent: Json[] = [];
      sent.push(await send(alice, id, 'héllo 😀 \u200b "quoted" <b>', { client_msg_id: `{${key.toUpperCase()}}` }));
      sent.push(await send(alice, id, 'a reply', { reply_to_id: sent[0].id }));
      sent.push(await send(alice, id, 'caption', { type: 'image', file_url: up.url }));
      sent.push(await send(alice, id, '', { type: 'file', file_url: up.url, file_name: 'other.png' }));
      // many at once: they share group-commit statements
      const burst = await Promise.all(Array.from({ length: 40 }, (_, k) => post(k % 2 ? alice : bob, id, { content: `burst ${k}`, client_msg_id: randomUUID() })));
      expect(burst.every((r) => r.status === 201)).toBe(true);
      sent.push(...burst.map((r) => r.body));
      expect(sent[0].client_msg_id).toBe(key);

      const history = await http(app, 'GET', `/api/v1/rooms/${id}/messages?limit=100`, { token: bob.token });
      const stored = new Map<string, Json>(history.body.data.map((m: Json) => [m.id, m]));
      expect(stored.size).toBe(sent.length);
      for (const m of sent) expect(m).toEqual(stored.get(m.id));
      // the broadcast frames carry the same objects
      await watcher.waitFor('new_message', (p) => p.id === burst[burst.length - 1].body.id);
      const live = watcher.all('new_message').map((f) => f.payload);
      expect(live).toHaveLength(sent.length);
      for (const m of live) expect(m).toEqual(stored.get(m.id));
      expect(new Set(live.map((m) => m.seq)).size).toBe(sent.length);
      watcher.close();
    });

    it('times are the same instants, in the protocol’s form, when the database session runs in another time zone', async () => {
      // the insert path rearranges PostgreSQL's UTC text; any other offset takes pg's own parser
      const tz = await createTestApp({}, { dbUrl: `${app.dbUrl}${app.dbUrl.includes('?') ? '&' : '?'}options=-c%20TimeZone%3DAsia%2FKolkata` });
      try {
        const [dave, erin] = [await registerUser(tz, 'dave'), await registerUser(tz, 'erin')];
        const r = await http(tz, 'POST', '/api/v1/rooms', { token: dave.token, body: { name: `tz ${randomUUID().slice(0, 8)}`, type: 'public' } });
        expect((await http(tz, 'POST', `/api/v1/rooms/${r.body.id}/join`, { token: erin.token })).status).toBe(200);
        const watcher = await connectWs(tz, erin.token);
        const before = Date.now();
        const sent = await http(tz, 'POST', `/api/v1/rooms/${r.body.id}/messages`, { token: dave.token, body: { content: 'namaste' } });
        expect(sent.status).toBe(201);
        const live = (await watcher.waitFor('new_message', (p) => p.id === sent.body.id)).payload;
        const history = await http(tz, 'GET', `/api/v1/rooms/${r.body.id}/messages`, { token: erin.token });
        expect(live).toEqual(history.body.data[0]);
        expect(sent.body).toEqual(history.body.data[0]);
        for (const t of [sent.body.created_at, sent.body.updated_at, sent.body.sender.created_at, sent.body.sender.last_seen]) {
          expect(t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        }
        expect(Math.abs(Date.parse(sent.body.created_at) - before)).toBeLessThan(5000);
        watcher.close();
      } finally {
        await tz.close();
      }
    });

    it('a group commit spanning several rooms: each send gets the row its own message became, numbered per room', async () => {
      // 60 sends at once, round-robin over three rooms: they queue behind the statement in flight
      // and share the next ones, each covering several rooms with several messages per room.
      const ids = [await room(alice, [bob]), await room(alice, [bob]), await room(alice, [bob])];
      const watcher = await connectWs(app, bob.token);
      const N = 60;
      const res = await Promise.all(
        Array.from({ length: N }, (_, k) => post(k % 2 ? alice : bob, ids[k % 3], { content: `m${k}`, client_msg_id: randomUUID() })),
      );
      expect(res.map((r) => r.status)).toEqual(Array(N).fill(201));
      res.forEach((r, k) => expect({ room_id: r.body.room_id, content: r.body.content }).toEqual({ room_id: ids[k % 3], content: `m${k}` }));
      const stored = new Map<string, Json>();
      for (const id of ids) {
        const h = await http(app, 'GET', `/api/v1/rooms/${id}/messages?limit=100`, { token: bob.token });
        expect(h.body.data.map((m: Json) => m.seq)).toEqual(Array.from({ length: N / 3 }, (_, k) => k + 1)); // gapless per room
        for (const m of h.body.data) stored.set(m.id, m);
      }
      // the sender's last_seen moves with presence while this runs: not compared
      const noLastSeen = (m: Json) => ({ ...m, sender: { ...(m.sender as Json), last_seen: null } });
      expect(stored.size).toBe(N);
      for (const r of res) expect(noLastSeen(r.body)).toEqual(noLastSeen(stored.get(r.body.id)!));
      await Promise.all(res.map((r) => watcher.waitFor('new_message', (p) => p.id === r.body.id, 10_000)));
      expect(watcher.all('new_message')).toHaveLength(N);
      for (const f of watcher.all('new_message')) expect(noLastSeen(f.payload as Json)).toEqual(noLastSeen(stored.get(f.payload.id as string)!));
      watcher.close();

      // Deterministically: 31 writes in one tick — the first is written alone, the other 30 queue
      // behind it and go as ONE statement over three rooms, ten messages each.
      const writer = app.app.get(MessageWriter);
      const input = (k: number) => ({
        roomId: ids[k % 3], senderId: k % 2 ? alice.id : bob.id, content: `w${k}`, type: 'text',
        fileUrl: null, fileName: null, fileSize: null, replyToId: null, clientMsgId: null,
      });
      const rows = await Promise.all(Array.from({ length: 31 }, (_, k) => writer.write(input(k))));
      const inDb = await app.ds.query(`SELECT id, room_id, seq::int AS seq, content FROM messages WHERE content LIKE 'w%' AND room_id = ANY($1)`, [ids]);
      const byId = new Map(inDb.map((r: Json) => [r.id, r]));
      rows.forEach((r, k) => {
        expect(byId.get(r!.id)).toEqual({ id: r!.id, room_id: ids[k % 3], seq: Number(r!.seq), content: `w${k}` });
      });
      // per room, arrival order = seq order, right after the 20 messages above
      for (const id of ids) {
        const seqs = rows.filter((r) => r!.room_id === id).map((r) => Number(r!.seq));
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => N / 3 + 1 + k));
      }
    });

    it('client_msg_id: a retry returns the original (one row); reusing it for other content is 409', async () => {
      const id = await room(alice);
      const key = randomUUID();
      const first = await send(alice, id, 'once', { client_msg_id: key });
      expect(first.client_msg_id).toBe(key);
      const retry = await post(alice, id, { content: 'once', client_msg_id: key });
      expect([200, 201]).toContain(retry.status);
      expect(retry.body.id).toBe(first.id);
      const burstKey = randomUUID();
      const parallel = await Promise.all(Array.from({ length: 5 }, () => post(alice, id, { content: 'burst', client_msg_id: burstKey })));
      expect(parallel.every((r) => r.status === 200 || r.status === 201)).toBe(true);
      expect(new Set(parallel.map((r) => r.body.id)).size).toBe(1);
      expectError(await post(alice, id, { content: 'different', client_msg_id: key }), 409, 'client_msg_id was already used for a different message');
      expectError(await post(alice, id, { content: 'x', client_msg_id: 'nope' }), 400, 'Invalid client_msg_id');
      const rows = await app.ds.query('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [id]);
      expect(rows[0].n).toBe(2);
      // another user may use the same key
      await http(app, 'POST', `/api/v1/rooms/${id}/join`, { token: bob.token });
      expect((await send(bob, id, 'mine', { client_msg_id: key })).id).not.toBe(first.id);
    });
  });

  describe('GET /rooms/:id/messages', () => {
    let id: string;
    let ids: string[];
    beforeAll(async () => {
      id = await room(alice, [bob]);
      ids = [];
      for (let i = 0; i < 105; i++) ids.push((await send(i % 2 ? bob : alice, id, `m${i}`)).id);
    });

    it('page 1 is the newest batch, oldest-first inside; default 50; later pages go back in time', async () => {
      const p1 = await http(app, 'GET', `/api/v1/rooms/${id}/messages`, { token: bob.token });
      expect(p1.status).toBe(200);
      expect({ ...p1.body, data: undefined }).toEqual({ data: undefined, total: 105, page: 1, limit: 50, total_pages: 3, partner_read_at: null });
      expect(p1.body.data.map((m: Json) => m.id)).toEqual(ids.slice(55));
      expect(p1.body.data[0].sender.email).toBeUndefined();
      const p2 = await http(app, 'GET', `/api/v1/rooms/${id}/messages?page=2`, { token: bob.token });
      expect(p2.body.data.map((m: Json) => m.id)).toEqual(ids.slice(5, 55));
      const p3 = await http(app, 'GET', `/api/v1/rooms/${id}/messages?page=3`, { token: bob.token });
      expect(p3.body.data.map((m: Json) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect((await http(app, 'GET', `/api/v1/rooms/${id}/messages?page=4`, { token: bob.token })).body.data).toEqual([]);
      const small = await http(app, 'GET', `/api/v1/rooms/${id}/messages?page=2&limit=10`, { token: bob.token });
      expect(small.body.data.map((m: Json) => m.id)).toEqual(ids.slice(85, 95));
      expect(small.body.total_pages).toBe(11);
    });

    it('partner_read_at stays null in group rooms even after another member reads (no read-time leak)', async () => {
      expect((await http(app, 'POST', `/api/v1/rooms/${id}/read`, { token: alice.token })).status).toBe(200);
      const r = await http(app, 'GET', `/api/v1/rooms/${id}/messages?limit=1`, { token: bob.token });
      expect(r.body.partner_read_at).toBeNull();
    });

    it('limit is capped at 100 and clamped, never 500 or unbounded', async () => {
      for (const [q, limit, count] of [
        ['limit=1000', 100, 100],
        ['limit=100', 100, 100],
        ['limit=0', 50, 50],
        ['limit=-1', 50, 50],
        ['limit=1.5', 50, 50],
        ['limit=1e9', 50, 50],
        ['page=-1&limit=1', 1, 1],
      ] as const) {
        const r = await http(app, 'GET', `/api/v1/rooms/${id}/messages?${q}`, { token: alice.token });
        expect({ q, status: r.status, limit: r.body.limit, count: r.body.data?.length, page: r.body.page }).toEqual({ q, status: 200, limit, count, page: 1 });
      }
    });

    it('non-member: public 403, private/direct 404; bad id 400', async () => {
      expectError(await http(app, 'GET', `/api/v1/rooms/${id}/messages`, { token: carol.token }), 403, NOT_MEMBER);
      const priv = await room(alice, [], 'private');
      expect((await http(app, 'GET', `/api/v1/rooms/${priv}/messages`, { token: carol.token })).status).toBe(404);
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: bob.id } })).body.id;
      expect((await http(app, 'GET', `/api/v1/rooms/${dm}/messages`, { token: carol.token })).status).toBe(404);
      expectError(await http(app, 'GET', `/api/v1/rooms/${NIL_UUID}/messages`, { token: carol.token }), 404, 'Room not found');
      expectError(await http(app, 'GET', '/api/v1/rooms/xyz/messages', { token: carol.token }), 400, 'Invalid room ID');
    });

    it('partner_read_at in direct rooms; deleted messages stay with empty content', async () => {
      const u1 = await registerUser(app, 'p1');
      const u2 = await registerUser(app, 'p2');
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: u1.token, body: { recipient_id: u2.id } })).body.id;
      const m1 = await send(u1, dm, 'first');
      const m2 = await send(u1, dm, 'second', { reply_to_id: m1.id });
      expect((await http(app, 'DELETE', `/api/v1/messages/${m1.id}`, { token: u1.token })).status).toBe(200);
      let h = await http(app, 'GET', `/api/v1/rooms/${dm}/messages`, { token: u1.token });
      expect(h.body.partner_read_at).toBeNull();
      expect(h.body.total).toBe(2);
      expect(h.body.data[0]).toMatchObject({ id: m1.id, content: '', is_deleted: true, type: 'text' });
      expect(h.body.data[1]).toMatchObject({ id: m2.id, reply_to_id: m1.id, reply_to: { id: m1.id, content: '', is_deleted: true } });
      expect((await http(app, 'POST', `/api/v1/rooms/${dm}/read`, { token: u2.token })).status).toBe(200);
      h = await http(app, 'GET', `/api/v1/rooms/${dm}/messages`, { token: u1.token });
      expect(typeof h.body.partner_read_at).toBe('string');
      expect(new Date(h.body.partner_read_at).getTime()).toBeGreaterThanOrEqual(new Date(m2.created_at).getTime());
      // the reader's own view shows the partner (u1), who has not read
      expect((await http(app, 'GET', `/api/v1/rooms/${dm}/messages`, { token: u2.token })).body.partner_read_at).toBeNull();
    });
  });

  describe('GET /rooms/:id/changes (resume extension)', () => {
    it('lists changes after a sequence number; members only; after is validated', async () => {
      const id = await room(alice);
      const m1 = await send(alice, id, 'a');
      await send(alice, id, 'b');
      await http(app, 'PATCH', `/api/v1/messages/${m1.id}`, { token: alice.token, body: { content: 'a2' } });
      const r = await http(app, 'GET', `/api/v1/rooms/${id}/changes?after=1`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ last_seq: 3, has_more: false, resync_required: false });
      expect(r.body.data.map((m: Json) => m.content)).toEqual(['b', 'a2']);
      expectError(await http(app, 'GET', `/api/v1/rooms/${id}/changes?after=-1`, { token: alice.token }), 400, 'after must be a non-negative integer');
      expectError(await http(app, 'GET', `/api/v1/rooms/${id}/changes`, { token: alice.token }), 400, 'after must be a non-negative integer');
      expectError(await http(app, 'GET', `/api/v1/rooms/${id}/changes?after=0`, { token: carol.token }), 403, NOT_MEMBER);
    });
  });

  describe('PATCH /messages/:id (edit)', () => {
    it('own message within 3 minutes, unread: 200 Message with is_edited; caption of a file message', async () => {
      const id = await room(alice, [bob]);
      const m = await send(alice, id, 'typo');
      const r = await http(app, 'PATCH', `/api/v1/messages/${m.id}`, { token: alice.token, body: { content: 'fixed' } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: m.id, content: 'fixed', is_edited: true, is_deleted: false, type: 'text', sender: { id: alice.id } });
      expect(r.body.sender.email).toBeUndefined();
      expect((await app.ds.query('SELECT content, is_edited FROM messages WHERE id = $1', [m.id]))[0]).toEqual({ content: 'fixed', is_edited: true });
      const up = await upload(alice);
      const f = await send(alice, id, 'cap', { type: 'image', file_url: up.url });
      const e = await http(app, 'PATCH', `/api/v1/messages/${f.id}`, { token: alice.token, body: { content: 'new cap' } });
      expect(e.body).toMatchObject({ type: 'image', file_url: up.url, content: 'new cap', is_edited: true });
    });

    it('content rules: required, ≤ 2000 characters, valid text', async () => {
      const id = await room(alice);
      const m = await send(alice, id, 'x');
      const edit = (body: Json) => http(app, 'PATCH', `/api/v1/messages/${m.id}`, { token: alice.token, body });
      expectValidation(await edit({}));
      expectValidation(await edit({ content: '' }));
      expectValidation(await edit({ content: 7 }));
      expectError(await edit({ content: 'y'.repeat(2001) }), 400, CONTENT_RULE);
      expectError(await edit({ content: '  ' }), 400, CONTENT_RULE);
      expect((await edit({ content: '😀'.repeat(2000) })).status).toBe(200);
      expectError(await http(app, 'PATCH', '/api/v1/messages/abc', { token: alice.token, body: {} }), 400, 'Invalid message ID');
    });

    it('rule violations are 403 with the protocol texts', async () => {
      const id = await room(alice, [bob]);
      const edit = (u: TestUser, mid: string) => http(app, 'PATCH', `/api/v1/messages/${mid}`, { token: u.token, body: { content: 'changed' } });
      expectError(await edit(alice, NIL_UUID), 403, 'message not found');
      const m = await send(alice, id, 'mine');
      expectError(await edit(bob, m.id), 403, 'you can only edit your own messages');
      expectError(await edit(carol, m.id), 403, 'you can only edit your own messages');
      // time window (the server's injectable clock)
      const old = await send(alice, id, 'old');
      app.clock.advance(170_000);
      expect((await edit(alice, old.id)).status).toBe(200);
      app.clock.advance(11_000);
      expectError(await edit(alice, old.id), 403, 'messages can only be edited within 3 minutes of sending');
      app.clock.reset();
      // read by another member
      const read = await send(alice, id, 'to be read');
      expect((await http(app, 'POST', `/api/v1/rooms/${id}/read`, { token: bob.token })).status).toBe(200);
      expectError(await edit(alice, read.id), 403, 'cannot edit a message the recipient has already read');
      // own read does not count
      const id2 = await room(alice, [bob]);
      const ownRead = await send(alice, id2, 'self read');
      await http(app, 'POST', `/api/v1/rooms/${id2}/read`, { token: alice.token });
      expect((await edit(alice, ownRead.id)).status).toBe(200);
      // deleted
      const del = await send(alice, id2, 'gone');
      await http(app, 'DELETE', `/api/v1/messages/${del.id}`, { token: alice.token });
      expectError(await edit(alice, del.id), 403, 'cannot edit a deleted message');
      // sender no longer a member (public room)
      const pub = await room(bob);
      await http(app, 'POST', `/api/v1/rooms/${pub}/join`, { token: carol.token });
      const left = await send(carol, pub, 'bye');
      await http(app, 'POST', `/api/v1/rooms/${pub}/leave`, { token: carol.token });
      expectError(await edit(carol, left.id), 403, NOT_MEMBER);
      // a private room's message is "not found" to outsiders
      const priv = await room(alice, [], 'private');
      const secret = await send(alice, priv, 'secret');
      expectError(await edit(carol, secret.id), 403, 'message not found');
      expect((await app.ds.query('SELECT content FROM messages WHERE id = $1', [secret.id]))[0].content).toBe('secret');
    });
  });

  describe('DELETE /messages/:id', () => {
    it('soft delete: 200, then the protocol shape (empty content, text, no file fields, reply_to_id kept)', async () => {
      const id = await room(alice, [bob]);
      const up = await upload(alice);
      const q = await send(bob, id, 'q');
      const f = await send(alice, id, 'cap', { type: 'file', file_url: up.url, file_name: 'a.png', reply_to_id: q.id });
      const r = await http(app, 'DELETE', `/api/v1/messages/${f.id}`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Message deleted successfully' });
      const h = await http(app, 'GET', `/api/v1/rooms/${id}/messages`, { token: bob.token });
      const d = h.body.data.find((m: Json) => m.id === f.id);
      expect(d).toMatchObject({ content: '', type: 'text', is_deleted: true, is_edited: false, reply_to_id: q.id });
      for (const k of ['file_url', 'file_name', 'file_size']) expect(d[k]).toBeUndefined();
      // the file itself stays reachable
      expect((await fetch(app.url + up.url)).status).toBe(200);
      expectError(await http(app, 'DELETE', `/api/v1/messages/${f.id}`, { token: alice.token }), 403, 'message already deleted');
    });

    it('rule violations; admins may delete others’ messages in group rooms but not in direct rooms', async () => {
      const id = await room(alice, [bob]);
      const del = (u: TestUser, mid: string) => http(app, 'DELETE', `/api/v1/messages/${mid}`, { token: u.token });
      expectError(await del(alice, NIL_UUID), 404, 'Message not found');
      expectError(await del(alice, 'x'), 400, 'Invalid message ID');
      const a = await send(alice, id, 'admin message');
      expectError(await del(bob, a.id), 403, 'you can only delete your own messages');
      const b = await send(bob, id, 'member message');
      const old = await send(bob, id, 'old member message');
      app.clock.advance(181_000);
      expectError(await del(bob, old.id), 403, 'messages can only be deleted within 3 minutes of sending');
      // the admin moderates: outside the window and after reads
      await http(app, 'POST', `/api/v1/rooms/${id}/read`, { token: alice.token });
      expect((await del(alice, old.id)).status).toBe(200);
      app.clock.reset();
      expectError(await del(bob, b.id), 403, 'cannot delete a message the recipient has already read');
      expect((await del(alice, b.id)).status).toBe(200);
      // outsiders of a private room: not found
      const priv = await room(alice, [], 'private');
      const s = await send(alice, priv, 's');
      expectError(await del(carol, s.id), 404, 'Message not found');
      // direct rooms have no moderators
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: carol.id } })).body.id;
      const c = await send(carol, dm, 'dm');
      expectError(await del(alice, c.id), 403, 'you can only delete your own messages');
      expect((await del(carol, c.id)).status).toBe(200);
    });
  });
});
