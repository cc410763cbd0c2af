import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { RealtimeService } from '../../realtime/realtime.service';
import {
  MemberEvent,
  MessagesReadEvent,
  ROOM_DELETED,
  ROOM_MEMBER_JOINED,
  ROOM_MEMBER_LEFT,
  ROOM_MESSAGES_READ,
  RoomDeletedEvent,
} from './rooms.events';

@Injectable()
export class RoomsListener {
  constructor(private readonly realtime: RealtimeService) {}

  @OnEvent(ROOM_MEMBER_JOINED)
  onJoined(e: MemberEvent): void {
    const frame = { type: 'user_joined', payload: { user_id: e.userId, username: e.username, room_id: e.roomId } };
    this.realtime.toUsers(e.memberIds, frame, { exceptUserId: e.userId });
    if (e.actorId && e.actorId !== e.userId) {
      // added by an admin: the new member's devices learn about the room at once
      this.realtime.toUser(e.userId, { type: 'user_joined', payload: { room_id: e.roomId, message: 'Added to room' } });
    }
  }

  @OnEvent(ROOM_MEMBER_LEFT)
  onLeft(e: MemberEvent): void {
    const frame = { type: 'user_left', payload: { user_id: e.userId, username: e.username, room_id: e.roomId } };
    this.realtime.toUsers(e.memberIds, frame, { exceptUserId: e.userId });
    if (e.actorId && e.actorId !== e.userId) this.realtime.toUser(e.userId, frame);
  }

  @OnEvent(ROOM_DELETED)
  onDeleted(e: RoomDeletedEvent): void {
    this.realtime.toUsers(e.memberIds, { type: 'room_deleted', payload: { room_id: e.roomId } });
  }

  @OnEvent(ROOM_MESSAGES_READ)
  onRead(e: MessagesReadEvent): void {
    this.realtime.toUsers(
      e.memberIds,
      { type: 'messages_read', payload: { room_id: e.roomId, user_id: e.userId, read_at: e.readAt } },
      { exceptUserId: e.userId },
    );
  }
}
