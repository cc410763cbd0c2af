import { Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { REMOTE_MEMBERSHIP_CHANGED } from '../../realtime/realtime.service';
import { DomainError } from '../../common/errors/domain-error';
import { ROOM_MEMBERSHIP_CHANGED } from './rooms.events';
import { RoomsRepository } from './rooms.repository';

export interface RoomAccessInfo {
  type: 'public' | 'private' | 'direct';
  createdBy: string;
  /** userId → role */
  members: Map<string, 'admin' | 'member'>;
  memberIds: string[];
}

const MAX_ENTRIES = 20_000;
const TTL_MS = 60_000;

/**
 * Membership and visibility, answered from a cache of each room's member list (the hot path of
 * every send and fan-out). Every membership change invalidates the room's entry — here and, with
 * Redis, on the other instances (the invalidation is an event they also receive).
 */
@Injectable()
export class RoomAccess {
  private readonly cache = new Map<string, { info: RoomAccessInfo; at: number }>();
  private readonly generation = new Map<string, number>();
  private readonly loading = new Map<string, Promise<RoomAccessInfo | null>>();

  constructor(
    private readonly repo: RoomsRepository,
    private readonly events: EventEmitter2,
  ) {}

  async get(roomId: string): Promise<RoomAccessInfo | null> {
    const hit = this.cache.get(roomId);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.info;
    const inflight = this.loading.get(roomId);
    if (inflight) return inflight;
    const gen = this.generation.get(roomId) ?? 0;
    const p = this.repo
      .loadAccess(roomId)
      .then((raw) => {
        if (!raw) return null;
        const members = new Map(raw.members.map((m) => [m.user_id, m.role] as const));
        const info: RoomAccessInfo = {
          type: raw.type as RoomAccessInfo['type'],
          createdBy: raw.created_by,
          members,
          memberIds: [...members.keys()],
        };
        if ((this.generation.get(roomId) ?? 0) === gen) {
          if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
          this.cache.set(roomId, { info, at: Date.now() });
        }
        return info;
      })
      .finally(() => this.loading.delete(roomId));
    this.loading.set(roomId, p);
    return p;
  }

  /** Drops the cached entry here; `broadcast` also tells the other instances. */
  invalidate(roomId: string, broadcast = true): void {
    this.cache.delete(roomId);
    this.loading.delete(roomId);
    this.generation.set(roomId, (this.generation.get(roomId) ?? 0) + 1);
    if (this.generation.size > MAX_ENTRIES * 2) this.generation.clear();
    if (broadcast) this.events.emit(ROOM_MEMBERSHIP_CHANGED, { roomId });
  }

  /** Another instance changed the room's membership. */
  @OnEvent(REMOTE_MEMBERSHIP_CHANGED)
  onRemoteChange(e: { roomId: string }): void {
    this.invalidate(e.roomId, false);
  }

  /** The room if the caller may see it; private and direct rooms of others are "not found". */
  async requireVisible(userId: string, roomId: string, notFoundMessage = 'Room not found'): Promise<RoomAccessInfo> {
    const info = await this.get(roomId);
    if (!info || (info.type !== 'public' && !info.members.has(userId))) {
      throw new DomainError('NOT_FOUND', notFoundMessage);
    }
    return info;
  }

  /**
   * The room if the caller is a member. A visible room (public) answers `forbidden` with the
   * endpoint's text; an invisible one is "not found".
   */
  async requireMember(
    userId: string,
    roomId: string,
    forbiddenMessage: string,
    notFoundMessage = 'Room not found',
  ): Promise<RoomAccessInfo> {
    const info = await this.requireVisible(userId, roomId, notFoundMessage);
    if (!info.members.has(userId)) throw new DomainError('FORBIDDEN', forbiddenMessage);
    return info;
  }

  async isMember(userId: string, roomId: string): Promise<boolean> {
    const info = await this.get(roomId);
    return !!info?.members.has(userId);
  }
}
