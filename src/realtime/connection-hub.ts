import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { RawData, WebSocket } from 'ws';
import { AuthUser } from '../common/auth/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { APP_CONFIG } from '../config/app-config';
import type { AppConfig } from '../config/env';
import { CloseCode, DeliveryOptions, OutFrame, RevocationTarget } from './realtime.types';
import { RoomOrder } from './room-order';
import { sendFramed, sendText, textFrame } from './ws-frame';

/** Verifies a first-message token; returns null when invalid, throws DomainError when revoked. */
export type SocketAuthenticator = (token: string) => Promise<AuthUser | null>;

/** A message handler bound by a gateway (`@SubscribeMessage`), as platform-ws hands it over. */
export type FrameHandler = (payload: unknown, type: string) => unknown;

/** The user's first / last socket on THIS instance opened / closed (RealtimeService decides
 * whether that is a global transition: with several instances the user may be online elsewhere). */
export const PRESENCE_LOCAL_ONLINE = 'presence.local_online';
export const PRESENCE_LOCAL_OFFLINE = 'presence.local_offline';
export interface PresenceEvent {
  userId: string;
  username: string;
}

const MAX_PENDING_FRAMES = 32;
const MAX_HELD_FRAMES = 5000;
const AUTH_TIMEOUT_MS = 10_000;
const OFFLINE_GRACE_MS = 2_000;

export class Conn {
  user: AuthUser | null = null;
  alive = true;
  pending: RawData[] | null = [];
  handlers: Map<string, FrameHandler> | null = null;
  queue: Promise<void> = Promise.resolve();
  inFlight = 0;
  tokens: number;
  lastRefill = Date.now();
  strikes = 0;
  timer: NodeJS.Timeout | null = null;
  closed = false;
  /** rooms being caught up (sync): live message frames wait here */
  syncing: Map<string, { data: string | Buffer; version?: number }[]> | null = null;
  /** per room, the version up to which a finished catch-up covered this socket: a live frame at or
   * below it (an event that left after the catch-up had already read its change) is a duplicate */
  synced: Map<string, number> | null = null;
  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    burst: number,
  ) {
    this.tokens = burst;
  }
}

/**
 * The only place that knows sockets: it authenticates them (with the gateway's authenticator),
 * keeps every socket of every user, delivers frames to local sockets, tracks presence by counting
 * sockets, enforces per-socket limits and drains on shutdown. Services never call it directly:
 * they emit events; listeners hand frames to the RealtimeService, which delivers here (and, with
 * Redis, on every other instance).
 */
@Injectable()
export class ConnectionHub implements OnModuleDestroy {
  private readonly logger = new Logger('ConnectionHub');
  private readonly conns = new Map<WebSocket, Conn>();
  private readonly byUser = new Map<string, Set<Conn>>();
  private readonly offlineTimers = new Map<string, NodeJS.Timeout>();
  private readonly handlerMaps = new WeakMap<WebSocket, Map<string, FrameHandler>>();
  /** per room, message events leave in version order (see RoomOrder) */
  private readonly order = new RoomOrder();
  private authenticator: SocketAuthenticator | null = null;
  private nextId = 1;
  private pendingCount = 0;
  private draining = false;
  private heartbeat: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: EventEmitter2,
  ) {
    this.heartbeat = setInterval(() => this.beat(), config.WS_PING_INTERVAL_MS);
    this.heartbeat.unref();
  }

  useAuthenticator(fn: SocketAuthenticator): void {
    this.authenticator = fn;
  }

  // ---------------------------------------------------------------- connection lifecycle

  /** Room for one more unauthenticated socket? (checked at the upgrade) */
  canAcceptUnauthenticated(): boolean {
    return !this.draining && this.pendingCount < this.config.WS_MAX_UNAUTHENTICATED;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Registers a new socket; `user` is set when the upgrade carried a valid Authorization header. */
  open(ws: WebSocket, user: AuthUser | null): void {
    const conn = new Conn(this.nextId++, ws, this.config.WS_EVENTS_BURST);
    this.conns.set(ws, conn);
    ws.on('pong', () => (conn.alive = true));
    this.listen(conn);
    if (user) {
      conn.pending = null;
      this.admit(conn, user);
      return;
    }
    this.pendingCount++;
    this.sendRaw(conn, '{"type":"auth_required"}');
    conn.timer = setTimeout(() => this.kill(conn), AUTH_TIMEOUT_MS);
  }

  /**
   * Called by the adapter once per gateway for each new socket (possibly before `open`, depending
   * on gateway order): handlers accumulate, and the socket is read once `open` has run.
   */
  bindHandlers(ws: WebSocket, handlers: Map<string, FrameHandler>): void {
    let map = this.handlerMaps.get(ws);
    if (!map) {
      map = new Map();
      this.handlerMaps.set(ws, map);
    }
    for (const [k, v] of handlers) map.set(k, v);
    const conn = this.conns.get(ws);
    if (conn) this.listen(conn);
  }

  private listen(conn: Conn): void {
    if (conn.handlers) return;
    conn.handlers = this.handlerMaps.get(conn.ws) ?? new Map();
    this.handlerMaps.set(conn.ws, conn.handlers);
    conn.ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
  }

  close(ws: WebSocket): void {
    const conn = this.conns.get(ws);
    if (!conn || conn.closed) return;
    conn.closed = true;
    this.conns.delete(ws);
    if (conn.timer) clearTimeout(conn.timer);
    if (!conn.user) {
      // only sockets still waiting for their auth frame are counted (a socket refused by the
      // per-user cap after authenticating, or via the header, was already uncounted)
      if (conn.pending) this.pendingCount--;
      return;
    }
    const set = this.byUser.get(conn.user.id);
    if (!set) return;
    set.delete(conn);
    if (set.size > 0) return;
    this.byUser.delete(conn.user.id);
    const user = conn.user;
    if (this.draining) return;
    // Hold user_offline back briefly so a quick reconnect (page reload) is not an offline blip.
    const t = setTimeout(() => {
      this.offlineTimers.delete(user.id);
      if (!this.byUser.has(user.id)) {
        this.events.emit(PRESENCE_LOCAL_OFFLINE, { userId: user.id, username: user.username } satisfies PresenceEvent);
      }
    }, OFFLINE_GRACE_MS);
    t.unref();
    this.offlineTimers.set(user.id, t);
  }

  private admit(conn: Conn, user: AuthUser): void {
    const set = this.byUser.get(user.id) ?? new Set<Conn>();
    if (set.size >= this.config.WS_MAX_SOCKETS_PER_USER) {
      this.sendFrame(conn, { type: 'error', payload: { error: 'Too many connections for this user' } });
      conn.ws.close(CloseCode.POLICY, 'too many connections');
      return;
    }
    conn.user = user;
    const first = set.size === 0;
    set.add(conn);
    this.byUser.set(user.id, set);
    const msUntilExpiry = user.exp * 1000 - Date.now();
    conn.timer = setTimeout(
      () => this.closeConn(conn, CloseCode.UNAUTHENTICATED, 'token expired'),
      Math.max(0, Math.min(msUntilExpiry, 2 ** 31 - 1)),
    );
    const graceTimer = this.offlineTimers.get(user.id);
    if (graceTimer) {
      clearTimeout(graceTimer);
      this.offlineTimers.delete(user.id);
    } else if (first) {
      this.events.emit(PRESENCE_LOCAL_ONLINE, { userId: user.id, username: user.username } satisfies PresenceEvent);
    }
    this.sendFrame(conn, {
      type: 'user_online',
      payload: { user_id: user.id, username: user.username, message: 'Connected to chat server' },
    });
  }

  // ---------------------------------------------------------------- incoming frames

  private onFrame(conn: Conn, data: RawData, _isBinary: boolean): void {
    conn.alive = true;
    if (conn.closed || this.draining) return;
    if (conn.pending) {
      // Not authenticated yet: the first frame must be `auth`; later ones wait (bounded) for it.
      if (conn.pending.length === 0 && !conn.user && conn.inFlight === 0) {
        conn.inFlight = 1;
        conn.pending.push(data);
        void this.authenticate(conn, data);
        return;
      }
      if (conn.pending.length >= MAX_PENDING_FRAMES) {
        this.closeConn(conn, CloseCode.POLICY, 'too many frames before authentication');
        return;
      }
      conn.pending.push(data);
      return;
    }
    if (!this.takeToken(conn)) return;
    this.enqueue(conn, data);
  }

  private async authenticate(conn: Conn, first: RawData): Promise<void> {
    const fail = (error: string) => {
      this.sendFrame(conn, { type: 'error', payload: { error } });
      this.kill(conn);
    };
    let msg: { type?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(first.toString());
    } catch {
      return fail('First message must be auth');
    }
    if (!msg || typeof msg !== 'object' || msg.type !== 'auth') return fail('First message must be auth');
    const token = (msg.payload as { token?: unknown } | null)?.token;
    if (!msg.payload || typeof msg.payload !== 'object' || typeof token !== 'string' || token === '') {
      return fail('Invalid auth payload');
    }
    let user: AuthUser | null = null;
    try {
      user = this.authenticator ? await this.authenticator(token) : null;
    } catch (e) {
      return fail(e instanceof DomainError && e.code !== 'UNAVAILABLE' ? e.message : 'Service temporarily unavailable');
    }
    if (conn.closed) return;
    if (!user) return fail('Invalid or expired token');
    if (conn.timer) clearTimeout(conn.timer);
    this.pendingCount--;
    const rest = conn.pending!.slice(1);
    conn.pending = null;
    conn.inFlight = 0;
    this.admit(conn, user);
    if (!conn.user) return;
    for (const frame of rest) {
      if (!this.takeToken(conn)) return;
      this.enqueue(conn, frame);
    }
  }

  /** Per-socket token bucket: an error frame when empty, and a close on persistent abuse. */
  private takeToken(conn: Conn): boolean {
    const now = Date.now();
    const burst = this.config.WS_EVENTS_BURST;
    conn.tokens = Math.min(burst, conn.tokens + ((now - conn.lastRefill) / 1000) * this.config.WS_EVENTS_PER_SEC);
    conn.lastRefill = now;
    if (conn.tokens >= 1) {
      conn.tokens -= 1;
      return true;
    }
    conn.strikes++;
    if (conn.strikes > burst) {
      this.closeConn(conn, CloseCode.POLICY, 'rate limit exceeded');
    } else if (conn.strikes === 1 || conn.strikes % 10 === 0) {
      this.sendFrame(conn, { type: 'error', payload: { error: 'Rate limit exceeded, slow down' } });
    }
    if (conn.tokens >= 0) conn.strikes = Math.max(0, conn.strikes);
    return false;
  }

  /** Frames of one socket are handled one after another, so a client's sends keep their order. */
  private enqueue(conn: Conn, data: RawData): void {
    conn.inFlight++;
    conn.queue = conn.queue.then(() => this.dispatch(conn, data)).finally(() => {
      conn.inFlight--;
      if (conn.tokens >= 1) conn.strikes = 0;
    });
  }

  private async dispatch(conn: Conn, data: RawData): Promise<void> {
    if (conn.closed) return;
    let msg: { type?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(data.toString());
    } catch {
      this.sendFrame(conn, { type: 'error', payload: { error: 'Invalid message format' } });
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
      this.sendFrame(conn, { type: 'error', payload: { error: 'Invalid message format' } });
      return;
    }
    if (msg.type === 'auth') return; // the browser's duplicate auth frame: tolerated, ignored
    const handler = conn.handlers?.get(msg.type);
    if (!handler) {
      this.sendFrame(conn, { type: 'error', payload: { error: 'Unknown event type' } });
      return;
    }
    try {
      const result = await toPromise(handler(msg.payload, msg.type));
      if (result && typeof result === 'object' && 'type' in (result as object)) {
        this.sendFrame(conn, result as OutFrame);
      }
    } catch (e) {
      // Filters normally turn errors into error frames; this is the last resort.
      this.logger.error({ err: e, connId: conn.id }, 'ws handler failed');
      this.sendFrame(conn, { type: 'error', payload: { error: 'Internal server error' } });
    }
  }

  // ---------------------------------------------------------------- lookups used by gateways

  userOf(ws: WebSocket): AuthUser {
    const user = this.conns.get(ws)?.user;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Not authenticated');
    return user;
  }

  isAuthenticated(ws: WebSocket): boolean {
    return !!this.conns.get(ws)?.user;
  }

  isOnlineLocally(userId: string): boolean {
    return this.byUser.has(userId) || this.offlineTimers.has(userId);
  }

  localUserIds(): string[] {
    return [...this.byUser.keys()];
  }

  get socketCount(): number {
    return this.conns.size;
  }

  // ---------------------------------------------------------------- delivery

  /**
   * Sends one already-serialized frame to every local socket of the given users. The single entry
   * of every delivery on this instance (local events and those from other instances over Redis):
   * a message event of a room (roomId + version) first passes the room's reorder stage, so sockets
   * get a room's message events in version order; other frames go out at once.
   */
  deliverLocal(userIds: Iterable<string>, data: string, opts: DeliveryOptions = {}): void {
    if (opts.roomId !== undefined && opts.version !== undefined) {
      const ids = [...userIds];
      this.order.push(opts.roomId, opts.version, () => this.fanOut(ids, data, opts));
      return;
    }
    this.fanOut(userIds, data, opts);
  }

  /** Resolves once the room's message event `version` has left the reorder stage here (waits ≤ 2 × hold time). */
  released(roomId: string, version: number): Promise<void> {
    return this.order.released(roomId, version);
  }

  private fanOut(userIds: Iterable<string>, json: string, opts: DeliveryOptions): void {
    // encoded and framed once, on the first local recipient; every socket gets the same bytes
    let data: Buffer | undefined;
    let frame: Buffer | undefined;
    for (const uid of userIds) {
      if (uid === opts.exceptUserId) continue;
      const set = this.byUser.get(uid);
      if (!set) continue;
      for (const conn of set) {
        if (opts.roomId !== undefined && opts.version !== undefined && (conn.synced?.get(opts.roomId) ?? 0) >= opts.version) continue;
        const held = opts.roomId !== undefined ? conn.syncing?.get(opts.roomId) : undefined;
        data ??= Buffer.from(json);
        if (held) {
          // a catch-up that cannot keep up with the room is abandoned: the client resyncs
          if (held.length >= MAX_HELD_FRAMES) this.closeConn(conn, CloseCode.TRY_AGAIN_LATER, 'sync backlog overflow');
          else held.push({ data, version: opts.version });
        } else if (this.writable(conn)) {
          sendFramed(conn.ws, (frame ??= textFrame(data)), data);
        }
      }
    }
  }

  /** Subscribe first, then catch up: live frames of the room are held until endSync. */
  beginSync(ws: WebSocket, roomId: string): void {
    const conn = this.conns.get(ws);
    if (!conn) return;
    conn.syncing ??= new Map();
    if (!conn.syncing.has(roomId)) conn.syncing.set(roomId, []);
  }

  /**
   * Releases held frames, dropping those the catch-up already delivered (version ≤ upTo); later
   * live frames at or below `floor` (versions that existed when the catch-up ran) are dropped too.
   */
  endSync(ws: WebSocket, roomId: string, upTo: number, floor = upTo): void {
    const conn = this.conns.get(ws);
    const held = conn?.syncing?.get(roomId);
    if (!conn || !held) return;
    conn.synced ??= new Map();
    conn.synced.set(roomId, Math.max(conn.synced.get(roomId) ?? 0, floor));
    conn.syncing!.delete(roomId);
    if (conn.syncing!.size === 0) conn.syncing = null;
    for (const f of held) {
      if (f.version === undefined || f.version > upTo) this.sendRaw(conn, f.data);
    }
  }

  /** Sends to one socket. */
  send(ws: WebSocket, frame: OutFrame): void {
    const conn = this.conns.get(ws);
    if (conn) this.sendFrame(conn, frame);
  }

  private sendFrame(conn: Conn, frame: OutFrame): void {
    this.sendRaw(conn, JSON.stringify(frame));
  }

  private sendRaw(conn: Conn, data: string | Buffer): void {
    if (this.writable(conn)) sendText(conn.ws, data);
  }

  /** Open and reading: a consumer that stops reading is closed, never silently skipped (it reconnects and resyncs). */
  private writable(conn: Conn): boolean {
    const ws = conn.ws;
    if (conn.closed || ws.readyState !== 1) return false;
    if (ws.bufferedAmount > this.config.WS_MAX_BUFFERED_BYTES) {
      this.closeConn(conn, CloseCode.TRY_AGAIN_LATER, 'send buffer overflow');
      return false;
    }
    return true;
  }

  /** Closes the sockets a revocation applies to (logout, password change). */
  revokeLocal(t: RevocationTarget): number {
    const set = this.byUser.get(t.userId);
    if (!set) return 0;
    let n = 0;
    for (const conn of [...set]) {
      const jti = conn.user!.jti;
      if (t.jti && jti !== t.jti) continue;
      if (t.exceptJti && jti === t.exceptJti) continue;
      this.closeConn(conn, CloseCode.UNAUTHENTICATED, 'token revoked');
      n++;
    }
    return n;
  }

  private closeConn(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    const ws = conn.ws;
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
    }
    // A peer that does not read will never answer the close handshake.
    setTimeout(() => ws.terminate(), 1000).unref();
    this.close(ws);
  }

  private kill(conn: Conn): void {
    const ws = conn.ws;
    this.close(ws);
    // Give the error frame a moment to leave, then drop the TCP connection (as the original).
    setTimeout(() => ws.terminate(), 50).unref();
  }

  private beat(): void {
    for (const conn of this.conns.values()) {
      if (!conn.alive) {
        conn.ws.terminate();
        this.close(conn.ws);
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        /* closed meanwhile */
      }
    }
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Graceful shutdown: stop reading new frames, let in-flight handlers finish (their messages are
   * persisted and fanned out), then close every socket with 1001.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    for (const conn of this.conns.values()) {
      (conn.ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.conns.values()].some((c) => c.inFlight > 0)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.order.flushAll();
    // let the last sends reach the kernel
    await new Promise((r) => setTimeout(r, 50));
    for (const conn of [...this.conns.values()]) {
      try {
        // resume reading so the client's close frame arrives (a paused socket waited out the
        // whole shutdown timeout); frames read from now on are dropped by onFrame
        (conn.ws as unknown as { _socket?: { resume(): void } })._socket?.resume();
        conn.ws.close(CloseCode.GOING_AWAY, 'server shutting down');
      } catch {
        conn.ws.terminate();
      }
      this.close(conn.ws);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    this.order.close();
    for (const t of this.offlineTimers.values()) clearTimeout(t);
    for (const conn of [...this.conns.values()]) {
      conn.ws.terminate();
      this.close(conn.ws);
    }
  }
}

function toPromise(v: unknown): Promise<unknown> {
  if (v && typeof (v as { subscribe?: unknown }).subscribe === 'function') {
    return new Promise((resolve, reject) => {
      let last: unknown;
      (v as { subscribe(o: object): void }).subscribe({
        next: (x: unknown) => (last = x),
        error: reject,
        complete: () => resolve(last),
      });
    });
  }
  return Promise.resolve(v);
}
