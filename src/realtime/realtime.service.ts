import { Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { ConnectionHub, PRESENCE_LOCAL_OFFLINE, PRESENCE_LOCAL_ONLINE, PresenceEvent } from './connection-hub';
import { DeliveryOptions, OutFrame, RevocationTarget } from './realtime.types';

/** The user came online / went offline everywhere (first socket / last socket on any instance). */
export const PRESENCE_ONLINE = 'presence.online';
export const PRESENCE_OFFLINE = 'presence.offline';
/** Another instance changed a room's membership: drop cached copies here. */
export const REMOTE_MEMBERSHIP_CHANGED = 'room.membership_changed.remote';

/**
 * What listeners use to reach sockets. This in-process implementation delivers straight to the
 * local hub; RedisRealtimeService (REDIS_URL) also publishes every call so each instance delivers
 * to its own sockets. Services never see either: they emit events, listeners call this.
 */
@Injectable()
export class RealtimeService {
  constructor(
    protected readonly hub: ConnectionHub,
    protected readonly events: EventEmitter2,
  ) {}

  /** Every socket of every listed user gets the frame (serialized once). */
  toUsers(userIds: Iterable<string>, frame: OutFrame, opts: DeliveryOptions = {}): void {
    this.hub.deliverLocal(userIds, JSON.stringify(frame), opts);
  }

  toUser(userId: string, frame: OutFrame): void {
    this.toUsers([userId], frame);
  }

  /** Closes the sockets that a revocation covers, on every instance. */
  revoke(target: RevocationTarget): void {
    this.hub.revokeLocal(target);
  }

  isOnline(userId: string): boolean {
    return this.hub.isOnlineLocally(userId);
  }

  /** Able to reach every instance? (always, in-process) */
  isHealthy(): boolean {
    return true;
  }

  @OnEvent(PRESENCE_LOCAL_ONLINE)
  onLocalOnline(e: PresenceEvent): void | Promise<void> {
    this.events.emit(PRESENCE_ONLINE, e);
  }

  @OnEvent(PRESENCE_LOCAL_OFFLINE)
  onLocalOffline(e: PresenceEvent): void | Promise<void> {
    this.events.emit(PRESENCE_OFFLINE, e);
  }
}
