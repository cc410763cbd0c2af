import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuthUser } from '../../common/auth/auth-user';
import { DomainError } from '../../common/errors/domain-error';
import { pageParams, totalPages } from '../../common/pagination';
import { hasInvalidText, parseUuid } from '../../common/validation/uuid';
import { RealtimeService } from '../../realtime/realtime.service';
import { CreateRoomDto, RoomDto, RoomListDto, RoomMemberDto, RoomPageDto } from './dto/room.dto';
import { toMemberDto, toRoomDto } from './room.mapper';
import { RoomAccess } from './rooms.access';
import {
  MemberEvent,
  MessagesReadEvent,
  ROOM_DELETED,
  ROOM_MEMBER_JOINED,
  ROOM_MEMBER_LEFT,
  ROOM_MESSAGES_READ,
  RoomDeletedEvent,
} from './rooms.events';
import { RoomsRepository } from './rooms.repository';

const MY_ROOMS_CAP = 1000;
const bad = (m: string) => new DomainError('BAD_REQUEST', m);

@Injectable()
export class RoomsService {
  private readonly online = (id: string) => this.realtime.isOnline(id);

  constructor(
    private readonly repo: RoomsRepository,
    private readonly access: RoomAccess,
    private readonly realtime: RealtimeService,
    private readonly events: EventEmitter2,
  ) {}

  async listPublic(me: AuthUser, rawPage: unknown, rawLimit: unknown): Promise<RoomPageDto> {
    const { page, limit } = pageParams(rawPage, rawLimit, 20, 50);
    const { rows, total } = await this.repo.listPublic(limit, (page - 1) * limit);
    return { data: rows.map((r) => toRoomDto(r, me.id, this.online)), total, page, limit, total_pages: totalPages(total, limit) };
  }

  async listMine(me: AuthUser): Promise<RoomListDto> {
    const rows = await this.repo.listForUser(me.id, MY_ROOMS_CAP);
    return { data: rows.map((r) => toRoomDto(r, me.id, this.online)) };
  }

  async create(me: AuthUser, dto: CreateRoomDto): Promise<RoomDto> {
    const name = dto.name;
    const description = dto.description ?? '';
    if (hasInvalidText(name) || hasInvalidText(description)) throw bad('name and description must be valid text');
    const id = await this.repo.ds.transaction(async (em) => {
      const roomId = await this.repo.insertRoom(em, { name, description, type: dto.type ?? 'public', createdBy: me.id });
      await this.repo.addMember(roomId!, me.id, 'admin', em);
      return roomId!;
    });
    return this.detail(me, id);
  }

  /** Room with creator and members; private and direct rooms only for their members. */
  async detail(me: AuthUser, roomId: string): Promise<RoomDto> {
    await this.access.requireVisible(me.id, roomId);
    const [row, members] = await Promise.all([this.repo.findRoom(roomId), this.repo.members([roomId])]);
    if (!row) throw new DomainError('NOT_FOUND', 'Room not found');
    return toRoomDto(row, me.id, this.online, members.map((m) => toMemberDto(m, me.id, this.online)));
  }

  async remove(me: AuthUser, roomId: string): Promise<{ message: string }> {
    const info = await this.access.requireVisible(me.id, roomId, 'room not found');
    const isAdmin = info.members.get(me.id) === 'admin';
    if (info.createdBy !== me.id && !(isAdmin && info.type !== 'direct')) {
      throw new DomainError('FORBIDDEN', 'only room creator can delete this room');
    }
    const memberIds = info.memberIds;
    if (!(await this.repo.deleteRoom(roomId))) throw new DomainError('NOT_FOUND', 'room not found');
    this.access.invalidate(roomId);
    this.events.emit(ROOM_DELETED, { roomId, memberIds, actorId: me.id } satisfies RoomDeletedEvent);
    return { message: 'Room deleted successfully' };
  }

  async join(me: AuthUser, roomId: string): Promise<{ message: string }> {
    const info = await this.access.get(roomId);
    if (!info || (info.type !== 'public' && !info.members.has(me.id))) throw new DomainError('NOT_FOUND', 'room not found');
    if (info.members.has(me.id)) return { message: 'Joined room successfully' };
    const added = await this.repo.addMember(roomId, me.id, 'member');
    this.access.invalidate(roomId);
    if (added) await this.emitMember(ROOM_MEMBER_JOINED, roomId, me.id, me.username);
    return { message: 'Joined room successfully' };
  }

  async leave(me: AuthUser, roomId: string): Promise<{ message: string }> {
    if (!(await this.repo.removeMember(roomId, me.id))) throw bad('not a member of this room');
    await this.repo.ensureAdmin(roomId);
    this.access.invalidate(roomId);
    await this.emitMember(ROOM_MEMBER_LEFT, roomId, me.id, me.username);
    return { message: 'Left room successfully' };
  }

  async addMember(me: AuthUser, roomId: string, rawUserId: string): Promise<RoomMemberDto> {
    const info = await this.requireAdmin(me, roomId, 'only room admins can add members');
    const userId = parseUuid(rawUserId);
    if (!userId) throw bad('Invalid user ID');
    if (!(await this.repo.userExists(userId))) throw new DomainError('NOT_FOUND', 'User not found');
    if (!info.members.has(userId)) {
      await this.repo.addMember(roomId, userId, 'member');
      this.access.invalidate(roomId);
      const member = (await this.repo.members([roomId])).find((m) => m.m_user_id === userId);
      await this.emitMember(ROOM_MEMBER_JOINED, roomId, userId, String(member?.u_username ?? ''), me.id);
    }
    return this.member(me, roomId, userId);
  }

  async removeMember(me: AuthUser, roomId: string, userId: string): Promise<{ message: string }> {
    const info = await this.requireAdmin(me, roomId, 'only room admins can remove members');
    const role = info.members.get(userId);
    if (!role) throw new DomainError('NOT_FOUND', 'not a member of this room');
    if (userId === me.id) throw bad('use POST /rooms/:id/leave to leave a room');
    if (role === 'admin' && info.createdBy !== me.id) throw new DomainError('FORBIDDEN', 'only the room creator can remove an admin');
    if (userId === info.createdBy) throw new DomainError('FORBIDDEN', 'the room creator cannot be removed');
    const username = String((await this.repo.members([roomId])).find((m) => m.m_user_id === userId)?.u_username ?? '');
    await this.repo.removeMember(roomId, userId);
    this.access.invalidate(roomId);
    await this.emitMember(ROOM_MEMBER_LEFT, roomId, userId, username, me.id);
    return { message: 'Member removed successfully' };
  }

  async setRole(me: AuthUser, roomId: string, userId: string, role: 'admin' | 'member'): Promise<RoomMemberDto> {
    const info = await this.requireAdmin(me, roomId, 'only room admins can change roles');
    if (!info.members.has(userId)) throw new DomainError('NOT_FOUND', 'not a member of this room');
    if (userId === info.createdBy && role !== 'admin') throw new DomainError('FORBIDDEN', 'the room creator stays admin');
    await this.repo.setRole(roomId, userId, role);
    this.access.invalidate(roomId);
    return this.member(me, roomId, userId);
  }

  async markRead(me: AuthUser, roomId: string): Promise<{ message: string }> {
    const info = await this.access.requireMember(me.id, roomId, 'not a member of this room');
    const readAt = await this.repo.markRead(roomId, me.id);
    if (!readAt) throw new DomainError('FORBIDDEN', 'not a member of this room');
    // Read receipts are shown in direct rooms only; group rooms do not broadcast who read when.
    if (info.type === 'direct') {
      this.events.emit(ROOM_MESSAGES_READ, { roomId, userId: me.id, readAt, memberIds: info.memberIds } satisfies MessagesReadEvent);
    }
    return { message: 'Marked as read' };
  }

  private async requireAdmin(me: AuthUser, roomId: string, message: string) {
    const info = await this.access.requireMember(me.id, roomId, message);
    if (info.type === 'direct') throw new DomainError('FORBIDDEN', 'direct rooms have no members to manage');
    if (info.members.get(me.id) !== 'admin') throw new DomainError('FORBIDDEN', message);
    return info;
  }

  private async member(me: AuthUser, roomId: string, userId: string): Promise<RoomMemberDto> {
    const row = (await this.repo.members([roomId])).find((m) => m.m_user_id === userId);
    if (!row) throw new DomainError('NOT_FOUND', 'not a member of this room');
    return toMemberDto(row, me.id, this.online);
  }

  private async emitMember(event: string, roomId: string, userId: string, username: string, actorId?: string): Promise<void> {
    const info = await this.access.get(roomId);
    const memberIds = info?.memberIds ?? [];
    this.events.emit(event, { roomId, userId, username, memberIds, actorId } satisfies MemberEvent);
  }
}
