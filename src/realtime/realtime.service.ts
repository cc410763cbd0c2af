import { Injectable } from '@nestjs/common';
import { ConnectionHub } from './connection-hub';
import { DeliveryOptions, OutFrame, RevocationTarget } from './realtime.types';

/**
 * What listeners use to reach sockets. This in-process implementation delivers straight to the
 * local hub; the Redis implementation (RedisRealtimeService) publishes the same calls so every
 * instance delivers to its own sockets. Services never see either: they emit events.
 */
@Injectable()
export class RealtimeService {
  constructor(protected readonly hub: ConnectionHub) {}

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

  /** Ready to deliver across instances? (always, in-process) */
  isHealthy(): boolean {
    return true;
  }
}
