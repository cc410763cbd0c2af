import { setImmediate as endOfTurn } from 'node:timers/promises';

/**
 * Group execution, one batch at a time: idle, an item is handled at once (or as `gather` below
 * says); while a batch is running, new items queue and the next batch takes them all (up to
 * `maxBatch`). Under load the database sees a few statements over many rows instead of one round
 * trip per item.
 *
 * `handle` gets the items in arrival order and returns one result per item, in the same order; a
 * result wrapped in `Failed` rejects that item alone, and if `handle` throws every item of the
 * batch is rejected with the error. A batch starts only after the previous one finished, so an
 * item never rides on a statement that began before it arrived.
 *
 * Pipelined: the callers of a finished batch resume in promise callbacks, after the next batch's
 * `handle` has run up to its first await (e.g. written its statement on an idle connection), so
 * their follow-up work overlaps the next batch.
 *
 * How a batch that starts from idle gathers (`gather`):
 * - `0`: it does not; the first item is handled at once.
 * - `'turn'`: it waits for the end of the current event-loop turn (`setImmediate`), so the items
 *   added by the callbacks of one I/O phase (the frames read from many sockets in one poll, say)
 *   go together instead of the first alone and the rest one statement later. No timer, no wait
 *   beyond the work already queued in this turn.
 * - `n` ms: it starts `n` ms after its first item arrived (for work where a little delay is
 *   invisible and fewer, larger batches matter); a batch that fills up goes at once.
 */
export class Batcher<I, O> {
  private queue: { item: I; at: number; resolve(o: O): void; reject(e: unknown): void }[] = [];
  private running = false;
  /** while gathering: ends the wait early (the batch is full) */
  private wake: (() => void) | null = null;

  constructor(
    private readonly handle: (items: I[]) => Promise<(O | Failed)[]>,
    private readonly maxBatch: number,
    private readonly gather: number | 'turn' = 0,
  ) {}

  /** the gathering time of a timed batcher, 0 otherwise */
  private get gatherMs(): number {
    return this.gather === 'turn' ? 0 : this.gather;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, at: this.gatherMs > 0 ? Date.now() : 0, resolve, reject });
      if (!this.running) void this.run();
      else if (this.wake && this.queue.length >= this.maxBatch) this.wake();
    });
  }

  /** Resolves when everything queued so far is handled. */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      if (this.gather === 'turn') await endOfTurn();
      while (this.queue.length > 0) {
        // gathering counts from the oldest item's arrival: items that queued behind a running
        // batch have waited already, and a batch that fills up goes at once
        if (this.gatherMs > 0 && this.queue.length < this.maxBatch) {
          const wait = this.gatherMs - (Date.now() - this.queue[0].at);
          if (wait > 0) await this.gatherFor(wait);
        }
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.handle(batch.map((b) => b.item));
          batch.forEach((b, i) => (out[i] instanceof Failed ? b.reject((out[i] as Failed).error) : b.resolve(out[i] as O)));
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private gatherFor(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** A per-item failure in a batch's results: that item's promise rejects with `error`. */
export class Failed {
  constructor(readonly error: unknown) {}
}
