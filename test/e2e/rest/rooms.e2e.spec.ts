import { createTestApp, TestApp } from '../../setup/app';
import { http, Json, registerUser, TestUser } from '../../setup/clients';
import { expectError, expectValidation, NIL_UUID } from './helpers';

describe('REST rooms and members (§4.3, Part A4/A11/A14)', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let n = 0;

  const createRoom = async (u: TestUser, body: Json = {}) => {
    const r = await http(app, 'POST', '/api/v1/rooms', { token: u.token, body: { name: `room ${n++}`, ...body } });
    expect(r.status).toBe(201);
    return r.body;
  };
  const send = async (u: TestUser, roomId: string, content: string) => {
    const r = await http(app, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: u.token, body: { content } });
    expect(r.status).toBe(201);
    return r.body;
  };
  const memberRows = (roomId: string) => app.ds.query('SELECT user_id, role FROM room_members WHERE room_id = $1 ORDER BY joined_at', [roomId]);

  beforeAll(async () => {
    app = await createTestApp();
    [alice, bob, carol] = [await registerUser(app, 'alice'), await registerUser(app, 'bob'), await registerUser(app, 'carol')];
  });
  afterAll(() => app.close());

  describe('POST /rooms', () => {
    it('201: public by default, creator loaded, creator is the only member and admin', async () => {
      const r = await http(app, 'POST', '/api/v1/rooms', { token: alice.token, body: { name: 'General', description: 'talk' } });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ name: 'General', description: 'talk', type: 'public', created_by: alice.id, creator: { id: alice.id, username: alice.username } });
      expect(r.body.members).toHaveLength(1);
      expect(r.body.members[0]).toMatchObject({ room_id: r.body.id, user_id: alice.id, role: 'admin', user: { id: alice.id } });
      expect(r.body.last_message_at).toBeUndefined();
      expect(await memberRows(r.body.id)).toEqual([{ user_id: alice.id, role: 'admin' }]);
      expect((await http(app, 'POST', '/api/v1/rooms', { token: alice.token, body: { name: 'Private', type: 'private' } })).body.type).toBe('private');
      expect((await http(app, 'POST', '/api/v1/rooms', { token: alice.token, body: { name: 'Empty type', type: '' } })).body.type).toBe('public');
    });

    it('400 for a bad name, description or type (direct or unknown types are refused)', async () => {
      for (const body of [
        {},
        { name: 'ab' },
        { name: 'x'.repeat(51) },
        { name: 42 },
        { name: 'okay', description: 'x'.repeat(501) },
        { name: 'okay', type: 'direct' },
        { name: 'okay', type: 'secret' },
        { name: 'okay', type: 'PUBLIC' },
      ]) {
        const r = await http(app, 'POST', '/api/v1/rooms', { token: alice.token, body });
        expect({ body, status: r.status, error: r.body.error }).toEqual({ body, status: 400, error: 'Validation failed' });
      }
      expect(await app.ds.query(`SELECT 1 FROM rooms WHERE name = 'okay'`)).toHaveLength(0);
    });
  });

  describe('GET /rooms (public list)', () => {
    it('only public rooms, newest first, paginated with clamped page/limit', async () => {
      await createRoom(bob, { type: 'private', name: 'hidden one' });
      for (let i = 0; i < 6; i++) await createRoom(bob);
      const expected: string[] = (await app.ds.query(`SELECT id FROM rooms WHERE type = 'public' ORDER BY created_at DESC, id`)).map((x: Json) => x.id);
      const def = await http(app, 'GET', '/api/v1/rooms', { token: carol.token });
      expect(def.status).toBe(200);
      expect({ ...def.body, data: undefined }).toEqual({ data: undefined, total: expected.length, page: 1, limit: 20, total_pages: Math.ceil(expected.length / 20) });
      expect(def.body.data.map((x: Json) => x.id)).toEqual(expected.slice(0, 20));
      for (const room of def.body.data) {
        expect(room.type).toBe('public');
        expect(room.members).toBeUndefined();
        expect(room.creator.email).toBeUndefined();
      }
      const p2 = await http(app, 'GET', '/api/v1/rooms?page=2&limit=3', { token: carol.token });
      expect(p2.body).toMatchObject({ page: 2, limit: 3, total: expected.length, total_pages: Math.ceil(expected.length / 3) });
      expect(p2.body.data.map((x: Json) => x.id)).toEqual(expected.slice(3, 6));
      const beyond = await http(app, 'GET', '/api/v1/rooms?page=999', { token: carol.token });
      expect(beyond.status).toBe(200);
      expect(beyond.body.data).toEqual([]);
      for (const [q, page, limit] of [
        ['limit=500', 1, 50],
        ['limit=0', 1, 20],
        ['limit=-5', 1, 20],
        ['limit=abc', 1, 20],
        ['page=0', 1, 20],
        ['page=-3&limit=2', 1, 2],
        ['page=x', 1, 20],
        ['page=99999999999999999999', 1, 20],
      ] as const) {
        const r = await http(app, 'GET', `/api/v1/rooms?${q}`, { token: carol.token });
        expect({ q, status: r.status, page: r.body.page, limit: r.body.limit }).toEqual({ q, status: 200, page, limit });
        expect(r.body.data.length).toBeLessThanOrEqual(limit);
      }
    });
  });

  describe('GET /rooms/me', () => {
    it('every room the caller belongs to (public, private, direct), latest activity first', async () => {
      const u = await registerUser(app, 'mine');
      const pub = await createRoom(u);
      const priv = await createRoom(u, { type: 'private' });
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: u.token, body: { recipient_id: alice.id } })).body;
      await createRoom(alice); // not a member
      await send(u, pub.id, 'bump');
      const r = await http(app, 'GET', '/api/v1/rooms/me', { token: u.token });
      expect(r.status).toBe(200);
      const ids = r.body.data.map((x: Json) => x.id);
      expect(ids).toHaveLength(3);
      expect(ids[0]).toBe(pub.id);
      expect(new Set(ids)).toEqual(new Set([pub.id, priv.id, dm.id]));
      expect(r.body.data[0].last_message_at).toBeDefined();
    });
  });

  describe('GET /rooms/:id', () => {
    it('public rooms for anyone; private and direct ones only for members (404 otherwise)', async () => {
      const pub = await createRoom(alice);
      await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: bob.token });
      const r = await http(app, 'GET', `/api/v1/rooms/${pub.id}`, { token: carol.token });
      expect(r.status).toBe(200);
      expect(r.body.members.map((m: Json) => [m.user_id, m.role])).toEqual([
        [alice.id, 'admin'],
        [bob.id, 'member'],
      ]);
      for (const m of r.body.members) expect(m.user.email).toBeUndefined();
      expect(r.body.creator.email).toBeUndefined();
      const priv = await createRoom(alice, { type: 'private' });
      expect((await http(app, 'GET', `/api/v1/rooms/${priv.id}`, { token: alice.token })).status).toBe(200);
      expectError(await http(app, 'GET', `/api/v1/rooms/${priv.id}`, { token: bob.token }), 404, 'Room not found');
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: bob.id } })).body;
      expectError(await http(app, 'GET', `/api/v1/rooms/${dm.id}`, { token: carol.token }), 404, 'Room not found');
      expect((await http(app, 'GET', `/api/v1/rooms/${dm.id}`, { token: bob.token })).status).toBe(200);
      expectError(await http(app, 'GET', '/api/v1/rooms/123', { token: alice.token }), 400, 'Invalid room ID');
      expectError(await http(app, 'GET', `/api/v1/rooms/${NIL_UUID}`, { token: alice.token }), 404, 'Room not found');
      expect((await http(app, 'GET', `/api/v1/rooms/{${pub.id.toUpperCase()}}`, { token: carol.token })).body.id).toBe(pub.id);
    });
  });

  describe('join / leave', () => {
    it('join: public only, idempotent (one membership row); private/direct/unknown are 404', async () => {
      const pub = await createRoom(alice);
      const r = await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: bob.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Joined room successfully' });
      expect((await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: bob.token })).body).toEqual({ message: 'Joined room successfully' });
      expect((await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: alice.token })).status).toBe(200);
      expect(await memberRows(pub.id)).toEqual([
        { user_id: alice.id, role: 'admin' },
        { user_id: bob.id, role: 'member' },
      ]);
      const priv = await createRoom(alice, { type: 'private' });
      expectError(await http(app, 'POST', `/api/v1/rooms/${priv.id}/join`, { token: bob.token }), 404, 'room not found');
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: bob.id } })).body;
      expectError(await http(app, 'POST', `/api/v1/rooms/${dm.id}/join`, { token: carol.token }), 404, 'room not found');
      expectError(await http(app, 'POST', `/api/v1/rooms/${NIL_UUID}/join`, { token: bob.token }), 404, 'room not found');
      expectError(await http(app, 'POST', '/api/v1/rooms/nope/join', { token: bob.token }), 400, 'Invalid room ID');
      expect(await memberRows(dm.id)).toHaveLength(2);
      expect(await memberRows(priv.id)).toHaveLength(1);
    });

    it('20 parallel joins of one user give one membership row', async () => {
      const pub = await createRoom(alice);
      const results = await Promise.all(Array.from({ length: 20 }, () => http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: carol.token })));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      const rows = await app.ds.query('SELECT count(*)::int AS n FROM room_members WHERE room_id = $1 AND user_id = $2', [pub.id, carol.id]);
      expect(rows[0].n).toBe(1);
    });

    it('20 users joining at once: every one is a member exactly once', async () => {
      const pub = await createRoom(alice);
      const users: TestUser[] = [];
      for (let i = 0; i < 20; i++) users.push(await registerUser(app, 'crowd'));
      const results = await Promise.all(users.flatMap((u) => [u, u]).map((u) => http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: u.token })));
      expect(results.every((r) => r.status === 200)).toBe(true);
      const rows = await app.ds.query('SELECT user_id, count(*)::int AS n FROM room_members WHERE room_id = $1 GROUP BY user_id', [pub.id]);
      expect(rows).toHaveLength(21);
      expect(rows.every((r: Json) => r.n === 1)).toBe(true);
      expect((await http(app, 'GET', `/api/v1/rooms/${pub.id}`, { token: alice.token })).body.members).toHaveLength(21);
    });

    it('leave: 200, then 400 not a member; a leaving sole admin hands the admin role on', async () => {
      const pub = await createRoom(alice);
      await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: bob.token });
      await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: carol.token });
      const r = await http(app, 'POST', `/api/v1/rooms/${pub.id}/leave`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Left room successfully' });
      expectError(await http(app, 'POST', `/api/v1/rooms/${pub.id}/leave`, { token: alice.token }), 400, 'not a member of this room');
      expect(await memberRows(pub.id)).toEqual([
        { user_id: bob.id, role: 'admin' },
        { user_id: carol.id, role: 'member' },
      ]);
      expectError(await http(app, 'POST', `/api/v1/rooms/${NIL_UUID}/leave`, { token: alice.token }), 400, 'not a member of this room');
      expectError(await http(app, 'POST', '/api/v1/rooms/zzz/leave', { token: alice.token }), 400, 'Invalid room ID');
      // history is now closed to alice (public room: 403)
      expectError(await http(app, 'GET', `/api/v1/rooms/${pub.id}/messages`, { token: alice.token }), 403, 'you are not a member of this room');
    });
  });

  describe('DELETE /rooms/:id', () => {
    it('creator deletes; messages and memberships go with the room', async () => {
      const pub = await createRoom(alice);
      await http(app, 'POST', `/api/v1/rooms/${pub.id}/join`, { token: bob.token });
      await send(alice, pub.id, 'one');
      await send(bob, pub.id, 'two');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${pub.id}`, { token: bob.token }), 403, 'only room creator can delete this room');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${pub.id}`, { token: carol.token }), 403, 'only room creator can delete this room');
      const r = await http(app, 'DELETE', `/api/v1/rooms/${pub.id}`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Room deleted successfully' });
      const left = await app.ds.query(
        `SELECT (SELECT count(*) FROM rooms WHERE id = $1)::int AS rooms, (SELECT count(*) FROM messages WHERE room_id = $1)::int AS messages,
                (SELECT count(*) FROM room_members WHERE room_id = $1)::int AS members`,
        [pub.id],
      );
      expect(left[0]).toEqual({ rooms: 0, messages: 0, members: 0 });
      expectError(await http(app, 'GET', `/api/v1/rooms/${pub.id}`, { token: alice.token }), 404, 'Room not found');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${pub.id}`, { token: alice.token }), 404, 'room not found');
    });

    it('a promoted admin may delete a group room; private rooms are 404 to outsiders; DM by its initiator only', async () => {
      const priv = await createRoom(alice, { type: 'private' });
      await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: bob.id } });
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}`, { token: carol.token }), 404, 'room not found');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}`, { token: bob.token }), 403, 'only room creator can delete this room');
      expect((await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${bob.id}`, { token: alice.token, body: { role: 'admin' } })).status).toBe(200);
      expect((await http(app, 'DELETE', `/api/v1/rooms/${priv.id}`, { token: bob.token })).status).toBe(200);
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: carol.token, body: { recipient_id: bob.id } })).body;
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${dm.id}`, { token: alice.token }), 404, 'room not found');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${dm.id}`, { token: bob.token }), 403, 'only room creator can delete this room');
      expect((await http(app, 'DELETE', `/api/v1/rooms/${dm.id}`, { token: carol.token })).status).toBe(200);
      expectError(await http(app, 'DELETE', '/api/v1/rooms/1', { token: carol.token }), 400, 'Invalid room ID');
    });
  });

  describe('POST /rooms/:id/read', () => {
    it('members: 200 and read_at stored; public non-member 403; private/direct non-member 404', async () => {
      const pub = await createRoom(alice);
      const r = await http(app, 'POST', `/api/v1/rooms/${pub.id}/read`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Marked as read' });
      const [row] = await app.ds.query('SELECT read_at FROM room_members WHERE room_id = $1 AND user_id = $2', [pub.id, alice.id]);
      expect(Math.abs(new Date(row.read_at).getTime() - Date.now())).toBeLessThan(10_000);
      expectError(await http(app, 'POST', `/api/v1/rooms/${pub.id}/read`, { token: bob.token }), 403, 'not a member of this room');
      const priv = await createRoom(alice, { type: 'private' });
      expect((await http(app, 'POST', `/api/v1/rooms/${priv.id}/read`, { token: bob.token })).status).toBe(404);
      expectError(await http(app, 'POST', '/api/v1/rooms/x/read', { token: bob.token }), 400, 'Invalid room ID');
    });
  });

  describe('members of private rooms (admins add, remove, promote)', () => {
    it('an admin adds a member (idempotent) who can then see and use the room', async () => {
      const priv = await createRoom(alice, { type: 'private' });
      const r = await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: bob.id } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ room_id: priv.id, user_id: bob.id, role: 'member', user: { id: bob.id, username: bob.username } });
      expect(r.body.user.email).toBeUndefined();
      expect((await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: bob.id } })).status).toBe(200);
      expect(await memberRows(priv.id)).toEqual([
        { user_id: alice.id, role: 'admin' },
        { user_id: bob.id, role: 'member' },
      ]);
      expect((await http(app, 'GET', `/api/v1/rooms/${priv.id}`, { token: bob.token })).status).toBe(200);
      await send(bob, priv.id, 'hi from bob');
      expect((await http(app, 'GET', `/api/v1/rooms/${priv.id}/messages`, { token: bob.token })).body.total).toBe(1);
      expect((await http(app, 'GET', '/api/v1/rooms/me', { token: bob.token })).body.data.map((x: Json) => x.id)).toContain(priv.id);
    });

    it('errors: non-admin 403, outsider 404, bad and unknown user, direct rooms', async () => {
      const priv = await createRoom(alice, { type: 'private' });
      await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: bob.id } });
      expectError(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: bob.token, body: { user_id: carol.id } }), 403, 'only room admins can add members');
      expectError(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: carol.token, body: { user_id: carol.id } }), 404, 'Room not found');
      expectError(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: 'nope' } }), 400, 'Invalid user ID');
      expectError(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: NIL_UUID } }), 404, 'User not found');
      expectValidation(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: {} }));
      expectValidation(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: 5 } }));
      expectError(await http(app, 'POST', `/api/v1/rooms/${NIL_UUID}/members`, { token: alice.token, body: { user_id: bob.id } }), 404, 'Room not found');
      const pub = await createRoom(alice);
      expectError(await http(app, 'POST', `/api/v1/rooms/${pub.id}/members`, { token: carol.token, body: { user_id: bob.id } }), 403, 'only room admins can add members');
      const dm = (await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: { recipient_id: carol.id } })).body;
      expectError(await http(app, 'POST', `/api/v1/rooms/${dm.id}/members`, { token: alice.token, body: { user_id: bob.id } }), 403, 'direct rooms have no members to manage');
      expectError(await http(app, 'POST', `/api/v1/rooms/${dm.id}/members`, { token: bob.token, body: { user_id: bob.id } }), 404, 'Room not found');
      expect(await memberRows(priv.id)).toHaveLength(2);
      expect(await memberRows(dm.id)).toHaveLength(2);
    });

    it('remove: admins remove members (who then lose the room); creator and self are protected', async () => {
      const priv = await createRoom(alice, { type: 'private' });
      for (const u of [bob, carol]) await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: u.id } });
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}/members/${carol.id}`, { token: bob.token }), 403, 'only room admins can remove members');
      const r = await http(app, 'DELETE', `/api/v1/rooms/${priv.id}/members/${carol.id}`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Member removed successfully' });
      expectError(await http(app, 'GET', `/api/v1/rooms/${priv.id}`, { token: carol.token }), 404, 'Room not found');
      expect((await http(app, 'POST', `/api/v1/rooms/${priv.id}/messages`, { token: carol.token, body: { content: 'x' } })).status).toBe(404);
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}/members/${carol.id}`, { token: alice.token }), 404, 'not a member of this room');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}/members/${alice.id}`, { token: alice.token }), 400, 'use POST /rooms/:id/leave to leave a room');
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}/members/bad`, { token: alice.token }), 400, 'Invalid user ID');
      // a promoted admin cannot remove another admin (the creator included)
      await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${bob.id}`, { token: alice.token, body: { role: 'admin' } });
      expectError(await http(app, 'DELETE', `/api/v1/rooms/${priv.id}/members/${alice.id}`, { token: bob.token }), 403, 'only the room creator can remove an admin');
      expect(await memberRows(priv.id)).toEqual([
        { user_id: alice.id, role: 'admin' },
        { user_id: bob.id, role: 'admin' },
      ]);
    });

    it('promote/demote: admins only; the creator stays admin; the promoted admin can add members', async () => {
      const priv = await createRoom(alice, { type: 'private' });
      await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: alice.token, body: { user_id: bob.id } });
      expectError(await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${bob.id}`, { token: bob.token, body: { role: 'admin' } }), 403, 'only room admins can change roles');
      expectValidation(await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${bob.id}`, { token: alice.token, body: { role: 'owner' } }));
      const r = await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${bob.id}`, { token: alice.token, body: { role: 'admin' } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ user_id: bob.id, role: 'admin' });
      expect((await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: bob.token, body: { user_id: carol.id } })).status).toBe(200);
      expectError(await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${alice.id}`, { token: bob.token, body: { role: 'member' } }), 403, 'the room creator stays admin');
      expectError(await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${NIL_UUID}`, { token: alice.token, body: { role: 'admin' } }), 404, 'not a member of this room');
      const demoted = await http(app, 'PATCH', `/api/v1/rooms/${priv.id}/members/${bob.id}`, { token: alice.token, body: { role: 'member' } });
      expect(demoted.body.role).toBe('member');
      expectError(await http(app, 'POST', `/api/v1/rooms/${priv.id}/members`, { token: bob.token, body: { user_id: carol.id } }), 403, 'only room admins can add members');
    });
  });
});
