import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../../setup/app';
import { connectWs, http, Json, registerUser, sleep, TestUser, WsClient } from '../../setup/clients';
import { login, roomWith } from './helpers';

const FAST = { WS_EVENTS_BURST: '10000', WS_EVENTS_PER_SEC: '10000' };

/** Asserts that none of `clients` received a frame of `type` (matching `pred`) within `ms`. */
async function expectNone(clients: WsClient[], type: string, pred: (p: Json) => boolean = () => true, ms = 250): Promise<void> {
  await sleep(ms);
  for (const c of clients) expect(c.all(type).filter((f) => pred(f.payload ?? {}))).toEqual([]);
}

/** Issue 4: every client event with its validation errors, every server event to exactly the right sockets. */
describe('realtime: client events, server events and who receives them', () => {
  let app: TestApp;
  let alice: TestUser; // member, two devices
  let bob: TestUser; // member
  let carol: TestUser; // not a member
  let room: string;
  let a1: WsClient;
  let a2: WsClient;
  let b1: WsClient;
  let c1: WsClient;
  const everyone = () => [a1, a2, b1, c1];

  beforeAll(async () => {
    app = await createTestApp(FAST);
    [alice, bob, carol] = [await registerUser(app, 'ea'), await registerUser(app, 'eb'), await registerUser(app, 'ec')];
    room = await roomWith(app, [alice, bob]);
    a1 = await connectWs(app, alice.token);
    a2 = await connectWs(app, await login(app, alice), 'header');
    b1 = await connectWs(app, bob.token);
    c1 = await connectWs(app, carol.token);
  });
  beforeEach(() => everyone().forEach((c) => c.clear()));
  afterAll(async () => {
    everyone().forEach((c) => c.close());
    await app.close();
  });

  /** Sends raw frames and returns the error texts they produced, in order. */
  async function errorsFor(c: WsClient, frames: (string | object)[]): Promise<string[]> {
    c.clear();
    for (const f of frames) c.sendRaw(typeof f === 'string' ? f : JSON.stringify(f));
    c.send('ping');
    await c.waitFor('pong');
    return c.all('error').map((f) => f.payload.error);
  }

  it('malformed frames and unknown types: an error frame each, the socket stays open; ping → pong', async () => {
    const errs = await errorsFor(a1, ['{nope', '[]', '"str"', 'null', '{"payload":{}}', '{"type":5}', { type: 'fly', payload: {} }]);
    expect(errs).toEqual([
      'Invalid message format',
      'Invalid message format',
      'Invalid message format',
      'Invalid message format',
      'Invalid message format',
      'Invalid message format',
      'Unknown event type',
    ]);
    const pong = a1.all('pong')[0];
    expect(Number.isInteger(pong.payload.time)).toBe(true);
    expect(Math.abs(pong.payload.time - Date.now() / 1000)).toBeLessThan(5);
    expect(a1.closeCode).toBeNull();
  });

  it('join_room: validation errors; success to the caller, user_joined to the other members only', async () => {
    const errs = await errorsFor(c1, [
      { type: 'join_room' },
      { type: 'join_room', payload: 'x' },
      { type: 'join_room', payload: { room_id: 'not-a-uuid' } },
      { type: 'join_room', payload: { room_id: 42 } },
      { type: 'join_room', payload: { room_id: room } },
      { type: 'join_room', payload: { room_id: randomUUID() } },
    ]);
    expect(errs).toEqual([
      'Invalid payload',
      'Invalid payload',
      'Invalid room ID',
      'Invalid room ID',
      'You are not a member of this room',
      'You are not a member of this room',
    ]);
    a1.send('join_room', { room_id: room });
    expect((await a1.waitFor('user_joined')).payload).toEqual({ room_id: room, message: 'Joined room successfully' });
    expect((await b1.waitFor('user_joined')).payload).toEqual({ user_id: alice.id, username: alice.username, room_id: room });
    await expectNone([a2, c1], 'user_joined');
    expect(a1.all('user_joined')).toHaveLength(1);
  });

  it('leave_room: membership required; user_left to the other members, nothing to the caller, no membership change', async () => {
    const errs = await errorsFor(c1, [
      { type: 'leave_room' },
      { type: 'leave_room', payload: { room_id: 'zzz' } },
      { type: 'leave_room', payload: { room_id: room } },
    ]);
    expect(errs).toEqual(['Invalid payload', 'Invalid room ID', 'You are not a member of this room']);
    b1.send('leave_room', { room_id: room });
    expect((await a1.waitFor('user_left')).payload).toEqual({ user_id: bob.id, username: bob.username, room_id: room });
    expect((await a2.waitFor('user_left')).payload.user_id).toBe(bob.id);
    await expectNone([b1, c1], 'user_left');
    const members = await app.ds.query('SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2', [room, bob.id]);
    expect(members).toHaveLength(1);
  });

  it('typing / stop_typing: membership required; to every device of the other members, not the typist', async () => {
    for (const type of ['typing', 'stop_typing']) {
      const errs = await errorsFor(c1, [{ type }, { type, payload: { room_id: 'x' } }, { type, payload: { room_id: room } }]);
      expect(errs).toEqual(['Invalid payload', 'Invalid room ID', 'You are not a member of this room']);
      b1.send(type, { room_id: room });
      for (const c of [a1, a2]) expect((await c.waitFor(type)).payload).toEqual({ room_id: room, user_id: bob.id, username: bob.username });
      await expectNone([b1, c1], type);
    }
  });

  it('send_message: every validation error in the protocol order, the socket stays open', async () => {
    const sm = (payload: unknown) => ({ type: 'send_message', payload });
    const errs = await errorsFor(a1, [
      { type: 'send_message' },
      sm('text'),
      sm({ room_id: room, content: 5 }),
      sm({ room_id: room, content: 'x', file_size: 'big' }),
      sm({ room_id: room, content: '' }),
      sm({ room_id: room, content: '   ' }),
      sm({ room_id: room, content: 'é'.repeat(2001) }),
      sm({ room_id: room, type: 'image', content: 'caption' }),
      sm({ room_id: room, type: 'file', file_url: '/static/uploads/x.png', content: 'c'.repeat(2001) }),
      sm({ room_id: 'nope', content: 'hi' }),
      sm({ content: 'hi' }),
      sm({ room_id: room, content: 'hi', reply_to_id: 'nope' }),
      sm({ room_id: room, content: 'hi', client_msg_id: 'nope' }),
      sm({ room_id: randomUUID(), content: 'hi' }),
      sm({ room_id: room, content: 'hi', reply_to_id: randomUUID() }),
      sm({ room_id: room, type: 'image', file_url: 'https://evil.example/x.png', content: '' }),
    ]);
    expect(errs).toEqual([
      'Invalid payload',
      'Invalid payload',
      'Invalid payload',
      'Invalid payload',
      'Message content must be 1-2000 characters',
      'Message content must be 1-2000 characters',
      'Message content must be 1-2000 characters',
      'file_url is required for file/image/audio messages',
      'Caption must be at most 2000 characters',
      'Invalid room ID',
      'Invalid room ID',
      'Invalid reply_to_id',
      'Invalid client_msg_id',
      'Not a room member',
      'reply_to_id must be a message in the same room',
      'file_url must be a file uploaded to this server',
    ]);
    expect((await errorsFor(c1, [sm({ room_id: room, content: 'let me in' })]))).toEqual(['Not a room member']);
    await expectNone(everyone(), 'new_message');
    const [{ n }] = await app.ds.query('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [room]);
    expect(n).toBe(0);
    expect(a1.closeCode).toBeNull();
  });

  it('new_message: persisted before it is broadcast; to every device of every member, sender echo included; not to non-members', async () => {
    const content = 'é'.repeat(2000); // 2000 characters is accepted (counted in code points, 4000 bytes)
    const cmid = randomUUID();
    a1.send('send_message', { room_id: room, content, client_msg_id: cmid });
    const frames = await Promise.all([a1, a2, b1].map((c) => c.waitFor('new_message')));
    const ids = new Set(frames.map((f) => f.payload.id));
    expect(ids.size).toBe(1);
    const m = frames[0].payload;
    expect(m).toMatchObject({ room_id: room, sender_id: alice.id, content, type: 'text', client_msg_id: cmid });
    expect(m.seq).toBeGreaterThan(0);
    expect(m.version).toBe(m.seq);
    expect(m.sender.email).toBeUndefined();
    const rows = await app.ds.query('SELECT content, seq FROM messages WHERE id = $1', [m.id]);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0].seq)).toBe(m.seq);
    // the sending socket also gets message_ack (after the commit); other sockets do not
    expect((await a1.waitFor('message_ack')).payload).toEqual({ client_msg_id: cmid, id: m.id, room_id: room, seq: m.seq });
    await expectNone([c1], 'new_message');
    await expectNone([a2, b1, c1], 'message_ack', () => true, 0);
    for (const c of [a1, a2, b1]) expect(c.all('new_message')).toHaveLength(1);

    // a reply, over REST: the same fan-out
    const r = await http(app, 'POST', `/api/v1/rooms/${room}/messages`, { token: bob.token, body: { content: 'reply', reply_to_id: m.id } });
    expect(r.status).toBe(201);
    for (const c of [a1, a2, b1]) expect((await c.waitFor('new_message', (p) => p.id === r.body.id)).payload.reply_to_id).toBe(m.id);
    await expectNone([c1], 'new_message');
  });

  it('edit_message and delete_message (REST) reach every device of every member including the actor', async () => {
    const sent = await http(app, 'POST', `/api/v1/rooms/${room}/messages`, { token: alice.token, body: { content: 'to edit' } });
    await b1.waitFor('new_message', (p) => p.id === sent.body.id);
    const ed = await http(app, 'PATCH', `/api/v1/messages/${sent.body.id}`, { token: alice.token, body: { content: 'edited' } });
    expect(ed.status).toBe(200);
    for (const c of [a1, a2, b1]) {
      const f = await c.waitFor('edit_message');
      expect(f.payload).toMatchObject({ id: sent.body.id, content: 'edited', seq: sent.body.seq });
      expect(f.payload.version).toBeGreaterThan(sent.body.seq);
    }
    const del = await http(app, 'DELETE', `/api/v1/messages/${sent.body.id}`, { token: alice.token });
    expect(del.status).toBe(200);
    for (const c of [a1, a2, b1]) {
      const f = await c.waitFor('delete_message');
      expect(f.payload).toEqual({ id: sent.body.id, room_id: room, seq: sent.body.seq, version: ed.body.version + 1 });
    }
    await expectNone([c1], 'edit_message');
    await expectNone([c1], 'delete_message', () => true, 0);
  });

  it('messages_read: in a DM to every device of the partner, not to the reader; group rooms broadcast no receipts (hardening A11)', async () => {
    const dm = await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: bob.id } });
    expect(dm.status).toBe(200);
    const r = await http(app, 'POST', `/api/v1/rooms/${dm.body.id}/read`, { token: bob.token });
    expect(r.status).toBe(200);
    for (const c of [a1, a2]) {
      const f = await c.waitFor('messages_read');
      expect(f.payload).toMatchObject({ room_id: dm.body.id, user_id: bob.id });
    }
    await expectNone([b1, c1], 'messages_read');
    everyone().forEach((c) => c.clear());
    expect((await http(app, 'POST', `/api/v1/rooms/${room}/read`, { token: bob.token })).status).toBe(200);
    await expectNone(everyone(), 'messages_read');
  });

  it('user_joined / user_left for REST membership changes: to the other members, not the mover or outsiders', async () => {
    const dave = await registerUser(app, 'ed');
    const d1 = await connectWs(app, dave.token);
    expect((await http(app, 'POST', `/api/v1/rooms/${room}/join`, { token: dave.token })).status).toBe(200);
    for (const c of [a1, a2, b1]) expect((await c.waitFor('user_joined')).payload).toEqual({ user_id: dave.id, username: dave.username, room_id: room });
    // a member over REST receives messages at once, without any join_room
    b1.send('send_message', { room_id: room, content: 'welcome dave' });
    await d1.waitFor('new_message', (p) => p.content === 'welcome dave');
    expect((await http(app, 'POST', `/api/v1/rooms/${room}/leave`, { token: dave.token })).status).toBe(200);
    for (const c of [a1, a2, b1]) expect((await c.waitFor('user_left')).payload).toEqual({ user_id: dave.id, username: dave.username, room_id: room });
    await expectNone([c1], 'user_joined');
    await expectNone([c1, d1], 'user_left', () => true, 0);
    expect(d1.all('user_joined')).toEqual([]);
    // having left, dave receives nothing more from the room
    d1.clear();
    b1.send('send_message', { room_id: room, content: 'bye dave' });
    await a1.waitFor('new_message', (p) => p.content === 'bye dave');
    await expectNone([d1], 'new_message');
    d1.close();
  });

  it('dm_created: to every device of the recipient only; profile_updated: to DM partners only', async () => {
    const dave = await registerUser(app, 'ed');
    const d1 = await connectWs(app, dave.token);
    const d2 = await connectWs(app, dave.token, 'header');
    const dm = await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: dave.id } });
    expect(dm.status).toBe(200);
    for (const c of [d1, d2]) {
      const f = await c.waitFor('dm_created');
      expect(f.payload.room_id).toBe(dm.body.id);
      expect(f.payload.sender.id).toBe(alice.id);
      expect(f.payload.sender.email).toBeUndefined();
    }
    await expectNone([a1, a2, b1, c1], 'dm_created');
    // opening the same DM again creates nothing, so no second event
    await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: dave.id } });
    await expectNone([d1, d2], 'dm_created', (p) => p.room_id !== dm.body.id);
    expect(d1.all('dm_created')).toHaveLength(1);

    const up = await http(app, 'PATCH', '/api/v1/auth/me', { token: dave.token, body: { status: 'busy', avatar: '' } });
    expect(up.status).toBe(200);
    for (const c of [a1, a2]) {
      const f = await c.waitFor('profile_updated');
      expect(f.payload).toMatchObject({ id: dave.id, status: 'busy' });
      expect(f.payload.email).toBeUndefined();
    }
    await expectNone([b1, c1, d1, d2], 'profile_updated');
    [d1, d2].forEach((c) => c.close());
  });

  it('room_deleted: to every device of every member (the owner too), not to outsiders; then no more delivery', async () => {
    const gone = await roomWith(app, [bob, alice]);
    const del = await http(app, 'DELETE', `/api/v1/rooms/${gone}`, { token: bob.token });
    expect(del.status).toBe(200);
    for (const c of [a1, a2, b1]) expect((await c.waitFor('room_deleted')).payload).toEqual({ room_id: gone });
    await expectNone([c1], 'room_deleted');
    const errs = await errorsFor(a1, [{ type: 'send_message', payload: { room_id: gone, content: 'anyone?' } }]);
    expect(errs).toEqual(['Not a room member']);
  });

  it('sync: validation errors', async () => {
    const errs = await errorsFor(a1, [{ type: 'sync' }, { type: 'sync', payload: { rooms: [] } }, { type: 'sync', payload: { rooms: 'x' } }]);
    expect(errs).toEqual(['Invalid payload', 'Invalid payload', 'Invalid payload']);
    a1.clear();
    a1.send('sync', { rooms: { 'not-a-uuid': 0, [room]: -1 } });
    a1.send('sync', { rooms: { [room]: 1.5 } });
    a1.send('sync', { rooms: { [randomUUID()]: 0 } });
    a1.send('ping');
    await a1.waitFor('pong');
    const got = a1.all('error').map((f) => f.payload);
    expect(got.slice(0, 3)).toEqual([
      { error: 'Invalid sync entry', room_id: 'not-a-uuid' },
      { error: 'Invalid sync entry', room_id: room },
      { error: 'Invalid sync entry', room_id: room },
    ]);
    expect(got[3]).toMatchObject({ error: 'Room not found' });
    expect(a1.all('sync_done')).toEqual([]);
    // an outsider cannot read a room through sync
    c1.send('sync', { rooms: { [room]: 0 } });
    expect((await c1.waitFor('error')).payload.room_id).toBe(room);
    await expectNone([c1], 'new_message');
  });
});

describe('realtime: presence with several devices', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(FAST);
  });
  afterAll(() => app.close());

  it('online on the first socket, offline only after the last one closes (after the grace period), only to contacts', async () => {
    const [p, friend, stranger] = [await registerUser(app, 'pp'), await registerUser(app, 'pf'), await registerUser(app, 'ps')];
    await roomWith(app, [p, friend]);
    const f = await connectWs(app, friend.token);
    const s = await connectWs(app, stranger.token);
    const isOnline = async () => (await http(app, 'GET', `/api/v1/users/${p.id}`, { token: friend.token })).body.is_online;
    expect(await isOnline()).toBe(false);

    const d1 = await connectWs(app, p.token);
    expect((await f.waitFor('user_online', (x) => x.user_id === p.id)).payload).toEqual({ user_id: p.id, username: p.username });
    const d2 = await connectWs(app, p.token, 'header');
    expect(await isOnline()).toBe(true);
    d1.close();
    await d1.closed;
    await sleep(2600); // longer than the offline grace period
    expect(f.all('user_offline')).toEqual([]);
    expect(f.all('user_online').filter((x) => x.payload.user_id === p.id)).toHaveLength(1);
    expect(await isOnline()).toBe(true);

    // a quick reconnect (page reload) inside the grace period is not an offline blip
    d2.close();
    await d2.closed;
    await sleep(300);
    const d3 = await connectWs(app, p.token);
    await sleep(2600);
    expect(f.all('user_offline')).toEqual([]);
    expect(f.all('user_online').filter((x) => x.payload.user_id === p.id)).toHaveLength(1);

    const t0 = Date.now();
    d3.close();
    const off = await f.waitFor('user_offline', (x) => x.user_id === p.id, 6000);
    const delay = Date.now() - t0;
    expect(off.payload).toEqual({ user_id: p.id, username: p.username });
    expect(delay).toBeLessThanOrEqual(5000); // protocol A2.1: held back at most 5 s
    expect(await isOnline()).toBe(false);
    // the stranger shares no room: never told
    expect(s.all('user_online').filter((x) => x.payload.user_id === p.id)).toEqual([]);
    expect(s.all('user_offline')).toEqual([]);
    [f, s].forEach((c) => c.close());
  }, 20_000);

  it('a connect storm: every user announced once, with its name, to a contact; then every one offline', async () => {
    // presence transitions arriving together are stored and announced in batches
    const watcher = await registerUser(app, 'pw');
    const crowd = await Promise.all(Array.from({ length: 24 }, () => registerUser(app, 'pc')));
    await roomWith(app, [watcher, ...crowd]);
    const w = await connectWs(app, watcher.token);
    const socks = await Promise.all(crowd.map((u, i) => connectWs(app, u.token, i % 2 ? 'header' : 'message')));
    for (const u of crowd) {
      expect((await w.waitFor('user_online', (x) => x.user_id === u.id)).payload).toEqual({ user_id: u.id, username: u.username });
    }
    await sleep(200);
    for (const u of crowd) expect(w.all('user_online').filter((x) => x.payload.user_id === u.id)).toHaveLength(1);
    const seen = await Promise.all(crowd.map((u) => http(app, 'GET', `/api/v1/users/${u.id}`, { token: watcher.token })));
    expect(seen.map((r) => r.body.is_online)).toEqual(crowd.map(() => true));

    socks.forEach((c) => c.close());
    for (const u of crowd) {
      expect((await w.waitFor('user_offline', (x) => x.user_id === u.id, 8000)).payload).toEqual({ user_id: u.id, username: u.username });
    }
    const after = await Promise.all(crowd.map((u) => http(app, 'GET', `/api/v1/users/${u.id}`, { token: watcher.token })));
    expect(after.map((r) => r.body.is_online)).toEqual(crowd.map(() => false));
    w.close();
  }, 30_000);
});
