import { createTestApp, TestApp } from '../../setup/app';
import { http, Json, registerUser, TestUser } from '../../setup/clients';
import { expectError, expectValidation, NIL_UUID } from './helpers';

describe('REST direct messages (§4.5, Part A11)', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  const openDm = (from: TestUser, to: string | unknown) => http(app, 'POST', '/api/v1/dm', { token: from.token, body: { recipient_id: to } });
  const send = async (u: TestUser, roomId: string, content: string) => {
    const r = await http(app, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: u.token, body: { content } });
    expect(r.status).toBe(201);
    return r.body;
  };

  beforeAll(async () => {
    app = await createTestApp();
    [alice, bob, carol] = [await registerUser(app, 'alice'), await registerUser(app, 'bob'), await registerUser(app, 'carol')];
  });
  afterAll(() => app.close());

  describe('POST /dm', () => {
    it('creates the pair’s direct room (200, both members) and returns the same room from either side', async () => {
      const r = await openDm(alice, bob.id);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        type: 'direct',
        name: `dm:${alice.username}-${bob.username}`,
        description: 'Direct message',
        created_by: alice.id,
      });
      expect(r.body.members.map((m: Json) => [m.user_id, m.role]).sort()).toEqual(
        [
          [alice.id, 'member'],
          [bob.id, 'member'],
        ].sort(),
      );
      const bobView = r.body.members.find((m: Json) => m.user_id === bob.id);
      expect(bobView.user.email).toBeUndefined();
      const again = await openDm(alice, bob.id);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(r.body.id);
      const reverse = await openDm(bob, alice.id.replace(/-/g, ''));
      expect(reverse.body.id).toBe(r.body.id);
      expect(reverse.body.members).toHaveLength(2);
    });

    it('errors: validation, bad id, self, unknown recipient', async () => {
      expectValidation(await http(app, 'POST', '/api/v1/dm', { token: alice.token, body: {} }));
      expectValidation(await openDm(alice, 42));
      expectError(await openDm(alice, 'not-a-uuid'), 400, 'Invalid recipient ID');
      expectError(await openDm(alice, alice.id), 400, 'cannot create DM with yourself');
      expectError(await openDm(alice, alice.id.toUpperCase()), 400, 'cannot create DM with yourself');
      expectError(await openDm(alice, NIL_UUID), 400, 'recipient user not found');
      expectError(await http(app, 'POST', '/api/v1/dm', { body: { recipient_id: bob.id } }), 401, 'Authorization header is required');
    });

    it('20 parallel calls from both sides give one room with two memberships', async () => {
      const x = await registerUser(app, 'px');
      const y = await registerUser(app, 'py');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? openDm(x, y.id) : openDm(y, x.id))));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      const ids = new Set(results.map((r) => r.body.id));
      expect(ids.size).toBe(1);
      const rooms = await app.ds.query(
        `SELECT r.id FROM rooms r WHERE r.type = 'direct'
           AND EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1)
           AND EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $2)`,
        [x.id, y.id],
      );
      expect(rooms).toEqual([{ id: [...ids][0] }]);
      const members = await app.ds.query('SELECT user_id FROM room_members WHERE room_id = $1', [rooms[0].id]);
      expect(members).toHaveLength(2);
      const all = await app.ds.query(`SELECT count(*)::int AS n FROM rooms WHERE type = 'direct' AND created_by IN ($1, $2)`, [x.id, y.id]);
      expect(all[0].n).toBe(1);
    });

    it('a participant who left gets the same room back (history kept)', async () => {
      const x = await registerUser(app, 'lx');
      const y = await registerUser(app, 'ly');
      const dm = (await openDm(x, y.id)).body.id;
      await send(x, dm, 'before');
      expect((await http(app, 'POST', `/api/v1/rooms/${dm}/leave`, { token: y.token })).status).toBe(200);
      expect((await http(app, 'GET', `/api/v1/rooms/${dm}`, { token: y.token })).status).toBe(404);
      const back = await openDm(x, y.id);
      expect(back.body.id).toBe(dm);
      expect(back.body.members).toHaveLength(2);
      const h = await http(app, 'GET', `/api/v1/rooms/${dm}/messages`, { token: y.token });
      expect(h.body.data.map((m: Json) => m.content)).toEqual(['before']);
    });
  });

  describe('GET /dm', () => {
    it('rooms with messages, latest first, with the other user, last message and unread count', async () => {
      const me = await registerUser(app, 'me');
      const p1 = await registerUser(app, 'p1');
      const p2 = await registerUser(app, 'p2');
      const p3 = await registerUser(app, 'p3');
      const d1 = (await openDm(me, p1.id)).body.id;
      const d2 = (await openDm(p2, me.id)).body.id;
      await openDm(me, p3.id); // no messages: skipped
      expect((await http(app, 'GET', '/api/v1/dm', { token: me.token })).body).toEqual({ data: [] });

      await send(p1, d1, 'one');
      await send(p1, d1, 'two');
      await send(me, d1, 'mine');
      await send(p2, d2, 'hello');
      const gone = await send(p2, d2, 'oops');
      expect((await http(app, 'DELETE', `/api/v1/messages/${gone.id}`, { token: p2.token })).status).toBe(200);

      const r = await http(app, 'GET', '/api/v1/dm', { token: me.token });
      expect(r.status).toBe(200);
      expect(r.body.data.map((x: Json) => x.room.id)).toEqual([d2, d1]);
      const [first, second] = r.body.data;
      expect(first.other_user).toMatchObject({ id: p2.id, username: p2.username });
      expect(first.other_user.email).toBeUndefined();
      expect(first.last_message).toMatchObject({ id: gone.id, is_deleted: true, content: '' });
      expect(first.unread_count).toBe(1); // the deleted one does not count
      expect(first.room.members).toHaveLength(2);
      expect(second.other_user.id).toBe(p1.id);
      expect(second.last_message).toMatchObject({ content: 'mine', sender_id: me.id });
      expect(second.last_message.sender.email).toBeUndefined();
      expect(second.unread_count).toBe(2); // own messages do not count

      expect((await http(app, 'POST', `/api/v1/rooms/${d1}/read`, { token: me.token })).status).toBe(200);
      await send(p1, d1, 'three');
      const after = await http(app, 'GET', '/api/v1/dm', { token: me.token });
      expect(after.body.data.map((x: Json) => [x.room.id, x.unread_count])).toEqual([
        [d1, 1],
        [d2, 1],
      ]);
      // the partner's view of the same room
      const theirs = await http(app, 'GET', '/api/v1/dm', { token: p1.token });
      expect(theirs.body.data).toHaveLength(1);
      expect(theirs.body.data[0]).toMatchObject({ other_user: { id: me.id }, unread_count: 1 });
      expect(theirs.body.data[0].other_user.email).toBeUndefined();
      // a third party sees none of it
      expect((await http(app, 'GET', '/api/v1/dm', { token: carol.token })).body.data.map((x: Json) => x.room.id)).not.toContain(d1);
    });

    it('answers in a bounded number of queries whatever the number of conversations (no N+1)', async () => {
      const me = await registerUser(app, 'many');
      const queriesFor = async () => {
        const spy = jest.spyOn(app.ds, 'query');
        try {
          const r = await http(app, 'GET', '/api/v1/dm', { token: me.token });
          expect(r.status).toBe(200);
          return { n: spy.mock.calls.length, rooms: r.body.data.length };
        } finally {
          spy.mockRestore();
        }
      };
      const addPartner = async () => {
        const p = await registerUser(app, 'np');
        const dm = (await openDm(p, me.id)).body.id;
        await send(p, dm, 'hi');
      };
      for (let i = 0; i < 2; i++) await addPartner();
      const few = await queriesFor();
      for (let i = 0; i < 8; i++) await addPartner();
      const many = await queriesFor();
      expect(few.rooms).toBe(2);
      expect(many.rooms).toBe(10);
      expect(few.n).toBeGreaterThan(0);
      expect(many.n).toBe(few.n);
      expect(many.n).toBeLessThanOrEqual(5);
    });
  });
});
