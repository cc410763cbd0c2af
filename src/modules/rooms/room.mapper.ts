import { prefixedUser, toUserDto, userColumns } from '../users/user.mapper';
import { RoomDto, RoomMemberDto } from './dto/room.dto';

export const ROOM_COLUMNS = `r.id, r.name, r.description, r.type, r.created_by, r.last_seq, r.last_message_at, r.created_at, r.updated_at, ${userColumns('c', 'c_')}`;

export interface RoomRow {
  id: string;
  name: string;
  description: string;
  type: 'public' | 'private' | 'direct';
  created_by: string;
  last_seq: string;
  last_message_at: Date | null;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

export type OnlineFn = (userId: string) => boolean;

export function toRoomDto(row: RoomRow, viewerId: string, online: OnlineFn, members?: RoomMemberDto[]): RoomDto {
  const creator = prefixedUser(row, 'c_');
  const dto: RoomDto = {
    id: row.id,
    name: row.name,
    description: row.description ?? '',
    type: row.type,
    created_by: row.created_by,
    creator: toUserDto(creator, viewerId, online(creator.id)),
    last_seq: Number(row.last_seq ?? 0),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
  if (members && members.length > 0) dto.members = members;
  if (row.last_message_at) dto.last_message_at = row.last_message_at;
  return dto;
}

export const MEMBER_COLUMNS = `m.id AS m_id, m.room_id AS m_room_id, m.user_id AS m_user_id, m.role AS m_role, m.read_at AS m_read_at, m.joined_at AS m_joined_at, ${userColumns('u', 'u_')}`;

export function toMemberDto(row: Record<string, unknown>, viewerId: string, online: OnlineFn): RoomMemberDto {
  const user = prefixedUser(row, 'u_');
  const dto: RoomMemberDto = {
    id: row.m_id as string,
    room_id: row.m_room_id as string,
    user_id: row.m_user_id as string,
    user: toUserDto(user, viewerId, online(user.id)),
    role: row.m_role as string,
    joined_at: row.m_joined_at as Date,
  };
  if (row.m_read_at) dto.read_at = row.m_read_at as Date;
  return dto;
}
