import { storage } from 'nestjs-pino/storage';
import { createTestApp } from '../../setup/app';
import { http, sleep } from '../../setup/clients';
import { ChildApp, startChildApp } from '../../support/child-app';
import { databaseBehindProxy, ProxiedDatabase } from '../../support/tcp-proxy';

interface Line {
  level: number;
  msg: string;
  context?: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
  status?: number;
}

/**
 * The server's log as an operator reads it (stdout of the built server, LOG_LEVEL=info): one line
 * per request naming its request id, and the error line of a failed request naming it too, with
 * no request-scoped async context behind them (see logger.options.ts).
 */
describe('request logging', () => {
  let app: ChildApp;
  let db: ProxiedDatabase;
  beforeAll(async () => {
    db = await databaseBehindProxy();
    app = await startChildApp(db.url, { LOG_LEVEL: 'info', DB_QUERY_TIMEOUT_MS: '1500' }, 0, 30_000, { captureLogs: true });
  });
  afterAll(() =>
    db.close(async () => {
      app.proc.kill('SIGTERM');
      await app.exited;
    }),
  );

  const lines = (): Line[] => app.logs.map((l) => JSON.parse(l) as Line);
  async function linesOf(id: string, n: number): Promise<Line[]> {
    for (let i = 0; i < 50; i++) {
      const found = lines().filter((l) => l.req?.id === id);
      if (found.length >= n) return found;
      await sleep(50);
    }
    return lines().filter((l) => l.req?.id === id);
  }
  const post = (path: string, id: string, body: string) =>
    fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body });

  it('one line per request with its id, method, url and status, at the status level; never a credential', async () => {
    const me = await fetch(`${app.url}/api/v1/users/me`, {
      headers: { 'x-request-id': 'log-me-1', authorization: 'Bearer not-a-token-zq81' },
    });
    expect(me.status).toBe(401);
    const login = await post('/api/v1/auth/login', 'log-login-1', JSON.stringify({ username: 'nobody', password: 'pw-never-logged-zq82' }));
    expect(login.status).toBe(401);
    // rejected by the body parser, before any route: still logged
    const malformed = await post('/api/v1/auth/login', 'log-bad-1', '{"username": ');
    expect(malformed.status).toBe(400);
    const health = await fetch(`${app.url}/health`, { headers: { 'x-request-id': 'log-health-1' } });
    expect(health.status).toBe(200);
    const docs = await fetch(`${app.url}/api/docs-json`, { headers: { 'x-request-id': 'log-docs-1' } });
    expect(docs.status).toBe(200);

    expect(await linesOf('log-me-1', 1)).toEqual([
      expect.objectContaining({ level: 40, msg: 'request completed', req: { id: 'log-me-1', method: 'GET', url: '/api/v1/users/me' }, res: { statusCode: 401 } }),
    ]);
    expect(await linesOf('log-login-1', 1)).toEqual([
      expect.objectContaining({ level: 40, req: { id: 'log-login-1', method: 'POST', url: '/api/v1/auth/login' }, res: { statusCode: 401 } }),
    ]);
    expect(await linesOf('log-bad-1', 1)).toEqual([expect.objectContaining({ level: 40, res: { statusCode: 400 } })]);
    expect(await linesOf('log-docs-1', 1)).toEqual([expect.objectContaining({ level: 30, res: { statusCode: 200 } })]);
    // /health is polled by load balancers: not logged
    expect(lines().filter((l) => l.req?.id === 'log-health-1')).toEqual([]);
    const all = app.logs.join('\n');
    expect(all).not.toContain('not-a-token-zq81');
    expect(all).not.toContain('pw-never-logged-zq82');
  });

  it('a request that fails on the server logs its error line with its own request id', async () => {
    await db.proxy.cut();
    const r = await post('/api/v1/auth/login', 'log-down-1', JSON.stringify({ username: 'someone', password: 'passw0rd' }));
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ request_id: 'log-down-1' });
    const own = await linesOf('log-down-1', 2);
    expect(own).toEqual([
      expect.objectContaining({ level: 50, context: 'HttpError', msg: 'request failed', status: 503, req: { id: 'log-down-1', method: 'POST', url: '/api/v1/auth/login' } }),
      expect.objectContaining({ level: 50, msg: 'request errored', res: { statusCode: 503 } }),
    ]);
    await db.proxy.restore();
  });
});

describe('no request-scoped async context', () => {
  it("a request does not run inside nestjs-pino's AsyncLocalStorage (it would switch on async hooks for every WebSocket frame too)", async () => {
    const run = jest.spyOn(storage, 'run');
    const app = await createTestApp();
    try {
      expect((await http(app, 'POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'passw0rd' } })).status).toBe(401);
      expect((await http(app, 'GET', '/api/v1/rooms')).status).toBe(401);
      expect(run).not.toHaveBeenCalled();
    } finally {
      run.mockRestore();
      await app.close();
    }
  });
});
