import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { DomainError } from '../../common/errors/domain-error';
import { parseUuid } from '../../common/validation/uuid';
import { ChatGateway } from '../../realtime/chat-gateway.decorator';
import { ConnectionHub } from '../../realtime/connection-hub';
import { MessageDto } from './dto/message.dto';
import { MessagesService } from './messages.service';
import { parseSendMessage } from './send-message.input';

const MAX_SYNC_ROOMS = 500;

/** send_message (the same service as REST) and sync (resume after reconnect). */
@ChatGateway()
export class MessagesGateway {
  constructor(
    private readonly hub: ConnectionHub,
    private readonly messages: MessagesService,
  ) {}

  @SubscribeMessage('send_message')
  async send(@ConnectedSocket() socket: WebSocket, @MessageBody() payload: unknown): Promise<void> {
    const me = this.hub.userOf(socket);
    const input = parseSendMessage(payload);
    const { message, duplicate } = await this.messages.send(me, input);
    // A retry: nothing was broadcast; this socket gets the original again.
    if (duplicate) this.hub.send(socket, { type: 'new_message', payload: message });
    if (input.clientMsgId) {
      // after the broadcast left the room's reorder stage here: the echo precedes the ack
      // (waits at most the stage's hold time, when an earlier version of the room is missing)
      await this.hub.released(message.room_id, message.version);
      this.hub.send(socket, {
        type: 'message_ack',
        payload: { client_msg_id: input.clientMsgId, id: message.id, room_id: message.room_id, seq: message.seq },
      });
    }
  }

  /**
   * `{"rooms": {"<room_id>": <last_seq>}}` → per room, every message changed since, in version
   * order, then `sync_done` (or `resync_required` when too far behind). Live frames of the room
   * are held meanwhile and released after, minus those the catch-up already carried.
   */
  @SubscribeMessage('sync')
  async sync(@ConnectedSocket() socket: WebSocket, @MessageBody() payload: unknown): Promise<void> {
    const me = this.hub.userOf(socket);
    const rooms = (payload as { rooms?: unknown } | null)?.rooms;
    if (!rooms || typeof rooms !== 'object' || Array.isArray(rooms)) throw new DomainError('BAD_REQUEST', 'Invalid payload');
    const entries = Object.entries(rooms as Record<string, unknown>);
    if (entries.length > MAX_SYNC_ROOMS) throw new DomainError('BAD_REQUEST', `At most ${MAX_SYNC_ROOMS} rooms per sync`);
    for (const [rawId, rawSeq] of entries) {
      const roomId = parseUuid(rawId);
      if (!roomId || typeof rawSeq !== 'number' || !Number.isSafeInteger(rawSeq) || rawSeq < 0) {
        this.hub.send(socket, { type: 'error', payload: { error: 'Invalid sync entry', room_id: rawId } });
        continue;
      }
      await this.syncRoom(socket, me, roomId, rawSeq);
    }
  }

  private async syncRoom(socket: WebSocket, me: ReturnType<ConnectionHub['userOf']>, roomId: string, after: number): Promise<void> {
    this.hub.beginSync(socket, roomId);
    let upTo = after; // highest version the client has: its own, or the last this catch-up sent
    let known = 0; // the room's sequence as the catch-up read it
    try {
      for (;;) {
        const page = await this.messages.changes(me, roomId, upTo);
        known = page.last_seq;
        if (page.resync_required) {
          this.hub.send(socket, { type: 'resync_required', payload: { room_id: roomId, seq: page.last_seq } });
          return;
        }
        for (const m of page.data) {
          this.hub.send(socket, frameFor(m, after));
          upTo = Math.max(upTo, m.version);
        }
        if (!page.has_more) break;
      }
      this.hub.send(socket, { type: 'sync_done', payload: { room_id: roomId, seq: Math.max(known, upTo) } });
    } catch (e) {
      if (e instanceof DomainError) {
        this.hub.send(socket, { type: 'error', payload: { error: e.message, room_id: roomId } });
        return;
      }
      throw e;
    } finally {
      // a client's last_seq counts only up to what existed (a bogus one must not mute the room)
      this.hub.endSync(socket, roomId, upTo, upTo > after ? upTo : Math.min(after, known));
    }
  }
}

/** A message created after `after` is new to the client; an older one changed (edit or delete). */
function frameFor(m: MessageDto, after: number) {
  if (m.seq > after) return { type: 'new_message', payload: m };
  if (m.is_deleted) return { type: 'delete_message', payload: { id: m.id, room_id: m.room_id, seq: m.seq, version: m.version } };
  return { type: 'edit_message', payload: m };
}
