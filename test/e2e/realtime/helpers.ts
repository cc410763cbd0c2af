import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { TestApp } from '../../setup/app';
import { http, Json, sleep, TestUser, WsClient } from '../../setup/clients';
import { claimsFor, signJwt } from '../../setup/tokens';

/** What the upgrade request got: the socket opened, or an HTTP answer instead of the upgrade. */
export type Handshake = { opened: true; ws: WebSocket } | { opened: false; status: number; body: string };

export function handshake(app: Pick<TestApp, 'wsUrl'>, headers: Record<string, string> = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(app.wsUrl, { headers });
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (e) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(e);
    });
  });
}

/** A JWT signed with the test secret, as the server issues them, but with a chosen expiry. */
export function signToken(user: Pick<TestUser, 'id' | 'username'>, expInSeconds: number): string {
  return signJwt(claimsFor(user, { exp: Math.floor(Date.now() / 1000) + expInSeconds }));
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Resolves with the close code, or rejects if the socket is still open after `ms`. */
export async function closedWithin(c: WsClient, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms; frames: ${JSON.stringify(c.frames.map((f) => f.type))}`)), ms);
  });
  try {
    return await Promise.race([c.closed, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates a room owned by users[0] that the others join over REST. */
export async function roomWith(app: TestApp, users: TestUser[], type: 'public' | 'private' = 'public'): Promise<string> {
  const r = await http(app, 'POST', '/api/v1/rooms', { token: users[0].token, body: { name: `rt ${randomUUID().slice(0, 8)}`, type } });
  if (r.status !== 201) throw new Error(`create room: ${r.status} ${r.text}`);
  for (const u of users.slice(1)) {
    if (type === 'public') {
      const j = await http(app, 'POST', `/api/v1/rooms/${r.body.id}/join`, { token: u.token });
      if (j.status !== 200) throw new Error(`join: ${j.status} ${j.text}`);
    } else {
      const j = await http(app, 'POST', `/api/v1/rooms/${r.body.id}/members`, { token: users[0].token, body: { user_id: u.id } });
      if (j.status >= 300) throw new Error(`add member: ${j.status} ${j.text}`);
    }
  }
  return r.body.id;
}

/** Logs in again: a second token (another device) for the same user. */
export async function login(app: TestApp, u: TestUser): Promise<string> {
  const r = await http(app, 'POST', '/api/v1/auth/login', { body: { email: u.email, password: u.password } });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.text}`);
  return r.body.token;
}

export const types = (c: WsClient): string[] => c.frames.map((f: Json) => f.type);
