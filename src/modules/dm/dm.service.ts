import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuthUser } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { parseUuid } from '../../common/validation/uuid';
import { RealtimeService } from '../../realtime/realtime.service';
import { toPrefixedMessageDto } from '../messages/message.mapper';
import { RoomDto } from '../rooms/dto/room.dto';
import { toMemberDto, toRoomDto, RoomRow } from '../rooms/room.mapper';
import { RoomAccess } from '../rooms/rooms.access';
import { RoomsRepository } from '../rooms/rooms.repository';
import { prefixedUser, toUserDto } from '../users/user.mapper';
import { UsersRepository } from '../users/users.repository';
import { DM_CREATED, DmCreatedEvent } from './dm.events';
import { DmRepository } from './dm.repository';
import { DmListDto } from './dto/dm.dto';

const DM_LIST_CAP = 500;
const bad = (m: string) => new DomainError('BAD_REQUEST', m);

@Injectable()
export class DmService {
  private readonly online = (id: string) => this.realtime.isOnline(id);

  constructor(
    private readonly dms: DmRepository,
    private readonly rooms: RoomsRepository,
    private readonly users: UsersRepository,
    private readonly access: RoomAccess,
    private readonly realtime: RealtimeService,
    private readonly events: EventEmitter2,
  ) {}

  /** Get-or-create the direct room of the pair; the database keeps it to one room per pair. */
  async open(me: AuthUser, rawRecipient: string): Promise<RoomDto> {
    const recipientId = parseUuid(rawRecipient);
    if (!recipientId) throw bad('Invalid recipient ID');
    if (recipientId === me.id) throw bad('cannot create DM with yourself');
    const [recipient, sender] = await Promise.all([this.users.findById(recipientId), this.users.findById(me.id)]);
    if (!recipient) throw bad('recipient user not found');
    if (!sender) throw bad('sender user not found');
    const dmKey = [me.id, recipientId].sort().join(':');
    const { roomId, created, rejoined } = await this.rooms.ds.transaction(async (em) => {
      const newId = await this.rooms.insertRoom(em, {
        name: `dm:${sender.username}-${recipient.username}`,
        description: 'Direct message',
        type: 'direct',
        createdBy: me.id,
        dmKey,
      });
      const id = newId ?? (await this.rooms.findDirectByKey(dmKey, em));
      if (!id) throw new DomainError('CONFLICT', 'failed to create DM room');
      const a = await this.rooms.addMember(id, me.id, 'member', em);
      const b = await this.rooms.addMember(id, recipientId, 'member', em);
      return { roomId: id, created: newId !== null, rejoined: a || b };
    });
    if (created || rejoined) this.access.invalidate(roomId);
    if (created) {
      this.events.emit(DM_CREATED, { roomId, recipientId, sender } satisfies DmCreatedEvent);
    }
    const [row, members] = await Promise.all([this.rooms.findRoom(roomId), this.rooms.members([roomId])]);
    return toRoomDto(row as RoomRow, me.id, this.online, members.map((m) => toMemberDto(m, me.id, this.online)));
  }

  async list(me: AuthUser): Promise<DmListDto> {
    const rows = await this.dms.listForUser(me.id, DM_LIST_CAP);
    const members = await this.rooms.members(rows.map((r) => r.id as string));
    const byRoom = new Map<string, Record<string, unknown>[]>();
    for (const m of members) {
      const list = byRoom.get(m.m_room_id as string) ?? [];
      list.push(m);
      byRoom.set(m.m_room_id as string, list);
    }
    return {
      data: rows.map((r) => {
        const other = prefixedUser(r, 'o_');
        return {
          room: toRoomDto(
            r as RoomRow,
            me.id,
            this.online,
            (byRoom.get(r.id as string) ?? []).map((m) => toMemberDto(m, me.id, this.online)),
          ),
          other_user: toUserDto(other, me.id, this.online(other.id)),
          last_message: toPrefixedMessageDto(r, 'lm_', 's_', this.online),
          unread_count: Number(r.unread_count),
        };
      }),
    };
  }
}

