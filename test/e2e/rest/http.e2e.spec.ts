import { createTestApp, TestApp } from '../../setup/app';
import { http, registerUser } from '../../setup/clients';
import { databaseBehindProxy, ProxiedDatabase } from '../../support/tcp-proxy';
import { expectError } from './helpers';

const CORS_HEADERS = {
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers': 'Origin, Content-Type, Authorization, X-Request-ID',
  'access-control-max-age': '86400',
};
const TOO_MANY = { error: 'Too many requests', retry_after: '60s' };

describe('HTTP conventions: CORS, request ids, body errors, health, readiness (§0, §1)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('GET /health: exact body, no auth; GET /ready: database ok', async () => {
    const h = await http(app, 'GET', '/health');
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: 'ok', service: 'chatapp' });
    expect(h.headers.get('content-type')).toMatch(/^application\/json/);
    const r = await http(app, 'GET', '/ready');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', checks: { database: 'ok', realtime: 'ok' } });
  });

  it('CORS: allow-listed origins get exactly the protocol headers on any response', async () => {
    for (const origin of ['http://localhost:3000', 'http://localhost:8080']) {
      const r = await http(app, 'GET', '/health', { headers: { origin } });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      expect(r.headers.get('vary')).toMatch(/Origin/);
      for (const [k, v] of Object.entries(CORS_HEADERS)) expect(r.headers.get(k)).toBe(v);
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
      // on errors too
      const e = await http(app, 'GET', '/api/v1/auth/me', { headers: { origin } });
      expect(e.status).toBe(401);
      expect(e.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('CORS: other origins get no CORS headers but are still served (no 403)', async () => {
    for (const origin of ['https://evil.com', 'http://localhost:3000/', 'HTTP://LOCALHOST:3000', 'null']) {
      const r = await http(app, 'GET', '/health', { headers: { origin } });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      expect(r.headers.get('access-control-allow-methods')).toBeNull();
    }
  });

  it('every OPTIONS is 204 with an empty body, before auth and routing', async () => {
    const cases: [string, string | undefined][] = [
      ['/api/v1/auth/login', 'http://localhost:3000'],
      ['/api/v1/rooms', 'https://evil.com'],
      ['/api/v1/no/such/route', undefined],
      ['/whatever', 'http://localhost:8080'],
      ['/api/v1/messages/not-a-uuid', 'http://localhost:3000'],
    ];
    for (const [path, origin] of cases) {
      const r = await http(app, 'OPTIONS', path, { headers: origin ? { origin, 'access-control-request-method': 'POST' } : {} });
      expect({ path, status: r.status, text: r.text }).toEqual({ path, status: 204, text: '' });
      expect(r.headers.get('x-request-id')).toBeTruthy();
      expect(r.headers.get('access-control-allow-origin')).toBe(origin && origin.startsWith('http://localhost') ? origin : null);
    }
  });

  it('X-Request-ID: echoed when sane, generated otherwise, on every response', async () => {
    const echoed = await http(app, 'GET', '/health', { headers: { 'x-request-id': 'req-123.abc:x' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-123.abc:x');
    const generated = await http(app, 'GET', '/health');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const hostile = await http(app, 'GET', '/health', { headers: { 'x-request-id': 'a b<script>' + 'x'.repeat(200) } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v1/auth/me'],
      ['POST', '/api/v1/auth/login'],
    ]) {
      const r = await http(app, method, path, { headers: { 'x-request-id': 'trace-42' } });
      expect(r.headers.get('x-request-id')).toBe('trace-42');
    }
  });

  it('unknown routes and wrong methods are 404 JSON; nosniff everywhere', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['DELETE', '/api/v1/auth/login'],
      ['PUT', '/api/v1/rooms'],
    ]) {
      const r = await http(app, method, path);
      expect({ method, path, status: r.status, error: r.body.error }).toEqual({ method, path, status: 404, error: '404 page not found' });
    }
    expect((await http(app, 'GET', '/health')).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('malformed, non-object and oversize JSON bodies are 4xx JSON, never 5xx', async () => {
    const malformed = await http(app, 'POST', '/api/v1/auth/login', { raw: '{"email": "a@b.c", "password": ', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('Validation failed');
    const u = await registerUser(app, 'body');
    const bad = await http(app, 'POST', '/api/v1/rooms', { token: u.token, raw: '{name:', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('Validation failed');
    for (const raw of ['[]', '"str"', '123', 'null', '[{"name":"abc"}]']) {
      const r = await http(app, 'POST', '/api/v1/rooms', { token: u.token, raw, headers: { 'content-type': 'application/json' } });
      expect({ raw, status: r.status, isError: typeof r.body.error === 'string' }).toEqual({ raw, status: 400, isError: true });
    }
    const big = await http(app, 'POST', '/api/v1/rooms', { token: u.token, body: { name: 'big', description: 'x'.repeat(100_000) } });
    expect(big.status).toBe(413);
    expect(typeof big.body.error).toBe('string');
    // the content type is not checked: JSON sent as text/plain is still read (as the original)
    const plain = await http(app, 'POST', '/api/v1/rooms', { token: u.token, raw: JSON.stringify({ name: 'plain room' }), headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(201);
    expect(plain.body.name).toBe('plain room');
  });

  it('odd ids, repeated query keys and wrongly typed bodies never give 5xx', async () => {
    const u = await registerUser(app, 'odd');
    const room = (await http(app, 'POST', '/api/v1/rooms', { token: u.token, body: { name: 'odd room' } })).body.id;
    const ids = ['%00', '%F0%9F%98%80', 'x'.repeat(5000), '..%2F..%2Fetc', "1'%20OR%201=1", '00000000-0000-0000-0000-00000000000g'];
    const requests: [string, string, unknown?][] = [];
    for (const id of ids) {
      requests.push(['GET', `/api/v1/rooms/${id}`], ['GET', `/api/v1/users/${id}`], ['PATCH', `/api/v1/messages/${id}`, { content: 'x' }]);
      requests.push(['DELETE', `/api/v1/rooms/${room}/members/${id}`], ['GET', `/api/v1/rooms/${id}/messages?page=1`]);
    }
    requests.push(
      ['GET', `/api/v1/rooms?page=1&page=2&limit[]=3`],
      ['GET', `/api/v1/rooms/${room}/messages?limit[a]=1&page=%00`],
      ['GET', '/api/v1/users/search?q=a&q=b'],
      ['GET', `/api/v1/users/search?q=${'%25'.repeat(300)}`],
      ['POST', '/api/v1/rooms', { name: { $gt: '' } }],
      ['POST', '/api/v1/rooms', { name: ['abc'] }],
      ['POST', '/api/v1/dm', { recipient_id: { id: u.id } }],
      ['POST', `/api/v1/rooms/${room}/members`, { user_id: [u.id] }],
      ['POST', `/api/v1/rooms/${room}/messages`, { content: { text: 'x' } }],
      ['POST', `/api/v1/rooms/${room}/messages`, { content: 'x', reply_to_id: 12 }],
      ['PATCH', '/api/v1/auth/me', { status: ['x'], avatar: null }],
      ['PATCH', '/api/v1/auth/username', { username: null }],
      ['POST', '/api/v1/auth/login', { email: ['a@b.c'], password: 'x' }],
      ['POST', '/api/v1/auth/register', { username: 'abc', email: 'a@b.c', password: { toString: 'x' } }],
      ['POST', '/api/v1/auth/login', { username: 'x'.repeat(10_000), password: 'x' }],
    );
    const failures: string[] = [];
    for (const [method, path, body] of requests) {
      const r = await http(app, method, path, { token: u.token, body });
      const ok = r.status < 500 && (r.status < 300 || typeof r.body.error === 'string');
      if (!ok) failures.push(`${method} ${path.slice(0, 80)} → ${r.status} ${r.text.slice(0, 100)}`);
    }
    expect(failures).toEqual([]);
  });

  it('validation errors are 400 {"error":"Validation failed","details"} JSON', async () => {
    const u = await registerUser(app, 'val');
    const r = await http(app, 'POST', '/api/v1/rooms', { token: u.token, body: { name: 'ab' } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body.error).toBe('Validation failed');
    expect(r.body.details).toBeDefined();
    expect(JSON.stringify(r.body.details)).toContain('name');
  });
});

describe('rate limits (§1.3, Part A8)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ RATE_LIMIT_AUTH_PER_MIN: '10', RATE_LIMIT_API_PER_MIN: '5' });
  });
  afterAll(() => app.close());

  it('register + login share 10 per minute per socket address; the 11th is 429 JSON whatever X-Forwarded-For says', async () => {
    const results: number[] = [];
    for (let i = 0; i < 10; i++) {
      const path = i % 2 ? '/api/v1/auth/login' : '/api/v1/auth/register';
      const r = await http(app, 'POST', path, { body: { username: `rl${i}x`, email: `rl${i}@example.com`, password: 'passw0rd' }, headers: { 'x-forwarded-for': `10.0.0.${i}` } });
      results.push(r.status);
    }
    expect(results).not.toContain(429);
    for (const xff of [undefined, '10.9.9.9', '1.2.3.4, 5.6.7.8']) {
      const r = await http(app, 'POST', '/api/v1/auth/login', { body: { username: 'rl1x', password: 'passw0rd' }, headers: xff ? { 'x-forwarded-for': xff, 'x-real-ip': '8.8.8.8' } : {} });
      expect(r.status).toBe(429);
      expect(r.body).toEqual(TOO_MANY);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it('the protected API has its own budget; 401s, OPTIONS and /health cost nothing', async () => {
    // the auth limiter is exhausted by the previous test: issue a token for rl0x directly
    const token = await tokenFor(app, 'rl0x');
    for (let i = 0; i < 10; i++) {
      expect((await http(app, 'GET', '/api/v1/auth/me', { token: 'bad' })).status).toBe(401);
      expect((await http(app, 'OPTIONS', '/api/v1/auth/me')).status).toBe(204);
      expect((await http(app, 'GET', '/health')).status).toBe(200);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await http(app, 'GET', '/api/v1/auth/me', { token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const r = await http(app, 'GET', '/api/v1/rooms', { token });
    expect(r.status).toBe(429);
    expect(r.body).toEqual(TOO_MANY);
  });
});

/** Issues a token through the app's own TokenService (the auth limiter is exhausted in that test). */
async function tokenFor(app: TestApp, username: string): Promise<string> {
  const { TokenService } = await import('../../../src/modules/auth/token.service');
  const [row] = await app.ds.query('SELECT id, username, token_version FROM users WHERE username = $1', [username]);
  return app.app.get(TokenService).issue({ id: row.id, username: row.username, tokenVersion: row.token_version ?? 0 });
}

describe('rate limits behind a trusted proxy (TRUST_PROXY)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ RATE_LIMIT_AUTH_PER_MIN: '10', TRUST_PROXY: 'loopback' });
  });
  afterAll(() => app.close());

  it('keys on the X-Forwarded-For client address', async () => {
    const login = (ip: string) => http(app, 'POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'x1' }, headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 10; i++) expect((await login('203.0.113.7')).status).toBe(401);
    expect((await login('203.0.113.7')).body).toEqual(TOO_MANY);
    expect((await login('203.0.113.8')).status).toBe(401);
  });
});

describe('readiness with the database down', () => {
  let app: TestApp;
  let db: ProxiedDatabase;
  beforeAll(async () => {
    db = await databaseBehindProxy();
    app = await createTestApp({ DB_QUERY_TIMEOUT_MS: '1500' }, { dbUrl: db.url });
  });
  afterAll(() => db.close(() => app.close()));

  it('/ready is 503 while the database is unreachable, /health stays 200, and it recovers', async () => {
    expect((await http(app, 'GET', '/ready')).status).toBe(200);
    await db.proxy.cut();
    const r = await http(app, 'GET', '/ready');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'not ready', checks: { database: 'down' } });
    expect((await http(app, 'GET', '/health')).status).toBe(200);
    // a request that needs the database fails as 503 JSON, not 500 and not a hang
    const login = await http(app, 'POST', '/api/v1/auth/login', { body: { username: 'someone', password: 'passw0rd' } });
    expect(login.status).toBe(503);
    expect(typeof login.body.error).toBe('string');
    await db.proxy.restore();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await http(app, 'GET', '/ready')).status;
      if (status !== 200) await new Promise((res) => setTimeout(res, 100));
    }
    expect(status).toBe(200);
  });
});
