/**
 * Group execution, one batch at a time: idle, an item is handled at once (no added latency); while
 * a batch is running, new items queue and the next batch takes them all (up to `maxBatch`). Under
 * load the database sees a few statements over many rows instead of one round trip per item.
 *
 * `handle` gets the items in arrival order and returns one result per item, in the same order; if
 * it throws, every item of that batch is rejected with the error. A batch starts only after the
 * previous one finished, so an item never rides on a statement that began before it arrived.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve(o: O): void; reject(e: unknown): void }[] = [];
  private running = false;

  constructor(
    private readonly handle: (items: I[]) => Promise<O[]>,
    private readonly maxBatch: number,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.run();
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
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.handle(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(out[i]));
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
