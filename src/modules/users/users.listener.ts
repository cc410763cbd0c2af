import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { PresenceEvent } from '../../realtime/connection-hub';
import { PRESENCE_OFFLINE, PRESENCE_ONLINE, RealtimeService } from '../../realtime/realtime.service';
import { RevocationTarget } from '../../realtime/realtime.types';
import { RoomsRepository } from '../rooms/rooms.repository';
import { toUserDto } from './user.mapper';
import { UsersRepository } from './users.repository';
import { PROFILE_UPDATED, ProfileUpdatedEvent, TOKENS_REVOKED } from './users.events';

/** Profile changes, presence and revocations become pushes. */
@Injectable()
export class UsersListener {
  private readonly logger = new Logger('Presence');

  constructor(
    private readonly realtime: RealtimeService,
    private readonly rooms: RoomsRepository,
    private readonly users: UsersRepository,
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

  @OnEvent(PRESENCE_ONLINE, { async: true, promisify: true, suppressErrors: true })
  async onOnline(e: PresenceEvent): Promise<void> {
    await this.presence(e, true);
  }

  @OnEvent(PRESENCE_OFFLINE, { async: true, promisify: true, suppressErrors: true })
  async onOffline(e: PresenceEvent): Promise<void> {
    await this.presence(e, false);
  }

  private async presence(e: PresenceEvent, online: boolean): Promise<void> {
    try {
      const username = (await this.users.setOnline(e.userId, online)) ?? e.username;
      const contacts = await this.rooms.contactsOf(e.userId);
      this.realtime.toUsers(contacts, { type: online ? 'user_online' : 'user_offline', payload: { user_id: e.userId, username: e.username || username } });
    } catch (err) {
      this.logger.warn({ err, userId: e.userId }, 'presence update failed');
    }
  }
}
