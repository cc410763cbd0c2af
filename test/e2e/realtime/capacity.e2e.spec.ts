import { ConnectionHub } from '../../../src/realtime/connection-hub';
import { createTestApp, TestApp } from '../../setup/app';
import { connectWs, registerUser, TestUser, WsClient } from '../../setup/clients';
import { roomWith, waitUntil } from './helpers';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

/** Issue 4's closing numbers: delivery latency in a 2-member room, sockets held by one process. */
describe('realtime: latency and socket capacity (one process, loopback)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ WS_EVENTS_BURST: '100000', WS_EVENTS_PER_SEC: '100000', WS_MAX_SOCKETS_PER_USER: '1000', DB_POOL_SIZE: '10' });
  });
  afterAll(() => app.close());

  it('delivery latency, 2-member room, 1,000 messages one after another: median and p99 printed', async () => {
    const [a, b] = [await registerUser(app, 'la'), await registerUser(app, 'lb')];
    const room = await roomWith(app, [a, b]);
    const wa = await connectWs(app, a.token);
    const wb = await connectWs(app, b.token);
    const N = 1000;
    const lat: number[] = [];
    const start = Date.now();
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      wa.send('send_message', { room_id: room, content: `lat ${i}` });
      await wb.waitFor('new_message', (p) => p.content === `lat ${i}`);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (i % 200 === 199) {
        wa.clear();
        wb.clear();
      }
    }
    const wall = Date.now() - start;
    lat.sort((x, y) => x - y);
    const median = quantile(lat, 0.5);
    const p99 = quantile(lat, 0.99);
    // eslint-disable-next-line no-console
    console.log(
      `delivery latency (send_message → new_message at the other member), ${N} messages: ` +
        `median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} ms (${wall} ms total)`,
    );
    expect(lat).toHaveLength(N);
    expect(median).toBeLessThan(50);
    expect(p99).toBeLessThan(500);
    const [{ n }] = await app.ds.query('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [room]);
    expect(n).toBe(N);
    wa.close();
    wb.close();
  }, 60_000);

  it('one process holds 2,000 authenticated sockets and serves every one of them', async () => {
    const SOCKETS = 2000;
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) users.push(await registerUser(app, 'cap'));
    const room = await roomWith(app, users);
    const sockets: WsClient[] = [];
    const t0 = Date.now();
    for (let batch = 0; batch < SOCKETS; batch += 200) {
      const opened = await Promise.all(
        Array.from({ length: 200 }, (_, k) => connectWs(app, users[(batch + k) % users.length].token, k % 2 ? 'header' : 'message')),
      );
      sockets.push(...opened);
    }
    const openMs = Date.now() - t0;
    expect(sockets).toHaveLength(SOCKETS);
    expect(app.app.get(ConnectionHub).socketCount).toBe(SOCKETS);
    const rss = process.memoryUsage().rss;
    // one message reaches every socket (every device of every member)
    const t1 = Date.now();
    sockets[0].send('send_message', { room_id: room, content: 'to all 2000' });
    await Promise.all(sockets.map((s) => s.waitFor('new_message', (p) => p.content === 'to all 2000', 15_000)));
    const fanoutMs = Date.now() - t1;
    // and every socket is still answered individually
    sockets.forEach((s) => s.send('ping'));
    await Promise.all(sockets.map((s) => s.waitFor('pong', () => true, 15_000)));
    // eslint-disable-next-line no-console
    console.log(
      `capacity: ${SOCKETS} authenticated sockets opened in ${openMs} ms; one message fanned out to all in ${fanoutMs} ms; ` +
        `every socket answered a ping; test process RSS (server + clients) ${(rss / 1e6).toFixed(0)} MB`,
    );
    sockets.forEach((s) => s.close());
    await waitUntil(() => sockets.every((s) => s.closeCode !== null), 10_000, 'all sockets closed');
  }, 60_000);
});
