import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createTestApp, TestApp } from '../../setup/app';
import { freshDatabase } from '../../setup/db';
import { connectWs, http, Json, registerUser, sleep, TestUser, WsClient } from '../../setup/clients';
import { roomWith, waitUntil } from './helpers';

const FAST = { WS_EVENTS_BURST: '100000', WS_EVENTS_PER_SEC: '100000', SYNC_MAX_GAP: '1000' };
const CHANGE_TYPES = ['new_message', 'edit_message', 'delete_message'];

interface View {
  content: string;
  is_deleted: boolean;
  version: number;
}

/** A client's view of a room built from the frames it received, applied by version (as a careful client does). */
function applyFrames(frames: Json[]): Map<string, View> {
  const view = new Map<string, View>();
  for (const f of frames) {
    if (!CHANGE_TYPES.includes(f.type)) continue;
    const p = f.payload;
    const cur = view.get(p.id);
    if (cur && cur.version >= p.version) continue;
    if (f.type === 'delete_message') view.set(p.id, { content: cur?.content ?? '', is_deleted: true, version: p.version });
    else view.set(p.id, { content: p.content, is_deleted: p.is_deleted, version: p.version });
  }
  return view;
}

/** Issue 9: resume after reconnect (sync and GET /changes), current state, resync_required, live events during a sync. */
describe('realtime: resume after reconnect', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  beforeAll(async () => {
    app = await createTestApp(FAST);
    [alice, bob, carol] = [await registerUser(app, 'ra'), await registerUser(app, 'rb'), await registerUser(app, 'rc')];
  });
  afterAll(() => app.close());

  const post = async (room: string, content: string, token = alice.token) => {
    const r = await http(app, 'POST', `/api/v1/rooms/${room}/messages`, { token, body: { content } });
    if (r.status !== 201) throw new Error(`post: ${r.status} ${r.text}`);
    return r.body;
  };

  async function dbView(room: string): Promise<Map<string, View>> {
    const rows: { id: string; content: string; is_deleted: boolean; version: string }[] = await app.ds.query(
      'SELECT id, content, is_deleted, version FROM messages WHERE room_id = $1',
      [room],
    );
    return new Map(rows.map((r) => [r.id, { content: r.content, is_deleted: r.is_deleted, version: Number(r.version) }]));
  }

  it('sync over several rooms: per room, in version order, the current state of everything changed while away', async () => {
    const r1 = await roomWith(app, [alice, bob]);
    const r2 = await roomWith(app, [alice, bob]);
    const m1 = await post(r1, 'one');
    const m2 = await post(r1, 'two');
    const m3 = await post(r1, 'three');
    const n1 = await post(r2, 'other room');
    // away: m1 edited twice, m2 edited then deleted, m3 untouched, x created+edited, y created+deleted, r2 gets one more
    await http(app, 'PATCH', `/api/v1/messages/${m1.id}`, { token: alice.token, body: { content: 'one v2' } });
    await http(app, 'PATCH', `/api/v1/messages/${m1.id}`, { token: alice.token, body: { content: 'one v3' } });
    await http(app, 'PATCH', `/api/v1/messages/${m2.id}`, { token: alice.token, body: { content: 'two v2' } });
    await http(app, 'DELETE', `/api/v1/messages/${m2.id}`, { token: alice.token });
    const x = await post(r1, 'x');
    await http(app, 'PATCH', `/api/v1/messages/${x.id}`, { token: alice.token, body: { content: 'x v2' } });
    const y = await post(r1, 'y');
    await http(app, 'DELETE', `/api/v1/messages/${y.id}`, { token: alice.token });
    const n2 = await post(r2, 'other room 2');

    const b = await connectWs(app, bob.token);
    b.send('sync', { rooms: { [r1]: m3.seq, [r2]: n1.seq } });
    const done1 = await b.waitFor('sync_done', (p) => p.room_id === r1);
    const done2 = await b.waitFor('sync_done', (p) => p.room_id === r2);
    const [{ last_seq: last1 }] = await app.ds.query('SELECT last_seq FROM rooms WHERE id = $1', [r1]);
    expect(done1.payload).toEqual({ room_id: r1, seq: Number(last1) });
    expect(done2.payload).toEqual({ room_id: r2, seq: n2.seq });
    const changes = b.frames.filter((f) => CHANGE_TYPES.includes(f.type));
    const inR1 = changes.filter((f) => f.payload.room_id === r1);
    // one frame per changed message, at its latest version, in version order; m3 (unchanged) not repeated
    expect(inR1.map((f) => [f.type, f.payload.id])).toEqual([
      ['edit_message', m1.id],
      ['delete_message', m2.id],
      ['new_message', x.id],
      ['new_message', y.id],
    ]);
    const versions = inR1.map((f) => f.payload.version);
    expect([...versions].sort((p, q) => p - q)).toEqual(versions);
    expect(inR1[0].payload.content).toBe('one v3');
    expect(inR1[2].payload).toMatchObject({ content: 'x v2', is_edited: true });
    expect(inR1[3].payload.is_deleted).toBe(true);
    // room order: r1's frames all come before its sync_done, r2's after
    const idxDone1 = b.frames.indexOf(done1);
    expect(b.frames.findIndex((f) => f.payload?.room_id === r2 && CHANGE_TYPES.includes(f.type))).toBeGreaterThan(idxDone1);
    expect(changes.filter((f) => f.payload.room_id === r2).map((f) => f.payload.id)).toEqual([n2.id]);
    // the resumed view equals the database
    const before = applyFrames((await http(app, 'GET', `/api/v1/rooms/${r1}/changes?after=0`, { token: bob.token })).body.data.map((m: Json) => ({ type: 'new_message', payload: m })));
    expect(before).toEqual(await dbView(r1));
    // a sync that is up to date answers sync_done at once, with nothing else
    b.clear();
    b.send('sync', { rooms: { [r1]: Number(last1) } });
    expect((await b.waitFor('sync_done')).payload).toEqual({ room_id: r1, seq: Number(last1) });
    expect(b.frames.filter((f) => CHANGE_TYPES.includes(f.type))).toEqual([]);
    b.close();
  });

  it('REST GET /rooms/:id/changes: paging with after/limit, members only, bad input is 400 (never 5xx)', async () => {
    const room = await roomWith(app, [alice, bob]);
    for (let i = 0; i < 7; i++) await post(room, `c${i}`);
    const get = (q: string, token = bob.token) => http(app, 'GET', `/api/v1/rooms/${room}/changes${q}`, { token });
    const p1 = await get('?after=0&limit=3');
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ last_seq: 7, has_more: true, resync_required: false });
    expect(p1.body.data.map((m: Json) => m.seq)).toEqual([1, 2, 3]);
    const p2 = await get('?after=3&limit=3');
    expect(p2.body.data.map((m: Json) => m.seq)).toEqual([4, 5, 6]);
    const p3 = await get('?after=6&limit=3');
    expect(p3.body).toMatchObject({ has_more: false, last_seq: 7 });
    expect(p3.body.data.map((m: Json) => m.seq)).toEqual([7]);
    expect((await get('?after=7')).body).toMatchObject({ data: [], has_more: false, last_seq: 7 });
    expect((await get('?after=0')).body.data).toHaveLength(7);
    // outsiders and anonymous callers cannot read changes
    expect([403, 404]).toContain((await get('?after=0', carol.token)).status);
    expect((await http(app, 'GET', `/api/v1/rooms/${room}/changes?after=0`)).status).toBe(401);
    expect((await http(app, 'GET', `/api/v1/rooms/not-a-uuid/changes?after=0`, { token: bob.token })).status).toBe(400);
    for (const q of ['', '?after=', '?after=abc', '?after=-1', '?after=1.5', '?after=1e400', '?after=0&limit=abc', '?after=0&limit=0', '?after=0&limit=100000']) {
      const r = await get(q);
      expect(r.status).toBeLessThan(500);
      if (r.status !== 200) {
        expect(r.status).toBe(400);
        expect(typeof r.body.error).toBe('string');
      }
    }
    for (const q of ['', '?after=abc', '?after=-1']) expect((await get(q)).status).toBe(400);
  });

  it('a gap over SYNC_MAX_GAP answers resync_required (WS and REST); at the limit it still catches up', async () => {
    const db = await freshDatabase();
    const small = await createTestApp({ ...FAST, SYNC_MAX_GAP: '5' }, { dbUrl: db.url });
    try {
      const [u, v] = [await registerUser(small, 'g'), await registerUser(small, 'g')];
      const room = await roomWith(small, [u, v]);
      for (let i = 0; i < 8; i++) await http(small, 'POST', `/api/v1/rooms/${room}/messages`, { token: u.token, body: { content: `g${i}` } });
      const w = await connectWs(small, v.token);
      w.send('sync', { rooms: { [room]: 2 } });
      expect((await w.waitFor('resync_required')).payload).toEqual({ room_id: room, seq: 8 });
      await sleep(100);
      expect(w.frames.filter((f) => CHANGE_TYPES.includes(f.type) || f.type === 'sync_done')).toEqual([]);
      w.send('sync', { rooms: { [room]: 3 } }); // exactly SYNC_MAX_GAP behind
      expect((await w.waitFor('sync_done')).payload).toEqual({ room_id: room, seq: 8 });
      expect(w.all('new_message').map((f) => f.payload.seq)).toEqual([4, 5, 6, 7, 8]);
      const rest = await http(small, 'GET', `/api/v1/rooms/${room}/changes?after=0`, { token: v.token });
      expect(rest.status).toBe(200);
      expect(rest.body).toMatchObject({ data: [], resync_required: true, last_seq: 8 });
      w.close();
    } finally {
      await small.stop();
      await db.drop();
    }
  });

  it('resume works after a restart: the database is the source of truth', async () => {
    const db = await freshDatabase();
    let first: TestApp | null = await createTestApp(FAST, { dbUrl: db.url });
    try {
      const [u, v] = [await registerUser(first, 'rs'), await registerUser(first, 'rs')];
      const room = await roomWith(first, [u, v]);
      const w = await connectWs(first, v.token);
      for (let i = 0; i < 3; i++) await http(first, 'POST', `/api/v1/rooms/${room}/messages`, { token: u.token, body: { content: `before ${i}` } });
      await w.waitFor('new_message', (p) => p.seq === 3);
      await first.stop();
      expect(await w.closed).toBe(1001);
      first = null;
      const second = await createTestApp(FAST, { dbUrl: db.url });
      try {
        for (let i = 0; i < 2; i++) await http(second, 'POST', `/api/v1/rooms/${room}/messages`, { token: u.token, body: { content: `after ${i}` } });
        const back = await connectWs(second, v.token);
        back.send('sync', { rooms: { [room]: 3 } });
        expect((await back.waitFor('sync_done')).payload.seq).toBe(5);
        expect(back.all('new_message').map((f) => [f.payload.seq, f.payload.content])).toEqual([
          [4, 'after 0'],
          [5, 'after 1'],
        ]);
        back.close();
      } finally {
        await second.stop();
      }
    } finally {
      await first?.stop();
      await db.drop();
    }
  });

  it('live events during a sync are neither lost nor delivered twice (new, edits and deletes while catching up)', async () => {
    const room = await roomWith(app, [alice, bob]);
    const a = await connectWs(app, alice.token);
    let overlapped = 0;
    for (let round = 0; round < 3; round++) {
      // bob is away while 600 messages arrive
      const ids: string[] = [];
      for (let i = 0; i < 600; i++) {
        const cmid = randomUUID();
        a.send('send_message', { room_id: room, content: `bulk ${round}.${i}`, client_msg_id: cmid });
        ids.push(cmid);
      }
      await waitUntil(() => a.all('message_ack').length >= 600 * (round + 1), 20_000, 'bulk acks');
      const [{ last_seq }] = await app.ds.query('SELECT last_seq FROM rooms WHERE id = $1', [room]);
      const from = Math.max(0, Number(last_seq) - 600);
      const recent: string[] = a.all('new_message').slice(-20).map((f) => f.payload.id);

      // alice keeps going (new messages, edits, deletes) while bob reconnects and syncs in the same
      // breath as his auth, as a resuming client does
      let started!: () => void;
      const liveStarted = new Promise<void>((r) => (started = r));
      const live = (async () => {
        for (let i = 0; i < 60; i++) {
          a.send('send_message', { room_id: room, content: `live ${round}.${i}` });
          if (i === 6) started();
          if (i % 6 === 0) await http(app, 'PATCH', `/api/v1/messages/${recent[i / 6]}`, { token: alice.token, body: { content: `edited live ${round}.${i}` } });
          if (i % 6 === 3) await http(app, 'DELETE', `/api/v1/messages/${recent[10 + (i - 3) / 6]}`, { token: alice.token });
          if (i % 4 === 0) await sleep(1);
        }
      })();
      await liveStarted;
      const ws = new WebSocket(app.wsUrl);
      const b = new WsClient(ws);
      await new Promise((r) => ws.once('open', r));
      b.send('auth', { token: bob.token });
      b.send('sync', { rooms: { [room]: from } });
      const done = await b.waitFor('sync_done', () => true, 15_000);
      await live;
      await waitUntil(() => b.all('new_message').some((f) => f.payload.content === `live ${round}.59`), 10_000, 'last live message');
      await sleep(200);
      const [{ last_seq: end }] = await app.ds.query('SELECT last_seq FROM rooms WHERE id = $1', [room]);
      // live messages committed while the catch-up ran (carried by the catch-up or held and released after it)
      overlapped += b.all('new_message').filter((f) => f.payload.seq > from + 600 && f.payload.seq <= done.payload.seq).length;

      const newSeqs = b.all('new_message').map((f) => f.payload.seq as number);
      expect(new Set(newSeqs).size).toBe(newSeqs.length); // nothing twice
      const [{ created }] = await app.ds.query('SELECT count(*)::int AS created FROM messages WHERE room_id = $1 AND seq > $2', [room, from]);
      expect(newSeqs.length).toBe(created); // nothing lost
      // the catch-up (everything before sync_done) is in version order; after it, every later change of
      // the room arrives exactly once (live frames of concurrent writers may swap places: see docs)
      const doneAt = b.frames.indexOf(done);
      const catchUp = b.frames.slice(0, doneAt).filter((f) => CHANGE_TYPES.includes(f.type)).map((f) => f.payload.version as number);
      expect(catchUp.every((v, i) => i === 0 || v > catchUp[i - 1])).toBe(true);
      expect(catchUp[catchUp.length - 1]).toBeLessThanOrEqual(done.payload.seq);
      const after = b.frames.slice(doneAt).filter((f) => CHANGE_TYPES.includes(f.type)).map((f) => f.payload.version as number);
      expect([...after].sort((p, q) => p - q)).toEqual(Array.from({ length: Number(end) - done.payload.seq }, (_, i) => done.payload.seq + 1 + i));
      for (const t of ['edit_message', 'delete_message']) {
        const vs = b.all(t).map((f) => f.payload.version);
        expect(new Set(vs).size).toBe(vs.length);
      }
      // every change frame bob got carries a distinct version: no change delivered twice
      const allVersions = b.frames.filter((f) => CHANGE_TYPES.includes(f.type)).map((f) => f.payload.version);
      expect(new Set(allVersions).size).toBe(allVersions.length);
      // bob's view of everything after `from` is the database's
      const db = await dbView(room);
      const mine = applyFrames(b.frames);
      for (const [id, v] of db) {
        if (v.version <= from) continue;
        expect({ id, ...mine.get(id) }).toEqual({ id, ...v, content: v.is_deleted ? mine.get(id)?.content : v.content });
      }
      expect(Number(end)).toBeGreaterThanOrEqual(done.payload.seq);
      b.close();
      await b.closed;
    }
    // eslint-disable-next-line no-console
    console.log(`sync under live traffic: ${overlapped} live messages were committed while a catch-up was running (3 rounds)`);
    a.close();
  }, 60_000);
});
