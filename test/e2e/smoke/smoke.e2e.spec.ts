import { createTestApp, TestApp } from '../../setup/app';
import WebSocket from 'ws';
import { connectWs, http, registerUser } from '../../setup/clients';

describe('smoke: the real app on a real database', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app.close());

  it('serves /health and delivers a message from one user to another over WebSocket', async () => {
    expect((await http(app, 'GET', '/health')).body).toEqual({ status: 'ok', service: 'chatapp' });
    const a = await registerUser(app, 'a');
    const b = await registerUser(app, 'b');
    const dm = await http(app, 'POST', '/api/v1/dm', { token: a.token, body: { recipient_id: b.id } });
    expect(dm.status).toBe(200);
    const wa = await connectWs(app, a.token);
    const wb = await connectWs(app, b.token, 'header');
    wa.send('send_message', { room_id: dm.body.id, content: 'hello' });
    const got = await wb.waitFor('new_message');
    expect(got.payload.content).toBe('hello');
    expect(got.payload.sender_id).toBe(a.id);
    expect(got.payload.seq).toBe(1);
    expect(got.payload.sender.email).toBeUndefined();
    await wa.waitFor('new_message');
    const rows = await app.ds.query('SELECT content FROM messages WHERE room_id = $1', [dm.body.id]);
    expect(rows).toEqual([{ content: 'hello' }]);
    wa.close();
    wb.close();
  });

  it('lets the page served by this host open the socket whatever ALLOWED_ORIGINS lists, and refuses other origins', async () => {
    const status = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(app.wsUrl, { headers: { Origin: origin } });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
    const own = new URL(app.url).origin;
    expect(await status(own)).toBe(101);
    expect(await status(own.replace('127.0.0.1', 'localhost'))).toBe(403);
    expect(await status('http://evil.example')).toBe(403);
    expect(await status('null')).toBe(403);
  });
});
