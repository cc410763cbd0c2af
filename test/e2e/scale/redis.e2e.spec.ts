import { randomBytes } from 'node:crypto';
import { createTestApp, TestApp } from '../../setup/app';
import { startChildApp } from '../../support/child-app';
import { freshDatabase } from '../../setup/db';
import { connectWs, http, registerUser, sleep, TestUser, WsClient } from '../../setup/clients';
import { TcpProxy } from '../../support/tcp-proxy';

const REDIS_URL = process.env.REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
if (!REDIS_URL) {
  // straight to stdout: jest swallows console output of a file whose tests are all skipped
  process.stdout.write('SKIPPED test/e2e/scale/redis.e2e.spec.ts: REDIS_URL is not set (multi-instance tests need Redis)\n');
}

/** Several instances of the app on one database and one Redis (own key prefix per run). */
describeRedis('several instances over Redis', () => {
  const prefix = `chatapp-test-${randomBytes(4).toString('hex')}`;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: TestApp;
  let b: TestApp;
  let c: TestApp;
  const env = () => ({ REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix, WS_EVENTS_BURST: '5000', WS_EVENTS_PER_SEC: '5000' });

  beforeAll(async () => {
    db = await freshDatabase();
    a = await createTestApp(env(), { dbUrl: db.url });
    b = await createTestApp(env(), { dbUrl: db.url });
    c = await createTestApp(env(), { dbUrl: db.url });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    await db?.drop();
  });

  async function roomWith(users: TestUser[]): Promise<string> {
    const r = await http(a, 'POST', '/api/v1/rooms', { token: users[0].token, body: { name: 'scale room', type: 'public' } });
    if (r.status !== 201) throw new Error(`create room: ${r.status} ${r.text}`);
    for (const u of users.slice(1)) await http(a, 'POST', `/api/v1/rooms/${r.body.id}/join`, { token: u.token });
    return r.body.id;
  }

  it('delivers a message sent on A to members on B and C exactly once, in commit order', async () => {
    const [u1, u2, u3] = [await registerUser(a, 's'), await registerUser(a, 's'), await registerUser(a, 's')];
    const roomId = await roomWith([u1, u2, u3]);
    const w1 = await connectWs(a, u1.token);
    const w2 = await connectWs(b, u2.token);
    const w3 = await connectWs(c, u3.token);
    const w3b = await connectWs(a, u3.token); // a second device of u3 on another instance
    for (let i = 0; i < 20; i++) w1.send('send_message', { room_id: roomId, content: `m${i}` });
    for (const w of [w1, w2, w3, w3b]) await w.waitFor('new_message', (p) => p.content === 'm19', 8000);
    await sleep(300);
    for (const w of [w1, w2, w3, w3b]) {
      const got = w.all('new_message').map((f) => f.payload.content);
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    }
    [w1, w2, w3, w3b].forEach((w) => w.close());
  });

  it('shares presence: online while a socket is open on any instance', async () => {
    const [u1, u2] = [await registerUser(a, 'p'), await registerUser(a, 'p')];
    await roomWith([u1, u2]);
    const watcher = await connectWs(a, u1.token);
    const onB = await connectWs(b, u2.token);
    await watcher.waitFor('user_online', (p) => p.user_id === u2.id);
    expect((await http(c, 'GET', `/api/v1/users/${u2.id}`, { token: u1.token })).body.is_online).toBe(true);
    const onC = await connectWs(c, u2.token);
    onB.close();
    await sleep(2600); // past the reconnect grace: still online through C
    expect(watcher.all('user_offline').filter((f) => f.payload.user_id === u2.id)).toHaveLength(0);
    onC.close();
    await watcher.waitFor('user_offline', (p) => p.user_id === u2.id, 6000);
    expect(watcher.all('user_online').filter((f) => f.payload.user_id === u2.id)).toHaveLength(1);
    expect((await http(a, 'GET', `/api/v1/users/${u2.id}`, { token: u1.token })).body.is_online).toBe(false);
    watcher.close();
  });

  it('logout on A closes the same token’s socket on B within 1 s', async () => {
    const u = await registerUser(a, 'l');
    const onB = await connectWs(b, u.token);
    const t0 = Date.now();
    expect((await http(a, 'POST', '/api/v1/auth/logout', { token: u.token })).status).toBe(200);
    const code = await onB.closed;
    expect(code).toBe(4401);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('marks the users of a SIGKILLed instance offline within the heartbeat TTL', async () => {
    const [watcherUser, victim] = [await registerUser(a, 'k'), await registerUser(a, 'k')];
    await roomWith([watcherUser, victim]);
    const child = await spawnInstance(db.url, prefix);
    try {
      const watcher = await connectWs(a, watcherUser.token);
      const doomed = await connectWs({ wsUrl: child.wsUrl }, victim.token);
      await watcher.waitFor('user_online', (p) => p.user_id === victim.id, 5000);
      child.proc.kill('SIGKILL');
      await doomed.closed;
      const t0 = Date.now();
      await watcher.waitFor('user_offline', (p) => p.user_id === victim.id, 40_000);
      expect(Date.now() - t0).toBeLessThan(40_000);
      watcher.close();
    } finally {
      child.proc.kill('SIGKILL');
    }
  }, 60_000);

  /** A fourth instance whose Redis connections all go through a TCP proxy the test controls. */
  async function instanceBehindProxy(): Promise<{ d: TestApp; proxy: TcpProxy }> {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(REDIS_URL!).port || 6379));
    await proxy.start();
    const d = await createTestApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: prefix }, { dbUrl: db.url });
    return { d, proxy };
  }

  it('resumes delivery by itself after a Redis outage', async () => {
    const { d, proxy } = await instanceBehindProxy();
    try {
      const [u1, u2] = [await registerUser(a, 'r'), await registerUser(a, 'r')];
      const roomId = await roomWith([u1, u2]);
      const sender = await connectWs(a, u1.token);
      const receiver = await connectWs(d, u2.token);
      sender.send('send_message', { room_id: roomId, content: 'before' });
      await receiver.waitFor('new_message', (p) => p.content === 'before');
      await proxy.cut();
      await sleep(500);
      expect((await http(d, 'GET', '/ready')).status).toBe(503);
      // REST keeps working on the instance without Redis
      expect((await http(d, 'GET', '/api/v1/rooms/me', { token: u2.token })).status).toBe(200);
      await proxy.restore();
      const deadline = Date.now() + 10_000;
      while ((await http(d, 'GET', '/ready')).status !== 200 && Date.now() < deadline) await sleep(200);
      expect((await http(d, 'GET', '/ready')).status).toBe(200);
      sender.send('send_message', { room_id: roomId, content: 'after' });
      await receiver.waitFor('new_message', (p) => p.content === 'after', 5000);
      sender.close();
      receiver.close();
    } finally {
      await d.stop();
      await proxy.stop();
    }
  }, 40_000);

  it('an instance that shuts down closes every Redis connection it opened (events and rate limits)', async () => {
    const { d, proxy } = await instanceBehindProxy();
    try {
      const u = await registerUser(d, 'q'); // a rate-limited route: the counters go through Redis
      const w = await connectWs(d, u.token);
      w.close();
      expect(proxy.openConnections).toBeGreaterThanOrEqual(3); // publish, subscribe, rate limits
      await d.stop();
      const deadline = Date.now() + 2000;
      while (proxy.openConnections > 0 && Date.now() < deadline) await sleep(50);
      expect(proxy.openConnections).toBe(0);
    } finally {
      await proxy.stop();
    }
  });

  it('measures cross-instance vs same-instance delivery latency (1,000 messages each)', async () => {
    const [u1, u2] = [await registerUser(a, 'x'), await registerUser(a, 'x')];
    const roomId = await roomWith([u1, u2]);
    const sender = await connectWs(a, u1.token);
    const same = await connectWs(a, u2.token);
    const cross = await connectWs(b, u2.token);
    const lat = { same: [] as number[], cross: [] as number[] };
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      const content = `lat${i}`;
      const ps = same.waitFor('new_message', (p) => p.content === content).then(() => lat.same.push(performance.now() - t0));
      const pc = cross.waitFor('new_message', (p) => p.content === content).then(() => lat.cross.push(performance.now() - t0));
      sender.send('send_message', { room_id: roomId, content });
      await Promise.all([ps, pc]).catch((e) => {
        throw new Error(`${e.message}; sender got ${JSON.stringify(sender.frames.slice(-3))}`);
      });
      if (i % 100 === 99) [same, cross, sender].forEach((w) => w.clear());
    }
    const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)];
    // eslint-disable-next-line no-console
    console.log(
      `latency over 1000 messages: same-instance p50 ${q(lat.same, 0.5).toFixed(2)} ms p99 ${q(lat.same, 0.99).toFixed(2)} ms; ` +
        `cross-instance p50 ${q(lat.cross, 0.5).toFixed(2)} ms p99 ${q(lat.cross, 0.99).toFixed(2)} ms`,
    );
    expect(lat.cross).toHaveLength(1000);
    [sender, same, cross].forEach((w) => w.close());
  }, 60_000);
});

async function spawnInstance(dbUrl: string, prefix: string) {
  return startChildApp(dbUrl, { REDIS_URL: REDIS_URL!, REDIS_PREFIX: prefix });
}

export type { WsClient };
