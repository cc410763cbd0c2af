/**
 * Group execution, one batch at a time: idle, an item is handled at once (no added latency); while
 * a batch is running, new items queue and the next batch takes them all (up to `maxBatch`). Under
 * load the database sees a few statements over many rows instead of one round trip per item.
 *
 * `handle` gets the items in arrival order and returns one result per item, in the same order; a
 * result wrapped in `Failed` rejects that item alone, and if `handle` throws every item of the
 * batch is rejected with the error. A batch starts only after the previous one finished, so an
 * item never rides on a statement that began before it arrived.
 *
 * Pipelined: the callers of a finished batch resume in promise callbacks, after the next batch's
 * `handle` has run up to its first await (e.g. written its statement on an idle connection), so
 * their follow-up work overlaps the next batch.
 */
export class Batcher<I, O> {
  private queue: { item: I; at: number; resolve(o: O): void; reject(e: unknown): void }[] = [];
  private running = false;
  /** while gathering: ends the wait early (the batch is full) */
  private wake: (() => void) | null = null;

  /**
   * `gatherMs` > 0: a batch starts that long after its first item arrived, collecting what comes
   * meanwhile (for work where a little delay is invisible and fewer, larger batches matter).
   */
  constructor(
    private readonly handle: (items: I[]) => Promise<(O | Failed)[]>,
    private readonly maxBatch: number,
    private readonly gatherMs = 0,
  ) {}

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
      while (this.queue.length > 0) {
        // gathering counts from the oldest item's arrival: items that queued behind a running
        // batch have waited already, and a batch that fills up goes at once
        if (this.gatherMs > 0 && this.queue.length < this.maxBatch) {
          const wait = this.gatherMs - (Date.now() - this.queue[0].at);
          if (wait > 0) await this.gather(wait);
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

  private gather(ms: number): Promise<void> {
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
