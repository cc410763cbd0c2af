import { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { sendFramed, sendText, textFrame } from './ws-frame';

describe('ws-frame: frames of one tick leave in one write', () => {
  let wss: WebSocketServer;
  let server: WebSocket;
  let client: WebSocket;
  const received: string[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
    client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    client.on('message', (d) => received.push(d.toString()));
    await new Promise((r) => client.once('open', r));
    server = await accepted;
  });
  afterAll(async () => {
    client.close();
    await new Promise((r) => wss.close(r));
  });

  it('corks on the first frame of a tick and writes everything once, in order, after it', async () => {
    const sock = (server as unknown as { _socket: { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void } })._socket;
    const calls: string[] = [];
    const w = sock._write.bind(sock);
    const wv = sock._writev.bind(sock);
    sock._write = (...a: unknown[]) => (calls.push('write'), w(...a));
    sock._writev = (chunks: unknown, ...rest: unknown[]) => (calls.push(`writev:${(chunks as unknown[]).length}`), wv(chunks, ...rest));

    const shared = Buffer.from('{"type":"b"}');
    sendText(server, '{"type":"a"}');
    sendFramed(server, textFrame(shared), shared);
    await Promise.resolve(); // a later promise callback of the same tick
    sendText(server, Buffer.from('{"type":"c"}'));
    expect(calls).toEqual([]); // nothing written yet: corked until the tick ends
    await new Promise((r) => setImmediate(r));
    // one system call: ws writes header and payload of a and c as two chunks each, the shared frame is one
    expect(calls).toEqual(['writev:5']);

    const until = Date.now() + 2000;
    while (received.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(received).toEqual(['{"type":"a"}', '{"type":"b"}', '{"type":"c"}']);

    // the next tick starts a new batch
    sendText(server, '{"type":"d"}');
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['writev:5', 'writev:2']);
  });
});
