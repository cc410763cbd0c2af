import { createTestApp, TestApp } from '../../setup/app';
import { http, Json, registerUser, TestUser } from '../../setup/clients';
import { NIL_UUID } from './helpers';

const REVOKED = 'Token has been revoked. Please log in again.';

/**
 * The authorization matrix of issue 3: no token, revoked token, outsider, member, admin, someone
 * else's message, private room, direct room of two other users — against the real app.
 */
describe('REST authorization matrix', () => {
  let app: TestApp;
  let admin: TestUser; // creator/admin of the group rooms
  let member: TestUser; // member of the group rooms, one side of the DM
  let outsider: TestUser; // member of nothing
  let partner: TestUser; // the other side of the DM
  let revoked: string;
  let pub: string;
  let priv: string;
  let dm: string;
  let adminMsg: string;
  let memberMsg: string;
  let privMsg: string;
  let dmMsg: string;

  const send = async (u: TestUser, roomId: string, content: string) => {
    const r = await http(app, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: u.token, body: { content } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };

  beforeAll(async () => {
    app = await createTestApp();
    [admin, member, outsider, partner] = [
      await registerUser(app, 'adm'),
      await registerUser(app, 'mem'),
      await registerUser(app, 'out'),
      await registerUser(app, 'par'),
    ];
    const victim = await registerUser(app, 'rev');
    revoked = victim.token;
    expect((await http(app, 'POST', '/api/v1/auth/logout', { token: revoked })).status).toBe(200);
    pub = (await http(app, 'POST', '/api/v1/rooms', { token: admin.token, body: { name: 'public room' } })).body.id;
    priv = (await http(app, 'POST', '/api/v1/rooms', { token: admin.token, body: { name: 'private room', type: 'private' } })).body.id;
    await http(app, 'POST', `/api/v1/rooms/${pub}/join`, { token: member.token });
    await http(app, 'POST', `/api/v1/rooms/${priv}/members`, { token: admin.token, body: { user_id: member.id } });
    dm = (await http(app, 'POST', '/api/v1/dm', { token: member.token, body: { recipient_id: partner.id } })).body.id;
    adminMsg = await send(admin, pub, 'by admin');
    memberMsg = await send(member, pub, 'by member');
    privMsg = await send(member, priv, 'private');
    dmMsg = await send(partner, dm, 'direct');
  });
  afterAll(() => app.close());

  /** Every protected endpoint with a harmless request. */
  const protectedRoutes = (): [string, string, Json?][] => [
    ['POST', '/api/v1/auth/logout'],
    ['GET', '/api/v1/auth/me'],
    ['PATCH', '/api/v1/auth/me', { status: 'x' }],
    ['PATCH', '/api/v1/auth/username', { username: 'someone_new' }],
    ['PATCH', '/api/v1/auth/email', { email: 'x@example.com', current_password: 'passw0rd' }],
    ['PATCH', '/api/v1/auth/password', { current_password: 'passw0rd', new_password: 'passw0rd2' }],
    ['GET', '/api/v1/users/search?q=a'],
    ['GET', `/api/v1/users/${admin.id}`],
    ['GET', '/api/v1/rooms'],
    ['POST', '/api/v1/rooms', { name: 'new room' }],
    ['GET', '/api/v1/rooms/me'],
    ['GET', `/api/v1/rooms/${pub}`],
    ['DELETE', `/api/v1/rooms/${pub}`],
    ['POST', `/api/v1/rooms/${pub}/join`],
    ['POST', `/api/v1/rooms/${pub}/leave`],
    ['POST', `/api/v1/rooms/${pub}/read`],
    ['POST', `/api/v1/rooms/${priv}/members`, { user_id: outsider.id }],
    ['DELETE', `/api/v1/rooms/${priv}/members/${member.id}`],
    ['PATCH', `/api/v1/rooms/${priv}/members/${member.id}`, { role: 'admin' }],
    ['GET', `/api/v1/rooms/${pub}/messages`],
    ['POST', `/api/v1/rooms/${pub}/messages`, { content: 'x' }],
    ['GET', `/api/v1/rooms/${pub}/changes?after=0`],
    ['PATCH', `/api/v1/messages/${adminMsg}`, { content: 'x' }],
    ['DELETE', `/api/v1/messages/${adminMsg}`],
    ['GET', '/api/v1/dm'],
    ['POST', '/api/v1/dm', { recipient_id: admin.id }],
    ['POST', '/api/v1/upload'],
  ];

  it('no token → 401 "Authorization header is required" on every protected endpoint', async () => {
    for (const [method, path, body] of protectedRoutes()) {
      const r = await http(app, method, path, { body });
      expect({ method, path, status: r.status, error: r.body.error }).toEqual({ method, path, status: 401, error: 'Authorization header is required' });
    }
  });

  it('revoked token → 401 revoked on every protected endpoint, and nothing changed', async () => {
    for (const [method, path, body] of protectedRoutes()) {
      const r = await http(app, method, path, { token: revoked, body });
      expect({ method, path, status: r.status, error: r.body.error }).toEqual({ method, path, status: 401, error: REVOKED });
    }
    const rooms = await app.ds.query(`SELECT count(*)::int AS n FROM rooms WHERE name = 'new room'`);
    expect(rooms[0].n).toBe(0);
    expect((await app.ds.query('SELECT content FROM messages WHERE id = $1', [adminMsg]))[0].content).toBe('by admin');
  });

  it('private room and direct room of two other users: 404 for everything to outsiders', async () => {
    const cases: [TestUser, string][] = [
      [outsider, priv],
      [outsider, dm],
      [admin, dm], // admin of other rooms is nobody here
    ];
    for (const [who, room] of cases) {
      const table: [string, string, Json | undefined, number][] = [
        ['GET', `/api/v1/rooms/${room}`, undefined, 404],
        ['GET', `/api/v1/rooms/${room}/messages`, undefined, 404],
        ['GET', `/api/v1/rooms/${room}/changes?after=0`, undefined, 404],
        ['POST', `/api/v1/rooms/${room}/messages`, { content: 'intruder' }, 404],
        ['POST', `/api/v1/rooms/${room}/join`, undefined, 404],
        ['POST', `/api/v1/rooms/${room}/read`, undefined, 404],
        ['POST', `/api/v1/rooms/${room}/members`, { user_id: who.id }, 404],
        ['PATCH', `/api/v1/rooms/${room}/members/${member.id}`, { role: 'admin' }, 404],
        ['DELETE', `/api/v1/rooms/${room}/members/${member.id}`, undefined, 404],
        ['DELETE', `/api/v1/rooms/${room}`, undefined, 404],
        ['POST', `/api/v1/rooms/${room}/leave`, undefined, 400],
      ];
      for (const [method, path, body, status] of table) {
        const r = await http(app, method, path, { token: who.token, body });
        expect({ who: who.username, method, path, status: r.status, isJson: typeof r.body.error === 'string' }).toEqual({
          who: who.username,
          method,
          path,
          status,
          isJson: true,
        });
      }
      const msg = room === dm ? dmMsg : privMsg;
      expect((await http(app, 'PATCH', `/api/v1/messages/${msg}`, { token: who.token, body: { content: 'x' } })).body.error).toBe('message not found');
      expect((await http(app, 'DELETE', `/api/v1/messages/${msg}`, { token: who.token })).status).toBe(404);
    }
    // nothing leaked into the database
    const rows = await app.ds.query(`SELECT count(*)::int AS n FROM messages WHERE content IN ('intruder', 'x')`);
    expect(rows[0].n).toBe(0);
    const members = await app.ds.query('SELECT room_id, count(*)::int AS n FROM room_members WHERE room_id = ANY($1::uuid[]) GROUP BY room_id ORDER BY room_id', [[priv, dm]]);
    expect(members.map((m: Json) => m.n)).toEqual([2, 2]);
    expect((await app.ds.query('SELECT content, is_deleted FROM messages WHERE id = ANY($1::uuid[])', [[privMsg, dmMsg]])).every((m: Json) => !m.is_deleted)).toBe(true);
  });

  it('public room: outsider may look at it but not read or write history; members may; admins manage', async () => {
    const as = (u: TestUser, method: string, path: string, body?: Json) => http(app, method, path, { token: u.token, body });
    // outsider
    expect((await as(outsider, 'GET', `/api/v1/rooms/${pub}`)).status).toBe(200);
    expect((await as(outsider, 'GET', `/api/v1/rooms/${pub}/messages`)).status).toBe(403);
    expect((await as(outsider, 'POST', `/api/v1/rooms/${pub}/messages`, { content: 'x' })).status).toBe(403);
    expect((await as(outsider, 'POST', `/api/v1/rooms/${pub}/read`)).status).toBe(403);
    expect((await as(outsider, 'POST', `/api/v1/rooms/${pub}/members`, { user_id: outsider.id })).status).toBe(403);
    expect((await as(outsider, 'DELETE', `/api/v1/rooms/${pub}`)).status).toBe(403);
    expect((await as(outsider, 'PATCH', `/api/v1/messages/${memberMsg}`, { content: 'x' })).status).toBe(403);
    expect((await as(outsider, 'DELETE', `/api/v1/messages/${memberMsg}`)).status).toBe(403);
    // member
    expect((await as(member, 'GET', `/api/v1/rooms/${pub}/messages`)).status).toBe(200);
    expect((await as(member, 'POST', `/api/v1/rooms/${pub}/messages`, { content: 'member again' })).status).toBe(201);
    expect((await as(member, 'POST', `/api/v1/rooms/${pub}/members`, { user_id: outsider.id })).status).toBe(403);
    expect((await as(member, 'PATCH', `/api/v1/rooms/${pub}/members/${admin.id}`, { role: 'member' })).status).toBe(403);
    expect((await as(member, 'DELETE', `/api/v1/rooms/${pub}`)).status).toBe(403);
    // someone else's message
    expect((await as(member, 'PATCH', `/api/v1/messages/${adminMsg}`, { content: 'x' })).body.error).toBe('you can only edit your own messages');
    expect((await as(member, 'DELETE', `/api/v1/messages/${adminMsg}`)).body.error).toBe('you can only delete your own messages');
    expect((await as(admin, 'PATCH', `/api/v1/messages/${memberMsg}`, { content: 'x' })).body.error).toBe('you can only edit your own messages');
    // admin moderates and manages
    expect((await as(admin, 'DELETE', `/api/v1/messages/${memberMsg}`)).status).toBe(200);
    const add = await as(admin, 'POST', `/api/v1/rooms/${pub}/members`, { user_id: outsider.id });
    expect(add.status).toBe(200);
    expect((await as(outsider, 'GET', `/api/v1/rooms/${pub}/messages`)).status).toBe(200);
    const contents = (await app.ds.query('SELECT content FROM messages WHERE room_id = $1 ORDER BY seq', [pub])).map((m: Json) => m.content);
    expect(contents).toEqual(['by admin', '', 'member again']);
  });

  it('the members of a direct room: both may read and write, neither may manage members', async () => {
    for (const u of [member, partner]) {
      expect((await http(app, 'GET', `/api/v1/rooms/${dm}/messages`, { token: u.token })).status).toBe(200);
      expect((await http(app, 'POST', `/api/v1/rooms/${dm}/read`, { token: u.token })).status).toBe(200);
      const add = await http(app, 'POST', `/api/v1/rooms/${dm}/members`, { token: u.token, body: { user_id: outsider.id } });
      expect(add.status).toBe(403);
    }
    expect((await http(app, 'DELETE', `/api/v1/messages/${dmMsg}`, { token: member.token })).body.error).toBe('you can only delete your own messages');
    expect((await http(app, 'GET', `/api/v1/rooms/${NIL_UUID}`, { token: member.token })).status).toBe(404);
  });
});
