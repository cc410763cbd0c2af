import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { createTestApp, TEST_JWT_SECRET, TestApp } from '../setup/app';
import { connectWs, openWs, registerUser, sleep, TestUser, WsClient } from '../setup/clients';
import { claimsFor as claimsOf, signJwt } from '../setup/tokens';
import { caseCounter, dbFingerprint, req, Res } from './helpers';

/**
 * Authorization matrix: every protected endpoint × every kind of token, then every resource
 * endpoint × {owner, admin, member, non-member, outsider of someone else's DM}, then the
 * WebSocket paths. Exactly the allowed cells succeed; what a caller may not see answers exactly
 * like a random id (same status, same body).
 */
jest.setTimeout(90_000);

let t: TestApp;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let outsider: TestUser;
let pub: string;
let priv: string;
let dm: string;
let mPub: string;
let mPriv: string;
let mPrivByMember: string;
let mDm: string;
const { counts, count } = caseCounter();


async function ok(r: Promise<Res> | Res, status: number, what: string): Promise<Res> {
  const res = await r;
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 200)}`);
  return res;
}

beforeAll(async () => {
  t = await createTestApp();
  [owner, admin, member, outsider] = await Promise.all(['own', 'adm', 'mem', 'out'].map((p) => registerUser(t, p)));
  pub = (await ok(req(t, 'POST', '/api/v1/rooms', { token: owner.token, json: { name: 'public one' } }), 201, 'pub')).body.id;
  priv = (await ok(req(t, 'POST', '/api/v1/rooms', { token: owner.token, json: { name: 'secret one', type: 'private' } }), 201, 'priv')).body.id;
  for (const room of [pub, priv]) {
    for (const u of [admin, member]) await ok(req(t, 'POST', `/api/v1/rooms/${room}/members`, { token: owner.token, json: { user_id: u.id } }), 200, 'add');
    await ok(req(t, 'PATCH', `/api/v1/rooms/${room}/members/${admin.id}`, { token: owner.token, json: { role: 'admin' } }), 200, 'promote');
  }
  dm = (await ok(req(t, 'POST', '/api/v1/dm', { token: owner.token, json: { recipient_id: member.id } }), 200, 'dm')).body.id;
  const send = (token: string, room: string, content: string) => ok(req(t, 'POST', `/api/v1/rooms/${room}/messages`, { token, json: { content } }), 201, 'send').then((r) => r.body.id as string);
  mPub = await send(owner.token, pub, 'public hello');
  mPriv = await send(owner.token, priv, 'private hello');
  mPrivByMember = await send(member.token, priv, 'member hello');
  mDm = await send(owner.token, dm, 'dm hello');
});

afterAll(async () => {
  await t?.close();
  // eslint-disable-next-line no-console
  console.log(`authz matrix cells run: ${JSON.stringify(counts)}`);
});

describe('every protected endpoint × every kind of token', () => {
  const routes = (): [string, string, unknown?][] => [
    ['GET', '/api/v1/auth/me'],
    ['PATCH', '/api/v1/auth/me', { status: 'x' }],
    ['PATCH', '/api/v1/auth/username', { username: 'zz_' + randomUUID().slice(0, 8) }],
    ['PATCH', '/api/v1/auth/email', { email: 'a@b.example', current_password: 'wrong' }],
    ['PATCH', '/api/v1/auth/password', { current_password: 'wrong', new_password: 'passw0rd2' }],
    ['GET', '/api/v1/users/search?q=a'],
    ['GET', `/api/v1/users/${randomUUID()}`],
    ['GET', '/api/v1/rooms'],
    ['POST', '/api/v1/rooms', { name: 'matrix' }],
    ['GET', '/api/v1/rooms/me'],
    ['GET', `/api/v1/rooms/${pub}`],
    ['DELETE', `/api/v1/rooms/${randomUUID()}`],
    ['POST', `/api/v1/rooms/${pub}/join`],
    ['POST', `/api/v1/rooms/${randomUUID()}/leave`],
    ['POST', `/api/v1/rooms/${pub}/read`],
    ['GET', `/api/v1/rooms/${pub}/messages`],
    ['POST', `/api/v1/rooms/${pub}/messages`, { content: 'via matrix' }],
    ['GET', `/api/v1/rooms/${pub}/changes?after=0`],
    ['POST', `/api/v1/rooms/${randomUUID()}/members`, { user_id: randomUUID() }],
    ['DELETE', `/api/v1/rooms/${randomUUID()}/members/${randomUUID()}`],
    ['PATCH', `/api/v1/rooms/${randomUUID()}/members/${randomUUID()}`, { role: 'admin' }],
    ['PATCH', `/api/v1/messages/${randomUUID()}`, { content: 'x' }],
    ['DELETE', `/api/v1/messages/${randomUUID()}`],
    ['POST', '/api/v1/dm', { recipient_id: randomUUID() }],
    ['GET', '/api/v1/dm'],
    ['POST', '/api/v1/upload'],
    ['POST', '/api/v1/auth/logout'],
  ];

  it('only a valid, unrevoked HS256 token with exp gets past authentication; rejected calls write nothing', async () => {
    const u = await registerUser(t, 'tok');
    const login = async () => (await ok(req(t, 'POST', '/api/v1/auth/login', { json: { email: u.email, password: u.password } }), 200, 'login')).body.token as string;
    const revoked = await login();
    await ok(req(t, 'POST', '/api/v1/auth/logout', { token: revoked }), 200, 'logout');
    const stale = await login();
    const changer = await login();
    await ok(req(t, 'PATCH', '/api/v1/auth/password', { token: changer, json: { current_password: u.password, new_password: 'newpassw0rd' } }), 200, 'pw');
    u.password = 'newpassw0rd';
    const good = jwt.verify(changer, TEST_JWT_SECRET) as Record<string, unknown>;
    const tv = good.tv;
    const now = Math.floor(Date.now() / 1000);
    const REVOKED = 'Token has been revoked. Please log in again.';
    const INVALID = 'Invalid or expired token';
    const kinds: [string, string | null, string | null, string][] = [
      // name, Authorization header, (null = none), expected error
      ['none', null, null, 'Authorization header is required'],
      ['wrong scheme', `Basic ${changer}`, 'raw', 'Invalid authorization format. Use: Bearer <token>'],
      ['lowercase scheme', `bearer ${changer}`, 'raw', 'Invalid authorization format. Use: Bearer <token>'],
      ['no token', 'Bearer', 'raw', 'Invalid authorization format. Use: Bearer <token>'],
      ['malformed', 'not.a.jwt', null, INVALID],
      ['garbage', 'x'.repeat(4000), null, INVALID],
      ['wrong signature', signJwt(claimsOf(u, { tv }), 'another-secret-0123456789-0123456789-xx'), null, INVALID],
      ['alg none', signJwt(claimsOf(u, { tv }), undefined, 'none'), null, INVALID],
      ['alg none, signature kept', signJwt(claimsOf(u, { tv }), undefined, 'none') + changer.split('.')[2], null, INVALID],
      ['HS512', signJwt(claimsOf(u, { tv }), TEST_JWT_SECRET, 'HS512'), null, INVALID],
      ['no exp', signJwt((({ exp: _e, ...c }) => c)(claimsOf(u, { tv }))), null, INVALID],
      ['expired', signJwt(claimsOf(u, { tv, iat: now - 7200, exp: now - 10 })), null, INVALID],
      ['unknown user', signJwt(claimsOf({ ...u, id: randomUUID() }, { tv })), null, INVALID],
      ['user_id not a uuid', signJwt(claimsOf({ ...u, id: "' OR 1=1 --" }, { tv })), null, INVALID],
      ['revoked (logout)', revoked, null, REVOKED],
      ['password changed', stale, null, REVOKED],
    ];
    for (const [method, path, body] of routes()) {
      for (const [name, tok, raw, error] of kinds) {
        const before = await dbFingerprint(t.ds);
        const headers: Record<string, string> = {};
        if (tok !== null) headers.authorization = raw ? tok : `Bearer ${tok}`;
        const r = await req(t, method, path, { headers, json: body });
        count('token-kinds');
        if (r.status !== 401 || r.body.error !== error) throw new Error(`${method} ${path} with ${name}: expected 401 ${error}, got ${r.status} ${r.text.slice(0, 200)}`);
        if ((await dbFingerprint(t.ds)) !== before) throw new Error(`${method} ${path} with ${name}: 401 but the database changed`);
      }
      // the valid token gets past authentication (whatever the endpoint then says)
      const token = path.endsWith('/logout') ? await login() : changer;
      const r = await req(t, method, path, { token, json: body });
      count('token-kinds');
      if (r.status === 401 || r.status >= 500) throw new Error(`${method} ${path} with a valid token: ${r.status} ${r.text.slice(0, 200)}`);
    }
  });
});

describe('resource endpoints × actors', () => {
  type Actor = 'owner' | 'admin' | 'member' | 'outsider';
  const tokenOf = (a: Actor) => ({ owner, admin, member, outsider })[a].token;
  /** a status, or 'missing': exactly what the same request on a random id answers */
  type Expect = number | 'missing';

  async function cell(actor: Actor, method: string, path: string, id: string, expected: Expect, body?: unknown): Promise<Res> {
    const before = await dbFingerprint(t.ds);
    const r = await req(t, method, path.replace(':id', id), { token: tokenOf(actor), json: body });
    count('actors');
    const what = `${actor} ${method} ${path.replace(':id', id)}`;
    if (expected === 'missing') {
      const ghost = await req(t, method, path.replace(':id', randomUUID()), { token: tokenOf(actor), json: body });
      if (r.status !== ghost.status || JSON.stringify(r.body) !== JSON.stringify(ghost.body)) {
        throw new Error(`${what}: distinguishable from a missing id: ${r.status} ${r.text} vs ${ghost.status} ${ghost.text}`);
      }
      if (r.status < 400) throw new Error(`${what}: allowed (${r.status})`);
    } else if (r.status !== expected) {
      throw new Error(`${what}: expected ${expected}, got ${r.status} ${r.text.slice(0, 200)}`);
    }
    if (r.status >= 400 && (await dbFingerprint(t.ds)) !== before) throw new Error(`${what}: refused but the database changed`);
    return r;
  }

  it('reading rooms and history', async () => {
    const all: Actor[] = ['owner', 'admin', 'member'];
    for (const a of all) {
      for (const room of [pub, priv]) {
        await cell(a, 'GET', '/api/v1/rooms/:id', room, 200);
        await cell(a, 'GET', '/api/v1/rooms/:id/messages', room, 200);
        await cell(a, 'GET', '/api/v1/rooms/:id/changes?after=0', room, 200);
      }
    }
    for (const a of ['owner', 'member'] as Actor[]) {
      await cell(a, 'GET', '/api/v1/rooms/:id', dm, 200);
      await cell(a, 'GET', '/api/v1/rooms/:id/messages', dm, 200);
    }
    // a public room is visible, its history is not (403 as in the original)
    await cell('outsider', 'GET', '/api/v1/rooms/:id', pub, 200);
    await cell('outsider', 'GET', '/api/v1/rooms/:id/messages', pub, 403);
    await cell('outsider', 'GET', '/api/v1/rooms/:id/changes?after=0', pub, 403);
    // private rooms and other people's DMs do not exist for outsiders; the admin is not in the DM either
    for (const [a, room] of [['outsider', priv], ['outsider', dm], ['admin', dm]] as [Actor, string][]) {
      await cell(a, 'GET', '/api/v1/rooms/:id', room, 'missing');
      await cell(a, 'GET', '/api/v1/rooms/:id/messages', room, 'missing');
      await cell(a, 'GET', '/api/v1/rooms/:id/changes?after=0', room, 'missing');
      await cell(a, 'POST', '/api/v1/rooms/:id/read', room, 'missing');
      await cell(a, 'POST', '/api/v1/rooms/:id/join', room, 'missing');
      await cell(a, 'POST', '/api/v1/rooms/:id/messages', room, 'missing', { content: 'sneak' });
      await cell(a, 'POST', '/api/v1/rooms/:id/members', room, 'missing', { user_id: outsider.id });
      await cell(a, 'PATCH', `/api/v1/rooms/:id/members/${member.id}`, room, 'missing', { role: 'admin' });
      await cell(a, 'DELETE', `/api/v1/rooms/:id/members/${member.id}`, room, 'missing');
      await cell(a, 'DELETE', '/api/v1/rooms/:id', room, 'missing');
    }
    // nothing about them leaks through lists either
    for (const path of ['/api/v1/rooms/me', '/api/v1/rooms?limit=50', '/api/v1/dm']) {
      const r = await req(t, 'GET', path, { token: outsider.token });
      expect(JSON.stringify(r.body)).not.toContain(priv);
      expect(JSON.stringify(r.body)).not.toContain(dm);
      count('actors');
    }
    const search = await req(t, 'GET', `/api/v1/users/search?q=${owner.username.slice(0, 6)}`, { token: outsider.token });
    expect(JSON.stringify(search.body)).not.toContain(owner.email);
    const profile = await req(t, 'GET', `/api/v1/users/${owner.id}`, { token: outsider.token });
    expect(profile.status).toBe(200);
    expect(profile.body.email).toBeUndefined();
    count('actors', 2);
  });

  it('messages of rooms the caller may not see: edit and delete are indistinguishable from a missing message', async () => {
    for (const [a, msg] of [['outsider', mPriv], ['outsider', mDm], ['admin', mDm]] as [Actor, string][]) {
      await cell(a, 'PATCH', '/api/v1/messages/:id', msg, 'missing', { content: 'hijack' });
      await cell(a, 'DELETE', '/api/v1/messages/:id', msg, 'missing');
    }
    // visible, but not theirs
    await cell('member', 'PATCH', '/api/v1/messages/:id', mPriv, 403, { content: 'hijack' });
    await cell('admin', 'PATCH', '/api/v1/messages/:id', mPriv, 403, { content: 'hijack' });
    await cell('outsider', 'PATCH', '/api/v1/messages/:id', mPub, 403, { content: 'hijack' });
    await cell('outsider', 'DELETE', '/api/v1/messages/:id', mPub, 403);
    await cell('member', 'DELETE', '/api/v1/messages/:id', mPub, 403);
    await cell('member', 'DELETE', '/api/v1/messages/:id', mDm, 403);
    // allowed: own message (owner), moderation by a room admin
    await cell('owner', 'PATCH', '/api/v1/messages/:id', mPriv, 200, { content: 'edited by owner' });
    await cell('admin', 'DELETE', '/api/v1/messages/:id', mPrivByMember, 200);
    const fresh = (await ok(req(t, 'POST', `/api/v1/rooms/${pub}/messages`, { token: owner.token, json: { content: 'to delete' } }), 201, 'send')).body.id;
    await cell('owner', 'DELETE', '/api/v1/messages/:id', fresh, 200);
    // read by another member: the author can no longer delete it
    await cell('owner', 'DELETE', '/api/v1/messages/:id', mPub, 403);
  });

  it('membership management: admins only, never in direct rooms', async () => {
    const extra = await registerUser(t, 'ext');
    const extraActor = extra.id;
    await cell('member', 'POST', '/api/v1/rooms/:id/members', priv, 403, { user_id: extraActor });
    await cell('outsider', 'POST', '/api/v1/rooms/:id/members', pub, 403, { user_id: extraActor });
    await cell('admin', 'POST', '/api/v1/rooms/:id/members', priv, 200, { user_id: extraActor });
    await cell('member', 'PATCH', `/api/v1/rooms/:id/members/${extraActor}`, priv, 403, { role: 'admin' });
    await cell('member', 'PATCH', `/api/v1/rooms/:id/members/${member.id}`, priv, 403, { role: 'admin' });
    await cell('admin', 'PATCH', `/api/v1/rooms/:id/members/${owner.id}`, priv, 403, { role: 'member' });
    await cell('admin', 'DELETE', `/api/v1/rooms/:id/members/${owner.id}`, priv, 403);
    await cell('member', 'DELETE', `/api/v1/rooms/:id/members/${extraActor}`, priv, 403);
    await cell('admin', 'DELETE', `/api/v1/rooms/:id/members/${extraActor}`, priv, 200);
    await cell('owner', 'POST', '/api/v1/rooms/:id/members', dm, 403, { user_id: extraActor });
    await cell('member', 'POST', '/api/v1/rooms/:id/members', dm, 403, { user_id: extraActor });
    await cell('owner', 'PATCH', `/api/v1/rooms/:id/members/${member.id}`, dm, 403, { role: 'admin' });
    await cell('owner', 'DELETE', `/api/v1/rooms/:id/members/${member.id}`, dm, 403);
    // a removed member lost access: the private room is now "missing" for them
    const ext = { ...extra };
    const r = await req(t, 'GET', `/api/v1/rooms/${priv}`, { token: ext.token });
    const ghost = await req(t, 'GET', `/api/v1/rooms/${randomUUID()}`, { token: ext.token });
    expect([r.status, r.body]).toEqual([ghost.status, ghost.body]);
    count('actors', 1);
  });

  it('deleting rooms: creator or admin of a group room, never a plain member; a DM by its creator only', async () => {
    const mk = async (type: string) => {
      const id = (await ok(req(t, 'POST', '/api/v1/rooms', { token: owner.token, json: { name: `doomed ${type}`, type } }), 201, 'mk')).body.id;
      for (const u of [admin, member]) await ok(req(t, 'POST', `/api/v1/rooms/${id}/members`, { token: owner.token, json: { user_id: u.id } }), 200, 'add');
      await ok(req(t, 'PATCH', `/api/v1/rooms/${id}/members/${admin.id}`, { token: owner.token, json: { role: 'admin' } }), 200, 'promote');
      return id as string;
    };
    const a = await mk('private');
    await cell('member', 'DELETE', '/api/v1/rooms/:id', a, 403);
    await cell('outsider', 'DELETE', '/api/v1/rooms/:id', a, 'missing');
    await cell('admin', 'DELETE', '/api/v1/rooms/:id', a, 200);
    const b = await mk('public');
    await cell('outsider', 'DELETE', '/api/v1/rooms/:id', b, 403);
    await cell('owner', 'DELETE', '/api/v1/rooms/:id', b, 200);
    await cell('owner', 'GET', '/api/v1/rooms/:id', b, 'missing');
    await cell('member', 'DELETE', '/api/v1/rooms/:id', dm, 403);
    await cell('outsider', 'POST', '/api/v1/rooms/:id/join', dm, 'missing');
  });
});

describe('WebSocket authorization', () => {
  it('a revoked or password-changed token is refused on both auth flows', async () => {
    const u = await registerUser(t, 'wsr');
    const login = async () => (await req(t, 'POST', '/api/v1/auth/login', { json: { username: u.username, password: u.password } })).body.token as string;
    const revoked = await login();
    const stale = await login();
    await ok(req(t, 'POST', '/api/v1/auth/logout', { token: revoked }), 200, 'logout');
    const fresh = await login();
    await ok(req(t, 'PATCH', '/api/v1/auth/password', { token: fresh, json: { current_password: u.password, new_password: 'an0therpass' } }), 200, 'pw');
    for (const tok of [revoked, stale]) {
      // header flow: HTTP 401 JSON, no upgrade
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(t.wsUrl, { headers: { authorization: `Bearer ${tok}` } });
        ws.on('unexpected-response', (_q, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => reject(new Error('revoked token upgraded')));
        ws.on('error', () => undefined);
      });
      expect(status).toBe(401);
      // first-message flow: one error frame, then closed, never user_online
      const c = await openWs(t);
      c.send('auth', { token: tok });
      const e = await c.waitFor('error');
      expect(e.payload.error).toBe('Token has been revoked. Please log in again.');
      await c.closed;
      expect(c.all('user_online')).toHaveLength(0);
      count('ws', 2);
    }
    // the token that changed the password still works on both flows
    (await connectWs(t, fresh, 'header')).close();
    (await connectWs(t, fresh, 'message')).close();
    count('ws', 2);
  });

  it('events for rooms the user is not in: error frames, nothing delivered to members, nothing stored', async () => {
    const ownerWs = await connectWs(t, owner.token);
    const memberWs = await connectWs(t, member.token);
    const spy = await connectWs(t, outsider.token);
    const ghost = randomUUID();
    try {
      for (const room of [priv, dm]) {
        const before = await dbFingerprint(t.ds);
        for (const [type, payload] of [
          ['join_room', { room_id: room }],
          ['leave_room', { room_id: room }],
          ['typing', { room_id: room }],
          ['stop_typing', { room_id: room }],
          ['send_message', { room_id: room, content: 'sneak' }],
        ] as [string, Record<string, unknown>][]) {
          spy.clear();
          spy.send(type, payload);
          const e = await spy.waitFor('error');
          // same answer as for a room that does not exist
          spy.clear();
          spy.send(type, { ...payload, room_id: ghost });
          const g = await spy.waitFor('error');
          expect(e.payload).toEqual(g.payload);
          count('ws');
        }
        spy.clear();
        spy.send('sync', { rooms: { [room]: 0 } });
        const se = await spy.waitFor('error');
        expect(se.payload.room_id).toBe(room);
        expect(spy.all('new_message')).toHaveLength(0);
        expect(spy.all('sync_done')).toHaveLength(0);
        expect(await dbFingerprint(t.ds)).toBe(before);
        count('ws');
      }
      // reply to a message of another room: refused, and a message of a room one cannot see
      // answers exactly like a random id
      memberWs.clear();
      memberWs.send('send_message', { room_id: pub, content: 'reply across rooms', reply_to_id: mPriv });
      const cross = await memberWs.waitFor('error');
      expect(cross.payload.error).toBe('reply_to_id must be a message in the same room');
      await ok(req(t, 'POST', `/api/v1/rooms/${pub}/join`, { token: outsider.token }), 200, 'outsider joins pub');
      spy.clear();
      spy.send('send_message', { room_id: pub, content: 'probe', reply_to_id: mDm });
      const a = await spy.waitFor('error');
      spy.clear();
      spy.send('send_message', { room_id: pub, content: 'probe', reply_to_id: randomUUID() });
      const b = await spy.waitFor('error');
      expect(a.payload).toEqual(b.payload);
      count('ws', 3);
      // the members saw none of it
      await sleep(300);
      for (const c of [ownerWs, memberWs]) {
        for (const type of ['typing', 'stop_typing', 'user_joined', 'user_left', 'new_message']) {
          expect(c.all(type).filter((f) => [priv, dm].includes(f.payload.room_id) && (f.payload.user_id === outsider.id || f.payload.sender_id === outsider.id))).toEqual([]);
        }
      }
      expect(ownerWs.all('new_message').filter((f) => f.payload.content === 'reply across rooms')).toEqual([]);
      // a legitimate typing event does reach the other members (the check can fail)
      memberWs.send('typing', { room_id: priv });
      await ownerWs.waitFor('typing', (p) => p.user_id === member.id && p.room_id === priv);
      expect(spy.all('typing')).toEqual([]);
    } finally {
      for (const c of [ownerWs, memberWs, spy]) c.close();
    }
  });

  it('a live socket loses the room when its user is removed: no more frames of that room', async () => {
    const extra = await registerUser(t, 'kick');
    await ok(req(t, 'POST', `/api/v1/rooms/${priv}/members`, { token: owner.token, json: { user_id: extra.id } }), 200, 'add');
    const c = await connectWs(t, extra.token);
    await ok(req(t, 'DELETE', `/api/v1/rooms/${priv}/members/${extra.id}`, { token: admin.token }), 200, 'kick');
    await sleep(200);
    c.clear();
    await ok(req(t, 'POST', `/api/v1/rooms/${priv}/messages`, { token: owner.token, json: { content: 'after the kick' } }), 201, 'send');
    await sleep(500);
    expect(c.all('new_message')).toEqual([]);
    c.close();
    count('ws');
  });
});
