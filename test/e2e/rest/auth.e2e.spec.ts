import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp, TEST_JWT_SECRET } from '../../setup/app';
import { http, registerUser, TestUser } from '../../setup/clients';
import { expectError, expectValidation, NIL_UUID, signJwt } from './helpers';

const USERNAME_409 = 'username must be 3-30 characters and contain only letters, numbers, and underscores';
const USERNAME_400 = 'username must be 3-30 characters: letters, numbers, underscores only';
const REVOKED = 'Token has been revoked. Please log in again.';

describe('REST auth and users (protocol §4.1, §4.2, Part A)', () => {
  let app: TestApp;
  let n = 0;
  const uniq = (p = 'r') => `${p}${Date.now().toString(36)}${(n++).toString(36)}`;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());
  afterEach(() => app.clock.reset());

  describe('POST /auth/register', () => {
    it('201 with a token and the own user object (email, default status, offline, no avatar)', async () => {
      const username = uniq('Reg');
      const r = await http(app, 'POST', '/api/v1/auth/register', { body: { username, email: `${username}@Example.com`, password: 'secret1' } });
      expect(r.status).toBe(201);
      expect(typeof r.body.token).toBe('string');
      expect(r.body.user).toMatchObject({
        username,
        email: `${username}@Example.com`,
        avatar: '',
        status: 'Hey there! I am using ChatApp',
        is_online: false,
      });
      expect(r.body.user.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.body.user.password).toBeUndefined();
      expect(r.body.user.username_changed_at).toBeUndefined();
      const claims = JSON.parse(Buffer.from(r.body.token.split('.')[1], 'base64url').toString());
      expect(claims).toMatchObject({ user_id: r.body.user.id, username });
      expect(claims.exp - claims.iat).toBe(7 * 24 * 3600);
      expect(typeof claims.jti).toBe('string');
      const stored = await app.ds.query('SELECT password FROM users WHERE id = $1', [r.body.user.id]);
      expect(stored[0].password).toMatch(/^\$2[aby]\$10\$/);
    });

    it('binding failures are 400 Validation failed', async () => {
      const ok = { username: uniq(), email: `${uniq()}@example.com`, password: 'passw0rd' };
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: {} }));
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: { ...ok, username: 'ab' } }));
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: { ...ok, username: 'a'.repeat(31) } }));
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: { ...ok, email: 'not-an-email' } }));
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: { ...ok, password: 'a1b2' } }));
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: { ...ok, username: 12345 } }));
      const { password: _p, ...noPassword } = ok;
      expectValidation(await http(app, 'POST', '/api/v1/auth/register', { body: noPassword }));
      expect(await app.ds.query('SELECT 1 FROM users WHERE username = $1', [ok.username])).toHaveLength(0);
    });

    it('format rules are 409 with the protocol texts', async () => {
      const email = `${uniq()}@example.com`;
      expectError(await http(app, 'POST', '/api/v1/auth/register', { body: { username: 'bad-name', email, password: 'passw0rd' } }), 409, USERNAME_409);
      expectError(
        await http(app, 'POST', '/api/v1/auth/register', { body: { username: uniq(), email, password: 'password' } }),
        409,
        'password must contain at least one letter and one number',
      );
      expectError(
        await http(app, 'POST', '/api/v1/auth/register', { body: { username: uniq(), email, password: '12345678' } }),
        409,
        'password must contain at least one letter and one number',
      );
      expectError(
        await http(app, 'POST', '/api/v1/auth/register', { body: { username: uniq(), email, password: 'a1' + 'x'.repeat(71) } }),
        409,
        'failed to hash password',
      );
    });

    it('e-mail and username are unique case-insensitively (409)', async () => {
      const u = await registerUser(app, 'dup');
      expectError(
        await http(app, 'POST', '/api/v1/auth/register', { body: { username: uniq(), email: u.email.toUpperCase(), password: 'passw0rd' } }),
        409,
        'email already registered',
      );
      expectError(
        await http(app, 'POST', '/api/v1/auth/register', { body: { username: u.username.toUpperCase(), email: `${uniq()}@example.com`, password: 'passw0rd' } }),
        409,
        'username already taken',
      );
    });

    it('unknown keys are ignored', async () => {
      const username = uniq();
      const r = await http(app, 'POST', '/api/v1/auth/register', {
        body: { username, email: `${username}@example.com`, password: 'passw0rd', is_admin: true, id: NIL_UUID },
      });
      expect(r.status).toBe(201);
      expect(r.body.user.id).not.toBe(NIL_UUID);
    });
  });

  describe('POST /auth/login', () => {
    let u: TestUser;
    beforeAll(async () => {
      u = await registerUser(app, 'login');
    });

    it('by e-mail or by username, case-insensitively; the own user object carries the e-mail', async () => {
      for (const body of [
        { email: u.email, password: u.password },
        { email: u.email.toUpperCase(), password: u.password },
        { username: u.username, password: u.password },
        { username: u.username.toUpperCase(), password: u.password },
        { email: u.email, username: 'someone-else', password: u.password },
      ]) {
        const r = await http(app, 'POST', '/api/v1/auth/login', { body });
        expect({ body, status: r.status }).toEqual({ body, status: 200 });
        expect(typeof r.body.token).toBe('string');
        expect(r.body.user).toMatchObject({ id: u.id, username: u.username, email: u.email });
      }
      const me = await http(app, 'GET', '/api/v1/auth/me', {
        token: (await http(app, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: u.password } })).body.token,
      });
      expect(me.body.id).toBe(u.id);
      // logging in over REST opens no socket: the user is not shown online
      expect(me.body.is_online).toBe(false);
      const seen = await http(app, 'GET', `/api/v1/users/${u.id}`, { token: (await registerUser(app, 'viewer')).token });
      expect(seen.body.is_online).toBe(false);
    });

    it('401 for missing identifier, wrong password, unknown user; 400 without password', async () => {
      expectError(await http(app, 'POST', '/api/v1/auth/login', { body: { password: 'x' } }), 401, 'email or username is required');
      expectError(await http(app, 'POST', '/api/v1/auth/login', { body: { email: '', username: '', password: 'x' } }), 401, 'email or username is required');
      expectError(await http(app, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: 'wrong1' } }), 401, 'invalid credentials');
      expectError(await http(app, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'wrong1' } }), 401, 'invalid credentials');
      expectError(await http(app, 'POST', '/api/v1/auth/login', { body: { email: 'nobody@example.com', password: 'passw0rd' } }), 401, 'invalid credentials');
      expectValidation(await http(app, 'POST', '/api/v1/auth/login', { body: { email: u.email } }));
      expectValidation(await http(app, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: '' } }));
    });
  });

  describe('the bearer check on protected routes (§2.2, Part A3)', () => {
    it('the four 401 texts', async () => {
      const u = await registerUser(app, 'tok');
      expectError(await http(app, 'GET', '/api/v1/auth/me'), 401, 'Authorization header is required');
      for (const h of ['Token abc', 'bearer ' + u.token, 'Bearer', 'Bearer ', u.token]) {
        expectError(await http(app, 'GET', '/api/v1/auth/me', { headers: { authorization: h } }), 401, 'Invalid authorization format. Use: Bearer <token>');
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = { user_id: u.id, username: u.username, jti: randomUUID(), iat: now, exp: now + 3600 };
      const invalid = [
        'garbage',
        signJwt({ ...claims, iat: now - 7200, exp: now - 3600 }, TEST_JWT_SECRET),
        signJwt(claims, 'another-secret-0123456789-0123456789-xx'),
        signJwt(claims, TEST_JWT_SECRET, 'none'),
        signJwt(claims, TEST_JWT_SECRET, 'HS512'),
        signJwt({ ...claims, exp: undefined }, TEST_JWT_SECRET),
        signJwt({ ...claims, user_id: 'not-a-uuid' }, TEST_JWT_SECRET),
      ];
      for (const t of invalid) {
        expectError(await http(app, 'GET', '/api/v1/auth/me', { token: t }), 401, 'Invalid or expired token');
      }
      // a well-formed token we signed ourselves is accepted (the claims are the protocol's)
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: signJwt({ ...claims, tv: 0 }, TEST_JWT_SECRET) })).status).toBe(200);
    });

    it('401s consume no rate-limit budget and are JSON', async () => {
      const r = await http(app, 'GET', '/api/v1/rooms/me', { token: 'x.y.z' });
      expectError(r, 401, 'Invalid or expired token');
    });
  });

  describe('POST /auth/logout', () => {
    it('revokes exactly the presented token, stored in token_blacklists', async () => {
      const u = await registerUser(app, 'out');
      const other = (await http(app, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password } })).body.token as string;
      const r = await http(app, 'POST', '/api/v1/auth/logout', { token: u.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Logged out successfully' });
      const me = await http(app, 'GET', '/api/v1/auth/me', { token: u.token });
      expectError(me, 401, REVOKED);
      expect(me.body.error).toContain('revoked');
      expectError(await http(app, 'POST', '/api/v1/auth/logout', { token: u.token }), 401, REVOKED);
      expectError(await http(app, 'GET', '/api/v1/rooms', { token: u.token }), 401, REVOKED);
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: other })).status).toBe(200);
      const jti = JSON.parse(Buffer.from(u.token.split('.')[1], 'base64url').toString()).jti;
      const rows = await app.ds.query('SELECT expires_at FROM token_blacklists WHERE jti = $1', [jti]);
      expect(rows).toHaveLength(1);
      expect(new Date(rows[0].expires_at).getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    });

    it('without a token: 401', async () => {
      expectError(await http(app, 'POST', '/api/v1/auth/logout'), 401, 'Authorization header is required');
    });
  });

  describe('GET/PATCH /auth/me', () => {
    it('GET returns the own user with e-mail', async () => {
      const u = await registerUser(app, 'me');
      const r = await http(app, 'GET', '/api/v1/auth/me', { token: u.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: u.id, username: u.username, email: u.email, status: 'Hey there! I am using ChatApp' });
    });

    it('a token of a deleted user: 401 or 404, never 5xx', async () => {
      const u = await registerUser(app, 'gone');
      await app.ds.query('DELETE FROM users WHERE id = $1', [u.id]);
      const r = await http(app, 'GET', '/api/v1/auth/me', { token: u.token });
      expect([401, 404]).toContain(r.status);
      expect(typeof r.body.error).toBe('string');
    });

    it('PATCH changes only non-empty fields; avatar must be an upload of this server', async () => {
      const u = await registerUser(app, 'prof');
      const r = await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: { status: 'Testing the API' } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: u.id, status: 'Testing the API', email: u.email, avatar: '' });
      const same = await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: { status: '', avatar: '' } });
      expect(same.status).toBe(200);
      expect(same.body.status).toBe('Testing the API');
      expect((await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: {} })).body.status).toBe('Testing the API');
      for (const avatar of ['https://evil.example/x.png', '/static/uploads/../../etc/passwd', `/static/uploads/${randomUUID()}.png`]) {
        expectError(
          await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: { avatar } }),
          400,
          'avatar must be the URL of a file uploaded to this server',
        );
      }
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: { status: 'x'.repeat(201) } }));
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: { status: 42 } }));
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')]), 'me.png');
      const up = await http(app, 'POST', '/api/v1/upload', { token: u.token, raw: form });
      expect(up.status).toBe(200);
      const withAvatar = await http(app, 'PATCH', '/api/v1/auth/me', { token: u.token, body: { avatar: up.body.url } });
      expect(withAvatar.status).toBe(200);
      expect(withAvatar.body.avatar).toBe(up.body.url);
    });
  });

  describe('PATCH /auth/username', () => {
    it('first change free, then a 6-hour cooldown (injectable clock); own name again allowed after it', async () => {
      const u = await registerUser(app, 'ren');
      const first = uniq('Renamed');
      const r = await http(app, 'PATCH', '/api/v1/auth/username', { token: u.token, body: { username: first } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: u.id, username: first, email: u.email });
      const again = await http(app, 'PATCH', '/api/v1/auth/username', { token: u.token, body: { username: uniq() } });
      expectError(again, 400, /^username can only be changed every 6 hours\. Try again in 5h 5[89]m$/);
      app.clock.advance(4 * 3600 * 1000 + 30 * 60 * 1000);
      expectError(
        await http(app, 'PATCH', '/api/v1/auth/username', { token: u.token, body: { username: uniq() } }),
        400,
        /^username can only be changed every 6 hours\. Try again in 1h 2[89]m$/,
      );
      app.clock.advance(2 * 3600 * 1000);
      const later = await http(app, 'PATCH', '/api/v1/auth/username', { token: u.token, body: { username: first.toLowerCase() } });
      expect(later.status).toBe(200);
      expect(later.body.username).toBe(first.toLowerCase());
      // the token was not revoked by the rename
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: u.token })).body.username).toBe(first.toLowerCase());
    });

    it('format, uniqueness (case-insensitive) and binding errors', async () => {
      const a = await registerUser(app, 'una');
      const b = await registerUser(app, 'unb');
      expectError(await http(app, 'PATCH', '/api/v1/auth/username', { token: a.token, body: { username: 'bad name' } }), 400, USERNAME_400);
      expectError(await http(app, 'PATCH', '/api/v1/auth/username', { token: a.token, body: { username: b.username.toUpperCase() } }), 400, 'username already taken');
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/username', { token: a.token, body: { username: 'ab' } }));
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/username', { token: a.token, body: {} }));
      // failed attempts do not start the cooldown
      expect((await http(app, 'PATCH', '/api/v1/auth/username', { token: a.token, body: { username: uniq() } })).status).toBe(200);
    });
  });

  describe('PATCH /auth/email', () => {
    it('needs the current password; unique case-insensitively; 200 with the new e-mail', async () => {
      const a = await registerUser(app, 'ema');
      const b = await registerUser(app, 'emb');
      const email = `${uniq('new')}@example.com`;
      expectError(await http(app, 'PATCH', '/api/v1/auth/email', { token: a.token, body: { email, current_password: 'wrong1' } }), 400, 'incorrect current password');
      expectError(
        await http(app, 'PATCH', '/api/v1/auth/email', { token: a.token, body: { email: b.email.toUpperCase(), current_password: a.password } }),
        400,
        'email already in use',
      );
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/email', { token: a.token, body: { email: 'nope', current_password: a.password } }));
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/email', { token: a.token, body: { email } }));
      const r = await http(app, 'PATCH', '/api/v1/auth/email', { token: a.token, body: { email, current_password: a.password } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: a.id, email });
      expect((await http(app, 'POST', '/api/v1/auth/login', { body: { email, password: a.password } })).status).toBe(200);
      // the own address in another case is fine
      expect((await http(app, 'PATCH', '/api/v1/auth/email', { token: a.token, body: { email: email.toUpperCase(), current_password: a.password } })).status).toBe(200);
      // not a revocation
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: a.token })).status).toBe(200);
    });
  });

  describe('PATCH /auth/password', () => {
    it('errors in the protocol order', async () => {
      const u = await registerUser(app, 'pwe');
      expectError(
        await http(app, 'PATCH', '/api/v1/auth/password', { token: u.token, body: { current_password: 'wrong1', new_password: 'nodigits' } }),
        400,
        'incorrect current password',
      );
      expectError(
        await http(app, 'PATCH', '/api/v1/auth/password', { token: u.token, body: { current_password: u.password, new_password: 'nodigits' } }),
        400,
        'new password must contain at least one letter and one number',
      );
      expectError(
        await http(app, 'PATCH', '/api/v1/auth/password', { token: u.token, body: { current_password: u.password, new_password: 'a1' + 'é'.repeat(40) } }),
        400,
        'failed to hash password',
      );
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/password', { token: u.token, body: { current_password: u.password, new_password: 'a1' } }));
      expectValidation(await http(app, 'PATCH', '/api/v1/auth/password', { token: u.token, body: { new_password: 'abc123' } }));
      expect((await http(app, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password } })).status).toBe(200);
    });

    it('changes the password and revokes every other token of the user, not the caller', async () => {
      const u = await registerUser(app, 'pw');
      const login = async (password: string) => http(app, 'POST', '/api/v1/auth/login', { body: { username: u.username, password } });
      const phone = (await login(u.password)).body.token as string;
      const laptop = (await login(u.password)).body.token as string;
      const other = await registerUser(app, 'pwo');
      const r = await http(app, 'PATCH', '/api/v1/auth/password', { token: laptop, body: { current_password: u.password, new_password: 'newpass9' } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Password updated successfully' });
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: laptop })).status).toBe(200);
      for (const t of [phone, u.token]) {
        const me = await http(app, 'GET', '/api/v1/auth/me', { token: t });
        expect(me.status).toBe(401);
        expect(me.body.error).toContain('revoked');
      }
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: other.token })).status).toBe(200);
      expectError(await login(u.password), 401, 'invalid credentials');
      const fresh = await login('newpass9');
      expect(fresh.status).toBe(200);
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: fresh.body.token })).status).toBe(200);
    });
  });

  describe('GET /users/search and /users/:id', () => {
    it('search: empty q → [], case-insensitive substring, excludes self, no e-mail of others, at most 20', async () => {
      const tag = uniq('Srch');
      const me = await registerUser(app, tag);
      const others: TestUser[] = [];
      for (let i = 0; i < 21; i++) others.push(await registerUser(app, tag));
      expect((await http(app, 'GET', '/api/v1/users/search', { token: me.token })).body).toEqual({ data: [] });
      expect((await http(app, 'GET', '/api/v1/users/search?q=', { token: me.token })).body).toEqual({ data: [] });
      const r = await http(app, 'GET', `/api/v1/users/search?q=${tag.toLowerCase()}`, { token: me.token });
      expect(r.status).toBe(200);
      expect(r.body.data).toHaveLength(20);
      for (const x of r.body.data) {
        expect(x.username.toLowerCase()).toContain(tag.toLowerCase());
        expect(x.id).not.toBe(me.id);
        expect(x.email).toBeUndefined();
        expect(x.password).toBeUndefined();
      }
      const exact = await http(app, 'GET', `/api/v1/users/search?q=${others[3].username.toUpperCase()}`, { token: me.token });
      expect(exact.body.data.map((x: { id: string }) => x.id)).toEqual([others[3].id]);
    });

    it('search escapes % and _', async () => {
      const me = await registerUser(app, 'esc');
      const under = uniq('x_');
      await http(app, 'POST', '/api/v1/auth/register', { body: { username: under, email: `${under}@example.com`, password: 'passw0rd' } });
      expect((await http(app, 'GET', '/api/v1/users/search?q=%25', { token: me.token })).body.data).toEqual([]);
      const u = await http(app, 'GET', '/api/v1/users/search?q=_', { token: me.token });
      expect(u.body.data.length).toBeGreaterThan(0);
      for (const x of u.body.data) expect(x.username).toContain('_');
    });

    it('GET /users/:id: other users without e-mail, self with e-mail, 400 and 404', async () => {
      const a = await registerUser(app, 'ida');
      const b = await registerUser(app, 'idb');
      const other = await http(app, 'GET', `/api/v1/users/${b.id}`, { token: a.token });
      expect(other.status).toBe(200);
      expect(other.body).toMatchObject({ id: b.id, username: b.username, status: 'Hey there! I am using ChatApp' });
      expect(other.body.email).toBeUndefined();
      expect((await http(app, 'GET', `/api/v1/users/${a.id}`, { token: a.token })).body.email).toBe(a.email);
      expect((await http(app, 'GET', `/api/v1/users/${b.id.replace(/-/g, '').toUpperCase()}`, { token: a.token })).body.id).toBe(b.id);
      expectError(await http(app, 'GET', '/api/v1/users/not-a-uuid', { token: a.token }), 400, 'Invalid user ID');
      expectError(await http(app, 'GET', `/api/v1/users/${NIL_UUID}`, { token: a.token }), 404, 'User not found');
      expectError(await http(app, 'GET', `/api/v1/users/${b.id}`), 401, 'Authorization header is required');
    });
  });
});
