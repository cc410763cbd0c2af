/** How long a message event waits for a missing earlier version of its room before it leaves anyway. */
export const ROOM_ORDER_HOLD_MS = 150;
/** A room with no message event for this long forgets its position (re-learned from the next event). */
export const ROOM_ORDER_IDLE_MS = 10 * 60_000;
/** At most this many rooms are tracked; beyond it the least recently active one is forgotten. */
export const ROOM_ORDER_MAX_ROOMS = 50_000;
/** Held events of one room beyond this are released at once (a gap that will not close). */
const MAX_HELD_PER_ROOM = 5_000;

export interface RoomOrderOptions {
  holdMs: number;
  idleMs: number;
  maxRooms: number;
  now: () => number;
}

interface Held {
  /** when the event arrived: it leaves at the latest holdMs after */
  at: number;
  release: (() => void)[];
}

interface RoomState {
  /** highest version released (everything below it was released or is late) */
  last: number;
  held: Map<number, Held>;
  timer: NodeJS.Timeout | null;
  touched: number;
  waiters: { version: number; resolve: () => void }[];
}

/**
 * The per-room reorder stage in front of the local fan-out. Every change of a room's messages has
 * the next number of the room's gapless sequence, but the events reach an instance from independent
 * commits and, with Redis, from other instances, so a later version can arrive first. Here an event
 * whose version is the next one leaves at once (with any held successors); one beyond a gap waits
 * for the missing versions, at most `holdMs`, then everything due leaves in version order; one at or
 * below the released position is late and leaves at once (never dropped: per-socket floors and the
 * client's dedupe by version handle duplicates). State is created from a room's first event and
 * forgotten when the room is idle, so memory is bounded by the active rooms.
 */
export class RoomOrder {
  private readonly rooms = new Map<string, RoomState>();
  private readonly opts: RoomOrderOptions;
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: Partial<RoomOrderOptions> = {}) {
    this.opts = { holdMs: ROOM_ORDER_HOLD_MS, idleMs: ROOM_ORDER_IDLE_MS, maxRooms: ROOM_ORDER_MAX_ROOMS, now: Date.now, ...opts };
    this.sweeper = setInterval(() => this.evictIdle(), Math.max(1000, this.opts.idleMs / 2));
    this.sweeper.unref();
  }

  /** Rooms currently tracked (for tests and metrics). */
  get size(): number {
    return this.rooms.size;
  }

  /** Events of the room waiting for a missing version. */
  heldCount(roomId: string): number {
    return this.rooms.get(roomId)?.held.size ?? 0;
  }

  /** Runs `release` once every earlier version of the room has been released (or waited long enough). */
  push(roomId: string, version: number, release: () => void): void {
    const now = this.opts.now();
    let s = this.rooms.get(roomId);
    if (s) {
      // least recently active first in the map's order
      this.rooms.delete(roomId);
    } else {
      s = { last: version - 1, held: new Map(), timer: null, touched: now, waiters: [] };
      if (this.rooms.size >= this.opts.maxRooms) this.evictOldest();
    }
    this.rooms.set(roomId, s);
    s.touched = now;
    if (version <= s.last) {
      run(release);
      return;
    }
    if (version === s.last + 1) {
      s.last = version;
      run(release);
      this.advance(s);
      return;
    }
    const h = s.held.get(version);
    if (h) h.release.push(release);
    else s.held.set(version, { at: now, release: [release] });
    if (s.held.size > MAX_HELD_PER_ROOM) this.releaseUpTo(s, Infinity);
    this.schedule(s);
  }

  /** Resolves once `version` of the room has left the stage (at once when it already has), or after twice the hold time. */
  released(roomId: string, version: number): Promise<void> {
    const s = this.rooms.get(roomId);
    if (!s || version <= s.last || s.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      // never longer than twice the hold time: the waiter (a sender's frame queue) must not stall
      const cap = setTimeout(resolve, 2 * this.opts.holdMs);
      cap.unref?.();
      s.waiters.push({
        version,
        resolve: () => {
          clearTimeout(cap);
          resolve();
        },
      });
    });
  }

  /** Releases everything held, in version order (graceful shutdown). */
  flushAll(): void {
    for (const s of this.rooms.values()) this.releaseUpTo(s, Infinity);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.flushAll();
  }

  /** Held successors of the released position leave; then timers and waiters are brought up to date. */
  private advance(s: RoomState): void {
    for (let h = s.held.get(s.last + 1); h; h = s.held.get(s.last + 1)) {
      s.held.delete(s.last + 1);
      s.last++;
      for (const r of h.release) run(r);
    }
    this.schedule(s);
    if (s.waiters.length > 0) {
      const open = s.held.size > 0;
      s.waiters = s.waiters.filter((w) => {
        if (open && w.version > s.last) return true;
        w.resolve();
        return false;
      });
    }
  }

  /** Gives up on the gaps below `upTo`: held events up to it leave in version order. */
  private releaseUpTo(s: RoomState, upTo: number): void {
    const due = [...s.held.keys()].filter((v) => v <= upTo).sort((a, b) => a - b);
    for (const v of due) {
      const h = s.held.get(v)!;
      s.held.delete(v);
      s.last = Math.max(s.last, v);
      for (const r of h.release) run(r);
    }
    this.advance(s);
  }

  /** One timer per room, for the oldest held event's deadline. */
  private schedule(s: RoomState): void {
    if (s.timer) {
      clearTimeout(s.timer);
      s.timer = null;
    }
    if (s.held.size === 0) return;
    let oldest = Infinity;
    for (const h of s.held.values()) oldest = Math.min(oldest, h.at);
    const wait = Math.max(0, oldest + this.opts.holdMs - this.opts.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      const now = this.opts.now();
      // the highest version whose wait is over: it and everything below it leave
      let upTo = -Infinity;
      for (const [v, h] of s.held) if (h.at + this.opts.holdMs <= now) upTo = Math.max(upTo, v);
      if (upTo === -Infinity) this.schedule(s);
      else this.releaseUpTo(s, upTo);
    }, wait);
    s.timer.unref?.();
  }

  private evictIdle(): void {
    const cutoff = this.opts.now() - this.opts.idleMs;
    for (const [id, s] of this.rooms) {
      if (s.touched > cutoff) break; // map order = least recently active first
      if (s.held.size > 0) continue;
      this.rooms.delete(id);
    }
  }

  private evictOldest(): void {
    const first = this.rooms.entries().next();
    if (first.done) return;
    const [id, s] = first.value;
    this.releaseUpTo(s, Infinity);
    this.rooms.delete(id);
  }
}

/** One failing delivery must not stall the room's stage. */
function run(release: () => void): void {
  try {
    release();
  } catch {
    /* the fan-out closes sockets it cannot serve; nothing to do here */
  }
}
