import { Batcher, Failed } from './batcher';

/** Resolves at the end of the current event-loop turn. */
const turn = () => new Promise((r) => setImmediate(r));

/** A 'turn'-gathering batcher whose batches stay running until their gate (gates[k], k-th batch) opens. */
function gated<T>(maxInFlight: number, minToOverlap?: number) {
  const calls: T[][] = [];
  const gates: (() => void)[] = [];
  const b = new Batcher<T, T>(
    async (items) => {
      calls.push(items);
      await new Promise<void>((r) => gates.push(r));
      return items;
    },
    100,
    'turn',
    maxInFlight,
    minToOverlap,
  );
  return { b, calls, gates };
}

describe('Batcher', () => {
  it('handles an item at once when idle, and queues later ones into one next batch', async () => {
    const calls: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, number>(async (items) => {
      calls.push(items);
      if (calls.length === 1) await gate;
      return items.map((x) => x * 10);
    }, 100);
    const first = b.add(1);
    const rest = [b.add(2), b.add(3), b.add(4)];
    await turn();
    expect(calls).toEqual([[1]]);
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(calls).toEqual([[1], [2, 3, 4]]);
  });

  it('with gatherMs, a batch waits that long after its first item and takes what arrived meanwhile', async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (items) => {
      calls.push(items);
      return items;
    }, 100, 30);
    const t0 = Date.now();
    const first = b.add(1);
    await new Promise((r) => setTimeout(r, 10));
    const second = b.add(2);
    await turn();
    expect(calls).toEqual([]); // still gathering
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(calls).toEqual([[1, 2]]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    // a batch that fills up does not wait out the rest
    const big = new Batcher<number, number>(async (items) => items, 2, 10_000);
    const t1 = Date.now();
    expect(await Promise.all([big.add(7), big.add(8)])).toEqual([7, 8]);
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  it("with 'turn', a batch from idle takes every item added in the same event-loop turn, and no later one", async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (items) => {
      calls.push(items);
      return items;
    }, 100, 'turn');
    const sameTurn = [b.add(1), b.add(2)];
    await Promise.resolve(); // a promise callback of the same turn adds too
    sameTurn.push(b.add(3));
    expect(calls).toEqual([]);
    const later = new Promise<number>((r) => setImmediate(() => r(b.add(4))));
    expect(await Promise.all([...sameTurn, later])).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual([[1, 2, 3], [4]]);
    // without gathering the first item goes alone
    const plain: number[][] = [];
    const p = new Batcher<number, number>(async (items) => {
      plain.push(items);
      return items;
    }, 100);
    await Promise.all([p.add(1), p.add(2), p.add(3)]);
    expect(plain).toEqual([[1], [2, 3]]);
  });

  it('splits at maxBatch and keeps arrival order', async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (items) => {
      calls.push(items);
      return items;
    }, 2);
    const out = await Promise.all([1, 2, 3, 4, 5].map((x) => b.add(x)));
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(calls).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('rejects every item of a failed batch and goes on with the next', async () => {
    let n = 0;
    const b = new Batcher<string, string>(async (items) => {
      if (n++ === 1) throw new Error('boom');
      return items.map((s) => s.toUpperCase());
    }, 10);
    const a = b.add('a');
    const failed = [b.add('b'), b.add('c')];
    expect(await a).toBe('A');
    for (const f of failed) await expect(f).rejects.toThrow('boom');
    expect(await b.add('d')).toBe('D');
    await b.idle();
  });

  it('a Failed result rejects that item alone', async () => {
    const b = new Batcher<number, number>(async (items) => items.map((x) => (x % 2 ? new Failed(new Error(`odd ${x}`)) : x)), 10);
    const out = await Promise.allSettled([1, 2, 3, 4].map((x) => b.add(x)));
    expect(out.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['odd 1', 2, 'odd 3', 4]);
  });

  it('starts the next batch before the callers of the finished one resume', async () => {
    const log: string[] = [];
    const b = new Batcher<string, string>(async (items) => {
      log.push(`start ${items.join(',')}`);
      await new Promise((r) => setTimeout(r, 5));
      return items;
    }, 10);
    const first = b.add('a').then(() => log.push('resumed a'));
    const second = b.add('b').then(() => log.push('resumed b'));
    await Promise.all([first, second]);
    expect(log).toEqual(['start a', 'start b', 'resumed a', 'resumed b']);
  });

  it('with maxInFlight 2, items that arrive while a batch runs start a second one after their turn; more wait for a free slot', async () => {
    const { b, calls, gates } = gated<string>(2);
    const first = b.add('a');
    await turn();
    expect(calls).toEqual([['a']]);
    // a second batch beside the first, gathered to the end of its turn
    const second = [b.add('b'), b.add('c')];
    expect(calls).toEqual([['a']]);
    await turn();
    expect(calls).toEqual([['a'], ['b', 'c']]);
    // both slots taken: these wait, and go together when the first batch finishes
    const third = [b.add('d'), b.add('e')];
    await turn();
    expect(calls).toEqual([['a'], ['b', 'c']]);
    const order: string[] = [];
    void first.then(() => order.push('resumed a'));
    gates[0]();
    expect(await first).toBe('a');
    expect(calls).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
    gates[1]();
    gates[2]();
    expect(await Promise.all([...second, ...third])).toEqual(['b', 'c', 'd', 'e']);
    expect(order).toEqual(['resumed a']);
    await b.idle();
  });

  it('with maxInFlight 1 (the default), a batch never starts beside a running one', async () => {
    let running = 0;
    let most = 0;
    const b = new Batcher<number, number>(
      async (items) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return items;
      },
      3,
      'turn',
    );
    const out: Promise<number>[] = [];
    for (let i = 0; i < 10; i++) {
      out.push(b.add(i));
      await turn();
    }
    expect(await Promise.all(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(1);
  });

  it('with minToOverlap, a batch beside a running one waits until that many items queue', async () => {
    const { b, calls, gates } = gated<number>(2, 3);
    const out = [b.add(1)];
    await turn();
    out.push(b.add(2), b.add(3));
    await turn();
    expect(calls).toEqual([[1]]); // two waiting: not worth a second batch
    out.push(b.add(4));
    await turn();
    expect(calls).toEqual([[1], [2, 3, 4]]);
    out.push(b.add(5));
    await turn();
    gates[0](); // the first finishes, the second still runs: one waiting is still too few
    await out[0];
    expect(calls).toEqual([[1], [2, 3, 4]]);
    gates[1](); // none running: it goes without a minimum
    await out[1];
    expect(calls).toEqual([[1], [2, 3, 4], [5]]);
    gates[2]();
    expect(await Promise.all(out)).toEqual([1, 2, 3, 4, 5]);
  });
});
