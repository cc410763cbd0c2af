import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { RealtimeService } from '../../realtime/realtime.service';
import { toUserDto } from '../users/user.mapper';
import { DM_CREATED, DmCreatedEvent } from './dm.events';

@Injectable()
export class DmListener {
  constructor(private readonly realtime: RealtimeService) {}

  @OnEvent(DM_CREATED)
  onCreated(e: DmCreatedEvent): void {
    const sender = toUserDto(e.sender, null, this.realtime.isOnline(e.sender.id));
    this.realtime.toUser(e.recipientId, { type: 'dm_created', payload: { room_id: e.roomId, sender } });
  }
}
