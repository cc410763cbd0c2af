import { isoDate } from '../../common/iso-date';
import { UserDto } from './dto/user.dto';

/**
 * A users row as the repositories select it (USER_COLUMNS). Timestamps are Dates as pg parses
 * them, or already the protocol's text (a message's sender from the insert path).
 */
export interface UserRow {
  id: string;
  username: string;
  email: string;
  avatar: string;
  status: string;
  is_online: boolean;
  last_seen: Date | string;
  created_at: Date | string;
  updated_at: Date | string;
}

export const USER_COLUMNS = 'id, username, email, avatar, status, is_online, last_seen, created_at, updated_at';

/**
 * The protocol's User object. `email` only when the viewer is that user (Part A6);
 * `is_online` is the live presence when known.
 */
export function toUserDto(row: UserRow, viewerId: string | null, online?: boolean): UserDto {
  const dto: UserDto = {
    id: row.id,
    username: row.username,
    avatar: row.avatar ?? '',
    status: row.status ?? '',
    is_online: online ?? row.is_online,
    last_seen: isoDate(row.last_seen),
    created_at: isoDate(row.created_at),
    updated_at: isoDate(row.updated_at),
  };
  if (viewerId === row.id) {
    return { id: dto.id, username: dto.username, email: row.email, ...dtoRest(dto) };
  }
  return dto;
}

function dtoRest(d: UserDto): Omit<UserDto, 'id' | 'username' | 'email'> {
  const { id: _i, username: _u, email: _e, ...rest } = d;
  return rest;
}

/** Picks a user out of a joined row whose columns carry a prefix (`sender_id`, `sender_username`…). */
export function prefixedUser(row: Record<string, unknown>, p: string): UserRow {
  return {
    id: row[`${p}id`] as string,
    username: row[`${p}username`] as string,
    email: row[`${p}email`] as string,
    avatar: row[`${p}avatar`] as string,
    status: row[`${p}status`] as string,
    is_online: row[`${p}is_online`] as boolean,
    last_seen: row[`${p}last_seen`] as Date | string,
    created_at: row[`${p}created_at`] as Date | string,
    updated_at: row[`${p}updated_at`] as Date | string,
  };
}

export function userColumns(alias: string, p: string): string {
  return USER_COLUMNS.split(', ')
    .map((c) => `${alias}.${c} AS ${p}${c}`)
    .join(', ');
}
