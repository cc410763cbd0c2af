import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { RealtimeService } from '../../realtime/realtime.service';
import { MESSAGE_CREATED, MESSAGE_DELETED, MESSAGE_EDITED, MessageDeletedEvent, MessageEvent } from './messages.events';

/** Message events become pushes to every socket of every member (sender included). */
@Injectable()
export class MessagesListener {
  constructor(private readonly realtime: RealtimeService) {}

  @OnEvent(MESSAGE_CREATED)
  onCreated(e: MessageEvent): void {
    this.realtime.toUsers(e.memberIds, { type: 'new_message', payload: e.message }, { roomId: e.roomId, version: e.message.version });
  }

  @OnEvent(MESSAGE_EDITED)
  onEdited(e: MessageEvent): void {
    this.realtime.toUsers(e.memberIds, { type: 'edit_message', payload: e.message }, { roomId: e.roomId, version: e.message.version });
  }

  @OnEvent(MESSAGE_DELETED)
  onDeleted(e: MessageDeletedEvent): void {
    this.realtime.toUsers(
      e.memberIds,
      { type: 'delete_message', payload: { id: e.id, room_id: e.roomId, seq: e.seq, version: e.version } },
      { roomId: e.roomId, version: e.version },
    );
  }
}
