import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createTestApp, TestApp } from '../setup/app';
import { registerUser, TestUser } from '../setup/clients';
import { BAD_IDS, budget, caseCounter, dbFingerprint, expectClientError, expectNo5xx, heapAfterGc, req, Res, RUNS_FACTOR } from './helpers';

/**
 * Hostile input on every REST endpoint: a fixed corpus and fast-check properties. Every rejected
 * request is a 4xx JSON error in the protocol's shape, never a 5xx or a hang, and writes nothing
 * (the digest of every table is unchanged).
 */
jest.setTimeout(120_000 * RUNS_FACTOR);

let t: TestApp;
let owner: TestUser; // owns the room, sent the message: requests get past the access checks to validation
let other: TestUser;
let roomId: string;
let msgId: string;
const { counts, count } = caseCounter();

interface Endpoint {
  method: string;
  path: () => string;
  /** body fields the endpoint reads (for structured fuzzing) */
  fields: string[];
  auth: boolean;
}

const endpoints = (): Endpoint[] => [
  { method: 'POST', path: () => '/api/v1/auth/register', fields: ['username', 'email', 'password'], auth: false },
  { method: 'POST', path: () => '/api/v1/auth/login', fields: ['email', 'username', 'password'], auth: false },
  { method: 'PATCH', path: () => '/api/v1/auth/me', fields: ['status', 'avatar'], auth: true },
  { method: 'PATCH', path: () => '/api/v1/auth/username', fields: ['username'], auth: true },
  { method: 'PATCH', path: () => '/api/v1/auth/email', fields: ['email', 'current_password'], auth: true },
  { method: 'PATCH', path: () => '/api/v1/auth/password', fields: ['current_password', 'new_password'], auth: true },
  { method: 'POST', path: () => '/api/v1/rooms', fields: ['name', 'description', 'type'], auth: true },
  { method: 'POST', path: () => `/api/v1/rooms/${roomId}/members`, fields: ['user_id'], auth: true },
  { method: 'PATCH', path: () => `/api/v1/rooms/${roomId}/members/${other.id}`, fields: ['role'], auth: true },
  { method: 'POST', path: () => `/api/v1/rooms/${roomId}/messages`, fields: ['content', 'type', 'reply_to_id', 'file_url', 'file_name', 'file_size', 'client_msg_id'], auth: true },
  { method: 'PATCH', path: () => `/api/v1/messages/${msgId}`, fields: ['content'], auth: true },
  { method: 'POST', path: () => '/api/v1/dm', fields: ['recipient_id'], auth: true },
];

/** Every route with an :id, for path fuzzing (the id replaced by garbage). */
const idRoutes: [string, (id: string) => string][] = [
  ['GET', (id) => `/api/v1/users/${id}`],
  ['GET', (id) => `/api/v1/rooms/${id}`],
  ['DELETE', (id) => `/api/v1/rooms/${id}`],
  ['POST', (id) => `/api/v1/rooms/${id}/join`],
  ['POST', (id) => `/api/v1/rooms/${id}/leave`],
  ['POST', (id) => `/api/v1/rooms/${id}/read`],
  ['GET', (id) => `/api/v1/rooms/${id}/messages`],
  ['POST', (id) => `/api/v1/rooms/${id}/messages`],
  ['GET', (id) => `/api/v1/rooms/${id}/changes?after=0`],
  ['POST', (id) => `/api/v1/rooms/${id}/members`],
  ['DELETE', (id) => `/api/v1/rooms/${roomId}/members/${id}`],
  ['PATCH', (id) => `/api/v1/rooms/${roomId}/members/${id}`],
  ['DELETE', (id) => `/api/v1/rooms/${id}/members/${other.id}`],
  ['PATCH', (id) => `/api/v1/messages/${id}`],
  ['DELETE', (id) => `/api/v1/messages/${id}`],
];

let fp = '';
/** Sends, checks "no 5xx / error shape", and that a rejected request changed no row. */
async function probe(family: string, method: string, path: string, opts: Parameters<typeof req>[3], mustReject: boolean): Promise<Res> {
  const r = await req(t, method, path, opts);
  count(family);
  const what = `${family}: ${method} ${path.slice(0, 120)} ${JSON.stringify(opts?.json ?? opts?.raw ?? '').slice(0, 200)}`;
  const before = fp;
  fp = await dbFingerprint(t.ds);
  if (mustReject) expectClientError(r, what);
  else expectNo5xx(r, what);
  if (r.status >= 400 && fp !== before) throw new Error(`${what}: rejected with ${r.status} but the database changed`);
  return r;
}

beforeAll(async () => {
  t = await createTestApp();
  owner = await registerUser(t, 'own');
  other = await registerUser(t, 'oth');
  const room = await req(t, 'POST', '/api/v1/rooms', { token: owner.token, json: { name: 'battery room' } });
  roomId = room.body.id;
  await req(t, 'POST', `/api/v1/rooms/${roomId}/join`, { token: other.token });
  const m = await req(t, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: owner.token, json: { content: 'first' } });
  expect(m.status).toBe(201);
  msgId = m.body.id;
  fp = await dbFingerprint(t.ds);
});

afterAll(async () => {
  await t?.close();
  // eslint-disable-next-line no-console
  console.log(`bad-input REST cases run: ${JSON.stringify(counts)}`);
});

describe('REST hostile input: fixed corpus', () => {
  it('malformed JSON, wrong top-level types and oversize bodies on every body endpoint → 4xx JSON, nothing written', async () => {
    const raws = [
      '{',
      '{"a":',
      "{'username':'x'}",
      '{"username":"a",}',
      'null',
      'true',
      '42',
      '"string"',
      '[]',
      '[{"username":"abc"}]',
      '\u0000',
      '\xff\xfe{',
      JSON.stringify({ x: 'y'.repeat(70 * 1024) }), // over the 64 kB body limit
      '{"name":"deep","x":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}', // deep nesting, under the size limit
      '{"name":"deep","x":' + '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000) + '}',
    ];
    for (const e of endpoints()) {
      for (const raw of raws) {
        await probe('corpus-body', e.method, e.path(), { token: e.auth ? owner.token : undefined, raw }, true);
      }
    }
    // odd encodings and content types
    const odd: Record<string, string>[] = [
      { 'content-type': 'application/json; charset=utf-16' },
      { 'content-type': 'application/json; charset=koi8-r' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { 'content-type': 'application/json', 'content-encoding': 'br, zstd, x-unknown' },
      { 'content-type': 'text/plain' },
    ];
    for (const e of endpoints()) {
      for (const headers of odd) {
        await probe('corpus-body', e.method, e.path(), { token: e.auth ? owner.token : undefined, raw: '{"name":"x\u0000\ud800"', headers }, true);
      }
    }
    // the oversize body is 413 exactly, with a JSON body
    const big = await req(t, 'POST', '/api/v1/rooms', { token: owner.token, raw: JSON.stringify({ name: 'x'.repeat(200 * 1024) }) });
    expect(big.status).toBe(413);
    expectClientError(big, 'oversize');
    // a 5 MB body with a lying content-length never hangs
    const huge = await req(t, 'POST', '/api/v1/auth/login', { raw: 'a'.repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
  });

  it('wrong types, missing fields, prototype keys and oversize strings per field → 4xx, nothing written', async () => {
    const wrong: unknown[] = [null, 123, -1, 1e308, true, [], ['a'], {}, { $gt: '' }, '', 'x'.repeat(10_000)];
    for (const e of endpoints()) {
      const token = e.auth ? owner.token : undefined;
      const isProfile = e.path() === '/api/v1/auth/me'; // every field optional: {} is a no-op success
      await probe('corpus-fields', e.method, e.path(), { token, json: {} }, !isProfile);
      for (const f of e.fields) {
        for (const v of wrong) {
          await probe('corpus-fields', e.method, e.path(), { token, json: { [f]: v } }, !(isProfile && (v === '' || v === null)));
        }
      }
      // prototype pollution attempts: rejected or ignored, and never pollute the server
      for (const raw of ['{"__proto__":{"role":"admin","content":"x"}}', '{"constructor":{"prototype":{"isAdmin":true}}}']) {
        await probe('corpus-proto', e.method, e.path(), { token, raw }, false);
      }
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    // still works afterwards, as the same user
    const me = await req(t, 'GET', '/api/v1/auth/me', { token: owner.token });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(owner.id);
    expect(me.body.role).toBeUndefined();
  });

  it('invalid path ids → 400; odd-but-valid forms (uppercase, braces, no dashes, urn, nil) behave like the canonical id', async () => {
    for (const [method, path] of idRoutes) {
      for (const id of BAD_IDS) {
        const r = await probe('corpus-ids', method, path(id), { token: owner.token }, true);
        expect([400, 404]).toContain(r.status);
      }
    }
    const canonical = await req(t, 'GET', `/api/v1/rooms/${roomId}`, { token: owner.token });
    expect(canonical.status).toBe(200);
    const forms = [roomId.toUpperCase(), `{${roomId}}`, roomId.replace(/-/g, ''), `urn:uuid:${roomId}`];
    for (const f of forms) {
      const r = await probe('corpus-ids', 'GET', `/api/v1/rooms/${encodeURIComponent(f)}`, { token: owner.token }, false);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(roomId);
    }
    const missing = await req(t, 'GET', `/api/v1/rooms/${randomUUID()}`, { token: owner.token });
    const nil = await probe('corpus-ids', 'GET', '/api/v1/rooms/00000000-0000-0000-0000-000000000000', { token: owner.token }, true);
    expect(nil.status).toBe(missing.status);
    expect(nil.body).toEqual(missing.body);
  });

  it('page / limit: negative, zero, huge, non-numeric → 200 clamped (never 5xx, never unbounded)', async () => {
    const values = ['-1', '0', '-999999999999', '99999999999999999999', '1e3', 'abc', '', '1.5', '0x10', ' 5', '%00', 'NaN', 'Infinity', '[]', '{}'];
    const lists: [string, number][] = [
      ['/api/v1/rooms', 50],
      [`/api/v1/rooms/${roomId}/messages`, 100],
    ];
    for (const [path, cap] of lists) {
      // each value as page and as limit, and paired with every other value once (rotated)
      const pairs = values.flatMap((v, i) => [
        [v, '10'],
        ['1', v],
        [v, values[(i + 5) % values.length]],
      ]);
      for (const [page, limit] of pairs) {
        const r = await probe('corpus-paging', 'GET', `${path}?page=${encodeURIComponent(page)}&limit=${encodeURIComponent(limit)}`, { token: owner.token }, false);
        expect(r.status).toBe(200);
        expect(r.body.limit).toBeGreaterThanOrEqual(1);
        expect(r.body.limit).toBeLessThanOrEqual(cap);
        expect(r.body.page).toBeGreaterThanOrEqual(1);
        expect(r.body.data.length).toBeLessThanOrEqual(r.body.limit);
      }
      const arr = await probe('corpus-paging', 'GET', `${path}?page=1&page=2&limit[]=5&limit[x]=1`, { token: owner.token }, false);
      expect(arr.status).toBeLessThan(500);
    }
    for (const after of ['-1', 'abc', '', '1e9', '99999999999999999999']) {
      await probe('corpus-paging', 'GET', `/api/v1/rooms/${roomId}/changes?after=${encodeURIComponent(after)}`, { token: owner.token }, true);
    }
    for (const q of ['%', '_', '%25%25', '\\', "'", '%00', 'x'.repeat(3000)]) {
      const r = await probe('corpus-paging', 'GET', `/api/v1/users/search?q=${q}`, { token: owner.token }, false);
      expect(r.status).toBeLessThan(500);
    }
    // % and _ are escaped: they match nothing literal here
    const pct = await req(t, 'GET', '/api/v1/users/search?q=%25', { token: owner.token });
    expect(pct.body.data).toEqual([]);
  });

  it('unicode edges in message content: NUL and lone surrogates rejected; RTL override stored verbatim; 2000 emoji accepted, 2001 rejected', async () => {
    const send = (content: string, reject: boolean) =>
      probe('corpus-unicode', 'POST', `/api/v1/rooms/${roomId}/messages`, { token: owner.token, json: { content } }, reject);
    await send('a\u0000b', true);
    await send('\ud800', true);
    await send('x\udc00y', true);
    await send('\udbff\udbff', true);
    await send('', true);
    await send('   ', true);
    const rtl = await send('abc\u202edcba\u200f\u2066', false);
    expect(rtl.status).toBe(201);
    expect(rtl.body.content).toBe('abc\u202edcba\u200f\u2066');
    const emoji2000 = '😀'.repeat(2000);
    const ok = await send(emoji2000, false);
    expect(ok.status).toBe(201);
    expect(ok.body.content).toBe(emoji2000);
    const over = await send('😀'.repeat(2001), true);
    expect(over.body.error).toBe('Message content must be 1-2000 characters');
    // edit has the same 2000 limit and the same character rules
    const editOk = await probe('corpus-unicode', 'PATCH', `/api/v1/messages/${ok.body.id}`, { token: owner.token, json: { content: '🙂'.repeat(2000) } }, false);
    expect(editOk.status).toBe(200);
    await probe('corpus-unicode', 'PATCH', `/api/v1/messages/${ok.body.id}`, { token: owner.token, json: { content: '🙂'.repeat(2001) } }, true);
    await probe('corpus-unicode', 'PATCH', `/api/v1/messages/${ok.body.id}`, { token: owner.token, json: { content: 'a\u0000' } }, true);
    await probe('corpus-unicode', 'PATCH', `/api/v1/messages/${ok.body.id}`, { token: owner.token, json: { content: '\ud83d' } }, true);
    // names and profile fields
    await probe('corpus-unicode', 'POST', '/api/v1/rooms', { token: owner.token, json: { name: 'ab\u0000c' } }, true);
    await probe('corpus-unicode', 'POST', '/api/v1/rooms', { token: owner.token, json: { name: '\ud800\ud800\ud800' } }, true);
    await probe('corpus-unicode', 'PATCH', '/api/v1/auth/me', { token: owner.token, json: { status: 'x\u0000' } }, true);
    await probe('corpus-unicode', 'PATCH', '/api/v1/auth/me', { token: owner.token, json: { status: '\udfff' } }, true);
    await probe('corpus-unicode', 'POST', '/api/v1/auth/register', { json: { username: 'ab\u0000cd', email: 'n@example.com', password: 'passw0rd' } }, true);
    // NUL in the login name reached PostgreSQL (was 500; found by the fast-check body property)
    for (const json of [{ username: '\u0000', password: '\u0000' }, { email: 'a\u0000@example.com', password: 'passw0rd' }, { email: null, username: 'x\u0000', password: 'passw0rd' }]) {
      await probe('corpus-unicode', 'POST', '/api/v1/auth/login', { json }, true);
    }
    // lone surrogates in e-mail fields: validator's isEmail threw a URIError (was 500)
    for (const email of ['\ud800', '\ud800@example.com', 'a@\udc00.com']) {
      await probe('corpus-unicode', 'POST', '/api/v1/auth/register', { json: { username: 'surrogate_1', email, password: 'passw0rd' } }, true);
      await probe('corpus-unicode', 'PATCH', '/api/v1/auth/email', { token: owner.token, json: { email, current_password: owner.password } }, true);
      await probe('corpus-unicode', 'POST', '/api/v1/auth/login', { json: { email, password: 'passw0rd' } }, true);
    }
  });

  it('upload: no multipart, wrong field, bad type, oversize → 4xx JSON, no file row', async () => {
    const up = (body: BodyInit, headers: Record<string, string> = {}) => probe('corpus-upload', 'POST', '/api/v1/upload', { token: owner.token, raw: body, headers }, true);
    await up('{"file":"x"}', { 'content-type': 'application/json' });
    await up('garbage', { 'content-type': 'multipart/form-data; boundary=zzz' });
    await up('--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc', { 'content-type': 'multipart/form-data; boundary=zzz' });
    const wrongField = new FormData();
    wrongField.append('other', new Blob(['hello']), 'a.txt');
    await up(wrongField);
    const html = new FormData();
    html.append('file', new Blob(['<html><script>alert(1)</script></html>']), 'x.html');
    await up(html);
    const svg = new FormData();
    svg.append('file', new Blob(['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>']), 'x.png');
    await up(svg);
    const big = new FormData();
    big.append('file', new Blob([Buffer.alloc(4 * 1024 * 1024 + 10, 0x41)]), 'big.txt');
    const r = await up(big);
    expect(r.status).toBe(413);
    // hostile file names: stored under a generated name or refused, never a 5xx
    for (const name of ['../../../etc/passwd.txt', '..\\..\\win.txt', 'a\u0000b.txt', 'x'.repeat(1000) + '.txt', '\u202etxt.exe', '😀.txt', '.txt', 'noext', '\ud800.txt']) {
      const f = new FormData();
      f.append('file', new Blob(['plain text content']), name);
      const r = await probe('corpus-upload', 'POST', '/api/v1/upload', { token: owner.token, raw: f }, false);
      if (r.status === 200) expect(r.body.url).toMatch(/^\/static\/uploads\/[\w-]+\.txt$/);
    }
    const two = new FormData();
    two.append('file', new Blob(['hello one']), 'a.txt');
    two.append('file', new Blob(['hello two']), 'b.txt');
    await up(two);
  });
});

describe('REST hostile input: properties (fast-check)', () => {
  const anyValue = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    fc.constantFrom('__proto__', 'constructor', '\u0000', '\ud800', 'x'.repeat(3000), '😀'.repeat(2001), randomUUID()),
  );

  it('any body on any body endpoint: never 5xx; rejected requests write nothing', async () => {
    const eps = endpoints();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: eps.length - 1 }),
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'USERNAME', 'Content', 'content', 'room_id', 'x'), anyValue, { maxKeys: 4 }),
        ),
        fc.array(anyValue, { minLength: 1, maxLength: 7 }),
        fc.boolean(),
        async (i, junk, values, structured) => {
          const e = eps[i];
          let body: unknown = junk;
          if (structured) {
            const o: Record<string, unknown> = {};
            e.fields.forEach((f, k) => {
              if (k < values.length) o[f] = values[k];
            });
            body = o;
          }
          await probe('prop-body', e.method, e.path(), { token: e.auth ? owner.token : undefined, json: body }, false);
        },
      ),
      budget(250),
    );
  });

  it('any path id on any :id route: never 5xx (400 for garbage)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: idRoutes.length - 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }), async (i, s) => {
        const [method, path] = idRoutes[i];
        const r = await probe('prop-ids', method, path(encodeURIComponent(s)), { token: owner.token }, false);
        if (r.status < 400 && !/^[0-9a-fA-F{}:urn-]+$/.test(s)) throw new Error(`accepted garbage id ${JSON.stringify(s)}: ${r.status}`);
      }),
      budget(150),
    );
  });

  it('any page/limit: never 5xx, limit always within 1..cap', async () => {
    const v = fc.oneof(fc.integer().map(String), fc.bigInt().map(String), fc.string({ maxLength: 20 }), fc.double().map(String));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), v, v, async (rooms, page, limit) => {
        const path = rooms ? '/api/v1/rooms' : `/api/v1/rooms/${roomId}/messages`;
        const r = await probe('prop-paging', 'GET', `${path}?page=${encodeURIComponent(page)}&limit=${encodeURIComponent(limit)}`, { token: owner.token }, false);
        expect(r.status).toBe(200);
        expect(r.body.limit).toBeGreaterThanOrEqual(1);
        expect(r.body.limit).toBeLessThanOrEqual(rooms ? 50 : 100);
      }),
      budget(100),
    );
  });

  it('memory: 1000 more hostile requests do not grow the heap without bound', async () => {
    const run = async (n: number) => {
      for (let i = 0; i < n; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, k) => {
            const kind = (i + k) % 3;
            if (kind === 0) return req(t, 'POST', '/api/v1/auth/login', { raw: JSON.stringify({ email: 'x'.repeat(60_000) }) });
            if (kind === 1) return req(t, 'POST', `/api/v1/rooms/${roomId}/messages`, { token: owner.token, raw: '{"content":' });
            return req(t, 'GET', `/api/v1/rooms/${randomUUID()}/messages?limit=-5`, { token: owner.token });
          }),
        );
      }
      count('memory', n);
    };
    await run(300); // warm-up
    const before = await heapAfterGc();
    await run(1000);
    const after = await heapAfterGc();
    const growthMb = (after - before) / 1024 / 1024;
    // eslint-disable-next-line no-console
    console.log(`bad-input REST memory: heap ${(before / 1048576).toFixed(1)} MB → ${(after / 1048576).toFixed(1)} MB after 1000 hostile requests (${growthMb.toFixed(1)} MB)`);
    expect(growthMb).toBeLessThan(40);
    const health = await req(t, 'GET', '/health');
    expect(health.status).toBe(200);
  });
});
