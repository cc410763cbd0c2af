import { RoomOrder } from './room-order';

describe('RoomOrder (per-room reorder stage)', () => {
  let now = 0;
  let order: RoomOrder;
  let out: string[];
  const push = (room: string, v: number) => order.push(room, v, () => out.push(`${room}:${v}`));

  beforeEach(() => {
    jest.useFakeTimers();
    now = 1_000_000;
    out = [];
    order = new RoomOrder({ holdMs: 150, idleMs: 60_000, maxRooms: 3, now: () => now });
  });
  afterEach(() => {
    order.close();
    jest.useRealTimers();
  });
  const tick = (ms: number) => {
    now += ms;
    jest.advanceTimersByTime(ms);
  };

  it('releases in-order events at once, starting from the first one seen', () => {
    push('r', 7);
    push('r', 8);
    push('r', 9);
    expect(out).toEqual(['r:7', 'r:8', 'r:9']);
    expect(order.heldCount('r')).toBe(0);
  });

  it('holds an event beyond a gap until the missing one arrives, then releases both in order', () => {
    push('r', 1);
    push('r', 3);
    push('r', 4);
    expect(out).toEqual(['r:1']);
    expect(order.heldCount('r')).toBe(2);
    tick(50);
    push('r', 2);
    expect(out).toEqual(['r:1', 'r:2', 'r:3', 'r:4']);
    expect(order.heldCount('r')).toBe(0);
    tick(1000);
    expect(out).toHaveLength(4);
  });

  it('rooms are independent', () => {
    push('a', 1);
    push('b', 1);
    push('a', 3);
    push('b', 2);
    expect(out).toEqual(['a:1', 'b:1', 'b:2']);
  });

  it('a gap older than the hold time is given up: held events leave in version order, the late one after', () => {
    push('r', 1);
    push('r', 4);
    push('r', 3);
    tick(149);
    expect(out).toEqual(['r:1']);
    tick(1);
    expect(out).toEqual(['r:1', 'r:3', 'r:4']);
    push('r', 2); // late: released at once, never dropped
    push('r', 5);
    expect(out).toEqual(['r:1', 'r:3', 'r:4', 'r:2', 'r:5']);
  });

  it('each held event waits at most the hold time from its own arrival', () => {
    push('r', 1);
    push('r', 3); // waits for 2 from t=0
    tick(100);
    push('r', 6); // waits for 4, 5 from t=100
    tick(50);
    expect(out).toEqual(['r:1', 'r:3']);
    push('r', 4);
    expect(out).toEqual(['r:1', 'r:3', 'r:4']);
    tick(99);
    expect(out).toEqual(['r:1', 'r:3', 'r:4']);
    tick(1);
    expect(out).toEqual(['r:1', 'r:3', 'r:4', 'r:6']);
  });

  it('released() resolves once the version has left the stage (at once when nothing is held)', async () => {
    let done = false;
    await order.released('unknown', 5);
    push('r', 1);
    await order.released('r', 1);
    push('r', 3);
    const p = order.released('r', 3).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    tick(150);
    await p;
    expect(done).toBe(true);
    expect(out).toEqual(['r:1', 'r:3']);
  });

  it('forgets idle rooms (relearned from the next event) and keeps at most maxRooms', () => {
    push('a', 1);
    push('b', 1);
    expect(order.size).toBe(2);
    tick(30_000);
    push('b', 2);
    tick(40_000); // a idle 70 s, b 40 s
    expect(order.size).toBe(1);
    push('a', 10); // relearned: released at once
    expect(out).toEqual(['a:1', 'b:1', 'b:2', 'a:10']);
    push('c', 1);
    push('d', 1); // beyond maxRooms 3: the least recently active (b) is forgotten
    expect(order.size).toBe(3);
    push('e', 5);
    push('e', 7); // held (6 missing)
    push('f', 1);
    push('g', 1);
    expect(out.slice(-3)).toEqual(['e:5', 'f:1', 'g:1']);
    push('h', 1); // e is the least recently active now: its held event is released, not lost
    expect(out.slice(-2)).toEqual(['e:7', 'h:1']);
    expect(order.size).toBe(3);
  });

  it('flushAll releases everything held, in version order', () => {
    push('r', 1);
    push('r', 5);
    push('r', 3);
    order.flushAll();
    expect(out).toEqual(['r:1', 'r:3', 'r:5']);
  });
});
