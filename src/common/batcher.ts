/**
 * Group execution: idle, an item is handled at once (or as `gather` below says); while batches
 * are running, new items queue and the next batch takes them all (up to `maxBatch`). Under load
 * the database sees a few statements over many rows instead of one round trip per item.
 *
 * `handle` gets the items in arrival order and returns one result per item, in the same order; a
 * result wrapped in `Failed` rejects that item alone, and if `handle` throws every item of the
 * batch is rejected with the error. A batch takes only items that arrived before it started, so
 * an item never rides on a statement that began before it arrived.
 *
 * `maxInFlight` batches run at once (default 1: a batch starts when the previous one finished).
 * With 2, items that arrive while one batch runs start a second one (after the same gathering as
 * from idle, and once at least `minToOverlap` of them wait: fewer go with the next batch after the
 * running one) instead of waiting for the first's results to come back; `handle` must then keep
 * the batches' order itself where it matters (MessageWriter: one pipelined connection, on which
 * the database runs the statements one after another, in the order they were sent).
 *
 * Pipelined: the callers of a finished batch resume in promise callbacks, after the next batch's
 * `handle` has run up to its first await (e.g. written its statement on an idle connection), so
 * their follow-up work overlaps the next batch.
 *
 * How a batch that starts from idle (or, with `maxInFlight` > 1, beside a running one) gathers
 * (`gather`):
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
  private inFlight = 0;
  /** a batch's start is scheduled (end of the turn, or the gathering timer) */
  private gathering = false;
  /** while gathering on a timer: ends the wait early (the batch is full) */
  private wake: (() => void) | null = null;

  constructor(
    private readonly handle: (items: I[]) => Promise<(O | Failed)[]>,
    private readonly maxBatch: number,
    private readonly gather: number | 'turn' = 0,
    private readonly maxInFlight = 1,
    private readonly minToOverlap = 1,
  ) {}

  /** the gathering time of a timed batcher, 0 otherwise */
  private get gatherMs(): number {
    return this.gather === 'turn' ? 0 : this.gather;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, at: this.gatherMs > 0 ? Date.now() : 0, resolve, reject });
      if (this.gathering) {
        if (this.wake && this.queue.length >= this.maxBatch) this.wake();
      } else if (this.inFlight < this.maxInFlight) {
        if (this.gather === 'turn') this.gatherFor(null);
        else this.pump();
      }
    });
  }

  /** Resolves when everything queued so far is handled. */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0 || this.gathering) await new Promise((r) => setTimeout(r, 5));
  }

  /** Starts batches while there are items and room for them. */
  private pump(): void {
    while (!this.gathering && this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      // beside a running batch, only a batch worth its own round trip
      if (this.inFlight > 0 && this.queue.length < this.minToOverlap) return;
      // gathering counts from the oldest item's arrival: items that queued behind a running
      // batch have waited already, and a batch that fills up goes at once
      if (this.gatherMs > 0 && this.queue.length < this.maxBatch) {
        const wait = this.gatherMs - (Date.now() - this.queue[0].at);
        if (wait > 0) return this.gatherFor(wait);
      }
      this.start(this.queue.splice(0, this.maxBatch));
    }
  }

  private start(batch: { item: I; resolve(o: O): void; reject(e: unknown): void }[]): void {
    this.inFlight++;
    let out: Promise<(O | Failed)[]>;
    try {
      out = this.handle(batch.map((b) => b.item));
    } catch (e) {
      out = Promise.reject(e);
    }
    // the next batch starts (its handle runs up to its first await) before this one's callers resume
    const next = () => {
      this.inFlight--;
      this.pump();
    };
    out.then(
      (res) => {
        next();
        batch.forEach((b, i) => (res[i] instanceof Failed ? b.reject((res[i] as Failed).error) : b.resolve(res[i] as O)));
      },
      (e: unknown) => {
        next();
        for (const b of batch) b.reject(e);
      },
    );
  }

  /** Holds batches back until the end of this event-loop turn (`ms` null) or for `ms`, then pumps. */
  private gatherFor(ms: number | null): void {
    this.gathering = true;
    const done = () => {
      if (timer) clearTimeout(timer);
      this.wake = null;
      this.gathering = false;
      this.pump();
    };
    let timer: NodeJS.Timeout | null = null;
    if (ms === null) {
      setImmediate(done);
    } else {
      timer = setTimeout(done, ms);
      this.wake = done;
    }
  }
}

/** A per-item failure in a batch's results: that item's promise rejects with `error`. */
export class Failed {
  constructor(readonly error: unknown) {}
}
