import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PresenceEvent } from '../../realtime/connection-hub';
import { PRESENCE_OFFLINE, PRESENCE_ONLINE, RealtimeService } from '../../realtime/realtime.service';
import { RevocationTarget } from '../../realtime/realtime.types';
import { RoomsRepository } from '../rooms/rooms.repository';
import { PresenceAnnouncer } from './presence.announcer';
import { toUserDto } from './user.mapper';
import { PROFILE_UPDATED, ProfileUpdatedEvent, TOKENS_REVOKED } from './users.events';

/** Profile changes, presence and revocations become pushes. */
@Injectable()
export class UsersListener {
  constructor(
    private readonly realtime: RealtimeService,
    private readonly rooms: RoomsRepository,
    private readonly presence: PresenceAnnouncer,
  ) {}

  @OnEvent(PROFILE_UPDATED, { async: true, promisify: true, suppressErrors: true })
  async onProfile(e: ProfileUpdatedEvent): Promise<void> {
    const partners = await this.rooms.dmPartnersOf(e.user.id);
    const user = toUserDto(e.user, null, this.realtime.isOnline(e.user.id));
    this.realtime.toUsers(partners, { type: 'profile_updated', payload: user });
  }

  @OnEvent(TOKENS_REVOKED)
  onRevoked(t: RevocationTarget): void {
    this.realtime.revoke(t);
  }

  @OnEvent(PRESENCE_ONLINE)
  onOnline(e: PresenceEvent): void {
    this.presence.announce(e, true);
  }

  @OnEvent(PRESENCE_OFFLINE)
  onOffline(e: PresenceEvent): void {
    this.presence.announce(e, false);
  }
}
