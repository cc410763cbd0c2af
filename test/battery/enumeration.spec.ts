import { createTestApp, TestApp } from '../setup/app';
import { registerUser } from '../setup/clients';
import { heapAfterGc, req } from './helpers';

/**
 * Enumeration and brute force: login answers and timing do not tell known from unknown users, and
 * the auth/API rate limits key on the socket address unless TRUST_PROXY says a proxy is trusted.
 */
jest.setTimeout(60_000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('login: unknown and known users look alike', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('same status and body, and timing within the same order (a dummy bcrypt compare for unknown users)', async () => {
    t = await createTestApp();
    const u = await registerUser(t, 'enum');
    const attempts: Record<string, unknown>[] = [
      { email: u.email, password: 'wrongpass1' },
      { email: `nobody-${u.username}@example.com`, password: 'wrongpass1' },
      { username: u.username, password: 'wrongpass1' },
      { username: `ghost_${u.username}`.slice(0, 30), password: 'wrongpass1' },
    ];
    const times: number[][] = attempts.map(() => []);
    // warm-up, then interleaved rounds so drift affects every kind alike
    for (const body of attempts) await req(t, 'POST', '/api/v1/auth/login', { json: body });
    for (let round = 0; round < 7; round++) {
      for (let i = 0; i < attempts.length; i++) {
        const r = await req(t, 'POST', '/api/v1/auth/login', { json: attempts[i] });
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ error: 'invalid credentials' });
        times[i].push(r.ms);
      }
    }
    const [knownEmail, unknownEmail, knownName, unknownName] = times.map(median);
    // eslint-disable-next-line no-console
    console.log(
      `login timing (median of 7, ms): known e-mail ${knownEmail.toFixed(1)}, unknown e-mail ${unknownEmail.toFixed(1)}, known username ${knownName.toFixed(1)}, unknown username ${unknownName.toFixed(1)}`,
    );
    // bcrypt cost 10 is tens of ms: without the dummy compare unknown users answer in ~1 ms
    for (const [a, b] of [
      [knownEmail, unknownEmail],
      [knownName, unknownName],
    ]) {
      expect(b).toBeGreaterThan(a / 3);
      expect(b).toBeLessThan(a * 3);
    }
    expect(Math.min(unknownEmail, unknownName)).toBeGreaterThan(10);
  });
});

describe('rate limits and X-Forwarded-For', () => {
  const login = (t: TestApp, headers: Record<string, string>) =>
    req(t, 'POST', '/api/v1/auth/login', { json: { email: 'brute@example.com', password: 'guess1234' }, headers });

  it('without TRUST_PROXY, rotating X-Forwarded-For / X-Real-IP does not bypass the auth or the API limit', async () => {
    const t = await createTestApp({ RATE_LIMIT_AUTH_PER_MIN: '5', RATE_LIMIT_API_PER_MIN: '8' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await login(t, { 'x-forwarded-for': `10.0.${i}.${i + 1}`, 'x-real-ip': `172.16.0.${i + 1}` });
        statuses.push(r.status);
        if (r.status === 429) expect(r.body).toEqual({ error: 'Too many requests', retry_after: '60s' });
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual(Array(7).fill(429));
      // register shares the auth limiter
      const reg = await req(t, 'POST', '/api/v1/auth/register', { json: { username: 'latecomer', email: 'late@example.com', password: 'passw0rd' }, headers: { 'x-forwarded-for': '8.8.8.8' } });
      expect(reg.status).toBe(429);
      // a request refused by the JWT check is a 401, not a 429 (401s never touch the API budget)
      expect((await req(t, 'GET', '/api/v1/rooms', { headers: { 'x-forwarded-for': '1.1.1.1' } })).status).toBe(401);
    } finally {
      await t.close();
    }
    const t2 = await createTestApp({ RATE_LIMIT_API_PER_MIN: '8' });
    try {
      const u = await registerUser(t2, 'api');
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        statuses.push((await req(t2, 'GET', '/api/v1/auth/me', { token: u.token, headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } })).status);
      }
      expect(statuses.slice(0, 8)).toEqual(Array(8).fill(200));
      expect(statuses.slice(8)).toEqual(Array(6).fill(429));
    } finally {
      await t2.close();
    }
  });

  it('with TRUST_PROXY set, the limit keys on the forwarded client address', async () => {
    const t = await createTestApp({ RATE_LIMIT_AUTH_PER_MIN: '5', TRUST_PROXY: 'loopback' });
    try {
      // one client behind the proxy: limited after 5
      const same: number[] = [];
      for (let i = 0; i < 7; i++) same.push((await login(t, { 'x-forwarded-for': '198.51.100.7' })).status);
      expect(same).toEqual([401, 401, 401, 401, 401, 429, 429]);
      // other clients behind the same proxy have their own budget
      const others: number[] = [];
      for (let i = 0; i < 10; i++) others.push((await login(t, { 'x-forwarded-for': `198.51.100.${20 + i}` })).status);
      expect(others).toEqual(Array(10).fill(401));
      // the proxy's own address (no header) is a separate client too
      expect((await login(t, {})).status).toBe(401);
      // spoofed addresses each get a bucket: the limiter's memory stays bounded (entries expire with their window)
      const u = await registerUser(t, 'spoof');
      const burst = async (from: number, n: number) => {
        for (let i = 0; i < n; i += 20) {
          await Promise.all(
            Array.from({ length: 20 }, (_, k) => req(t, 'GET', '/api/v1/rooms/me', { token: u.token, headers: { 'x-forwarded-for': `10.${(from + i + k) >> 16}.${((from + i + k) >> 8) & 255}.${(from + i + k) & 255}` } })),
          );
        }
      };
      await burst(0, 200);
      const before = await heapAfterGc();
      await burst(1000, 2000);
      const growth = (await heapAfterGc()) - before;
      // eslint-disable-next-line no-console
      console.log(`rate limiter with TRUST_PROXY: 2000 spoofed client addresses → heap +${(growth / 1048576).toFixed(1)} MB (${Math.round(growth / 2000)} B per address)`);
      expect(growth).toBeLessThan(30 * 1048576);
    } finally {
      await t.close();
    }
  });
});
