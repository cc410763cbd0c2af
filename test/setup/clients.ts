import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { TestApp } from './app';

export interface Json {
  [k: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface HttpResult {
  status: number;
  body: Json;
  headers: Headers;
  text: string;
}

/** fetch against the test app; JSON in, JSON (or text) out. */
export async function http(
  app: Pick<TestApp, 'url'>,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string | Buffer | FormData; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.raw !== undefined) {
    body = opts.raw as BodyInit;
  }
  const res = await fetch(app.url + path, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let json: Json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  return { status: res.status, body: json, headers: res.headers, text };
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
}

let seq = 0;
/** Registers a fresh user (unique name) and returns its token. */
export async function registerUser(app: Pick<TestApp, 'url'>, prefix = 'u'): Promise<TestUser> {
  const username = `${prefix}${Date.now().toString(36)}${(seq++).toString(36)}${randomBytes(2).toString('hex')}`.slice(0, 30);
  const email = `${username}@example.com`;
  const password = 'passw0rd';
  const r = await http(app, 'POST', '/api/v1/auth/register', { body: { username, email, password } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
  return { id: r.body.user.id, username, email, password, token: r.body.token };
}

/** A WebSocket client that records every frame and can wait for one. */
export class WsClient {
  readonly frames: Json[] = [];
  private waiters: { pred: (f: Json) => boolean; resolve: (f: Json) => void }[] = [];
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let f: Json;
      try {
        f = JSON.parse(data.toString());
      } catch {
        f = { type: '__unparsable__', raw: data.toString() };
      }
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(f)) {
          w.resolve(f);
          return false;
        }
        return true;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      }),
    );
  }

  send(type: string, payload?: unknown): void {
    this.ws.send(JSON.stringify(payload === undefined ? { type } : { type, payload }));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Resolves with the first frame (already received or future) matching. */
  waitFor(type: string, pred: (p: Json) => boolean = () => true, timeoutMs = 5000): Promise<Json> {
    const match = (f: Json) => f.type === type && pred(f.payload ?? {});
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${type}; got ${JSON.stringify(this.frames.map((x) => x.type))}`)), timeoutMs);
      this.waiters.push({
        pred: match,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  /** Frames of a type received so far. */
  all(type: string): Json[] {
    return this.frames.filter((f) => f.type === type);
  }

  clear(): void {
    this.frames.length = 0;
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens a socket; resolves once open (no auth). */
export function openWs(app: Pick<TestApp, 'wsUrl'>, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(app.wsUrl, { headers });
    const client = new WsClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

/** Connects and authenticates (first-message auth, as browsers do); resolves on the self user_online. */
export async function connectWs(app: Pick<TestApp, 'wsUrl'>, token: string, via: 'message' | 'header' = 'message'): Promise<WsClient> {
  const c = via === 'header' ? await openWs(app, { authorization: `Bearer ${token}` }) : await openWs(app);
  if (via === 'message') c.send('auth', { token });
  await c.waitFor('user_online', (p) => p.message === 'Connected to chat server');
  return c;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
