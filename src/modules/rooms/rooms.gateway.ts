import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { DomainError } from '../../common/errors/domain-error';
import { parseUuid } from '../../common/validation/uuid';
import { ChatGateway } from '../../realtime/chat-gateway.decorator';
import { ConnectionHub } from '../../realtime/connection-hub';
import { RealtimeService } from '../../realtime/realtime.service';
import { RoomAccess } from './rooms.access';

const roomIdOf = (payload: unknown): { raw: unknown; id: string | null } => {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new DomainError('BAD_REQUEST', 'Invalid payload');
  const raw = (payload as { room_id?: unknown }).room_id;
  return { raw, id: parseUuid(raw) };
};

/**
 * join_room / leave_room / typing / stop_typing: notifications only (delivery follows database
 * membership), and only for members of the room.
 */
@ChatGateway()
export class RoomsGateway {
  constructor(
    private readonly hub: ConnectionHub,
    private readonly access: RoomAccess,
    private readonly realtime: RealtimeService,
  ) {}

  @SubscribeMessage('join_room')
  async join(@ConnectedSocket() socket: WebSocket, @MessageBody() payload: unknown): Promise<void> {
    const me = this.hub.userOf(socket);
    const { id } = roomIdOf(payload);
    if (!id) throw new DomainError('BAD_REQUEST', 'Invalid room ID');
    const info = await this.access.get(id);
    if (!info?.members.has(me.id)) throw new DomainError('FORBIDDEN', 'You are not a member of this room');
    this.realtime.toUsers(info.memberIds, { type: 'user_joined', payload: { user_id: me.id, username: me.username, room_id: id } }, { exceptUserId: me.id });
    this.hub.send(socket, { type: 'user_joined', payload: { room_id: id, message: 'Joined room successfully' } });
  }

  @SubscribeMessage('leave_room')
  async leave(@ConnectedSocket() socket: WebSocket, @MessageBody() payload: unknown): Promise<void> {
    const me = this.hub.userOf(socket);
    const { id } = roomIdOf(payload);
    if (!id) throw new DomainError('BAD_REQUEST', 'Invalid room ID');
    const info = await this.access.get(id);
    if (!info?.members.has(me.id)) throw new DomainError('FORBIDDEN', 'You are not a member of this room');
    this.realtime.toUsers(info.memberIds, { type: 'user_left', payload: { user_id: me.id, username: me.username, room_id: id } }, { exceptUserId: me.id });
  }

  @SubscribeMessage('typing')
  typing(@ConnectedSocket() socket: WebSocket, @MessageBody() payload: unknown): Promise<void> {
    return this.typingEvent('typing', socket, payload);
  }

  @SubscribeMessage('stop_typing')
  stopTyping(@ConnectedSocket() socket: WebSocket, @MessageBody() payload: unknown): Promise<void> {
    return this.typingEvent('stop_typing', socket, payload);
  }

  private async typingEvent(type: string, socket: WebSocket, payload: unknown): Promise<void> {
    const me = this.hub.userOf(socket);
    const { raw, id } = roomIdOf(payload);
    if (!id) throw new DomainError('BAD_REQUEST', 'Invalid room ID');
    const info = await this.access.get(id);
    if (!info?.members.has(me.id)) throw new DomainError('FORBIDDEN', 'You are not a member of this room');
    this.realtime.toUsers(info.memberIds, { type, payload: { room_id: raw, user_id: me.id, username: me.username } }, { exceptUserId: me.id });
  }
}
