import { createTestApp, TestApp } from '../../setup/app';
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
});
