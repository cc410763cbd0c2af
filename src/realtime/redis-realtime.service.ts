import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { APP_CONFIG } from '../config/app-config';
import type { AppConfig } from '../config/env';
import { ConnectionHub, PRESENCE_LOCAL_OFFLINE, PRESENCE_LOCAL_ONLINE, PresenceEvent } from './connection-hub';
import { createRedis } from './redis';
import { PRESENCE_OFFLINE, PRESENCE_ONLINE, RealtimeService, REMOTE_MEMBERSHIP_CHANGED } from './realtime.service';
import { DeliveryOptions, OutFrame, RevocationTarget } from './realtime.types';

/** Redis names, under REDIS_PREFIX so several deployments (or test runs) can share a server. */
function names(prefix: string) {
  return {
    channel: `${prefix}:events`,
    instances: `${prefix}:instances`,
    alive: (id: string) => `${prefix}:instance:${id}:alive`,
    users: (id: string) => `${prefix}:instance:${id}:users`,
    online: (userId: string) => `${prefix}:online:${userId}`,
    sweepLock: `${prefix}:sweep-lock`,
  };
}

const HEARTBEAT_MS = 5_000;
const ALIVE_TTL_S = 15;

/**
 * What travels between instances. A delivery travels as its header's JSON, a newline, then the
 * frame exactly as serialized for the local sockets (JSON.stringify never emits a raw newline):
 * nesting the frame as a JSON string would escape every quote of it here and unescape it there.
 */
type DeliverHeader = { t: 'deliver'; o: string; u: string[]; x?: string; r?: string; v?: number };
type Envelope =
  | (DeliverHeader & { d: string })
  | { t: 'revoke'; o: string; target: RevocationTarget }
  | { t: 'presence'; o: string; u: string; on: boolean }
  | { t: 'membership'; o: string; room: string };

// Atomic presence bookkeeping: returns the user's socket-holding instance count after the change.
const LUA_ONLINE = `
redis.call('SADD', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])`;
const LUA_OFFLINE = `
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return -1 end
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n`;

/**
 * Redis pub/sub under the hub interface (REDIS_URL). Every delivery is made locally at once and
 * published for the other instances, which deliver to their own sockets (each socket exactly
 * once). Presence is counted per instance in Redis: a user is online while any instance holds a
 * socket of theirs; instances heartbeat, and a crashed instance's users are swept offline by a
 * survivor within ~20 s. While Redis is down the instance keeps serving its own sockets and
 * REST, reports not-ready, and reconnects by itself; nothing is queued without bound.
 */
@Injectable()
export class RedisRealtimeService extends RealtimeService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RedisRealtime');
  readonly instanceId = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly remoteOnline = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private lastError = 0;
  private stopped = false;
  private readonly k: ReturnType<typeof names>;

  constructor(
    hub: ConnectionHub,
    events: EventEmitter2,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(hub, events);
    this.k = names(config.REDIS_PREFIX);
    this.pub = createRedis(config.REDIS_URL!, `chatapp-pub-${this.instanceId}`);
    this.sub = createRedis(config.REDIS_URL!, `chatapp-sub-${this.instanceId}`);
    for (const [name, c] of [['pub', this.pub], ['sub', this.sub]] as const) {
      c.on('error', (err) => this.loud(`redis ${name} connection error`, err));
      c.on('ready', () => {
        this.logger.log({ instance: this.instanceId }, `redis ${name} connection ready`);
        if (name === 'sub') void this.sub.subscribe(this.k.channel).catch((e) => this.loud('subscribe failed', e));
        if (name === 'pub') void this.heartbeat().then(() => this.loadOnline());
      });
    }
    this.sub.on('message', (_channel, raw) => this.onEnvelope(raw));
  }

  get redis(): Redis {
    return this.pub;
  }

  onApplicationBootstrap(): void {
    this.timers.push(
      setInterval(() => void this.heartbeat(), HEARTBEAT_MS),
      setInterval(() => void this.sweep(), HEARTBEAT_MS),
    );
    this.timers.forEach((t) => t.unref());
  }

  // ------------------------------------------------------------------ delivery

  toUsers(userIds: Iterable<string>, frame: OutFrame, opts: DeliveryOptions = {}): void {
    const ids = Array.isArray(userIds) ? (userIds as string[]) : [...userIds];
    const data = JSON.stringify(frame);
    // published first: the other instances' hop overlaps this instance's own fan-out
    const header: DeliverHeader = { t: 'deliver', o: this.instanceId, u: ids, x: opts.exceptUserId, r: opts.roomId, v: opts.version };
    this.publishRaw(`${JSON.stringify(header)}\n${data}`);
    this.hub.deliverLocal(ids, data, opts);
  }

  revoke(target: RevocationTarget): void {
    this.hub.revokeLocal(target);
    this.publish({ t: 'revoke', o: this.instanceId, target });
  }

  isOnline(userId: string): boolean {
    return this.hub.isOnlineLocally(userId) || this.remoteOnline.has(userId);
  }

  isHealthy(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  @OnEvent('room.membership_changed')
  onMembershipChanged(e: { roomId: string }): void {
    this.publish({ t: 'membership', o: this.instanceId, room: e.roomId });
  }

  private publish(env: Exclude<Envelope, { t: 'deliver' }>): void {
    this.publishRaw(JSON.stringify(env));
  }

  private publishRaw(raw: string): void {
    if (this.pub.status !== 'ready') {
      this.loud('redis not connected: event delivered on this instance only', null);
      return;
    }
    this.pub.publish(this.k.channel, raw).catch((e) => this.loud('redis publish failed', e));
  }

  private onEnvelope(raw: string): void {
    let env: Envelope;
    try {
      const nl = raw.indexOf('\n');
      env = nl < 0 ? JSON.parse(raw) : { ...(JSON.parse(raw.slice(0, nl)) as DeliverHeader), d: raw.slice(nl + 1) };
    } catch {
      return;
    }
    if (env.o === this.instanceId) return;
    switch (env.t) {
      case 'deliver':
        this.hub.deliverLocal(env.u, env.d, { exceptUserId: env.x, roomId: env.r, version: env.v });
        break;
      case 'revoke':
        this.hub.revokeLocal(env.target);
        break;
      case 'presence':
        if (env.on) this.remoteOnline.add(env.u);
        else this.remoteOnline.delete(env.u);
        break;
      case 'membership':
        this.events.emit(REMOTE_MEMBERSHIP_CHANGED, { roomId: env.room });
        break;
    }
  }

  // ------------------------------------------------------------------ presence

  @OnEvent(PRESENCE_LOCAL_ONLINE, { async: true, promisify: true, suppressErrors: true })
  async onLocalOnline(e: PresenceEvent): Promise<void> {
    let n = 1;
    try {
      n = Number(await this.pub.eval(LUA_ONLINE, 2, this.k.online(e.userId), this.k.users(this.instanceId), e.userId));
    } catch (err) {
      this.loud('presence update failed (treated as first socket)', err);
    }
    if (n === 1) {
      this.publish({ t: 'presence', o: this.instanceId, u: e.userId, on: true });
      this.events.emit(PRESENCE_ONLINE, e);
    }
  }

  @OnEvent(PRESENCE_LOCAL_OFFLINE, { async: true, promisify: true, suppressErrors: true })
  async onLocalOffline(e: PresenceEvent): Promise<void> {
    let n = 0;
    try {
      n = Number(await this.pub.eval(LUA_OFFLINE, 2, this.k.online(e.userId), this.k.users(this.instanceId), e.userId));
    } catch (err) {
      this.loud('presence update failed (treated as last socket)', err);
    }
    if (n === 0) this.announceOffline(e);
  }

  private announceOffline(e: PresenceEvent): void {
    this.remoteOnline.delete(e.userId);
    this.publish({ t: 'presence', o: this.instanceId, u: e.userId, on: false });
    this.events.emit(PRESENCE_OFFLINE, e);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || this.pub.status !== 'ready') return;
    try {
      await this.pub.multi().sadd(this.k.instances, this.instanceId).set(this.k.alive(this.instanceId), '1', 'EX', ALIVE_TTL_S).exec();
    } catch (err) {
      this.loud('heartbeat failed', err);
    }
  }

  /** Everyone online on some instance (after a (re)connect). */
  private async loadOnline(): Promise<void> {
    try {
      const ids = await this.pub.smembers(this.k.instances);
      this.remoteOnline.clear();
      for (const id of ids) {
        if (id === this.instanceId) continue;
        for (const u of await this.pub.smembers(this.k.users(id))) this.remoteOnline.add(u);
      }
    } catch (err) {
      this.loud('loading presence failed', err);
    }
  }

  /**
   * A survivor (one at a time, by lock) takes the presence of instances whose heartbeat expired:
   * each of their users loses one instance; who reaches zero goes offline for everyone.
   */
  private async sweep(): Promise<void> {
    if (this.stopped || this.pub.status !== 'ready') return;
    try {
      const got = await this.pub.set(this.k.sweepLock, this.instanceId, 'PX', HEARTBEAT_MS, 'NX');
      if (!got) return;
      for (const id of await this.pub.smembers(this.k.instances)) {
        if (id === this.instanceId || (await this.pub.exists(this.k.alive(id)))) continue;
        await this.releaseInstance(id);
      }
    } catch (err) {
      this.loud('presence sweep failed', err);
    }
  }

  private async releaseInstance(id: string): Promise<void> {
    const users = await this.pub.smembers(this.k.users(id));
    for (const u of users) {
      const n = Number(await this.pub.eval(LUA_OFFLINE, 2, this.k.online(u), this.k.users(id), u));
      if (n === 0 && !this.hub.isOnlineLocally(u)) this.announceOffline({ userId: u, username: '' });
    }
    await this.pub.multi().del(this.k.users(id)).srem(this.k.instances, id).exec();
    if (users.length > 0) this.logger.warn({ instance: id, users: users.length }, 'released presence of a dead instance');
  }

  private loud(msg: string, err: unknown): void {
    if (Date.now() - this.lastError < 5000) return;
    this.lastError = Date.now();
    this.logger.error({ err }, msg);
  }

  /** Graceful stop: this instance's users leave presence now (not after the heartbeat TTL). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.timers.forEach((t) => clearInterval(t));
    if (this.pub.status === 'ready') {
      await this.releaseInstance(this.instanceId).catch((e) => this.loud('releasing presence failed', e));
      await this.pub.del(this.k.alive(this.instanceId)).catch(() => undefined);
    }
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
