import { isoDate } from '../../common/iso-date';
import { prefixedUser, toUserDto, userColumns } from '../users/user.mapper';
import { MessageDto } from './dto/message.dto';

const M = 'id, room_id, sender_id, content, type, file_url, file_name, file_size, is_edited, is_deleted, reply_to_id, seq, version, client_msg_id, created_at, updated_at';

export const messageColumns = (alias: string, prefix = '') =>
  M.split(', ').map((c) => (prefix ? `${alias}.${c} AS ${prefix}${c}` : `${alias}.${c}`)).join(', ');

/** Message + sender + replied-to message + its sender, for history and re-reads. */
export const MESSAGE_SELECT = `
  SELECT ${messageColumns('m')}, ${userColumns('s', 's_')},
         ${M.split(', ').map((c) => `rt.${c} AS rt_${c}`).join(', ')}, ${userColumns('rs', 'rs_')}
    FROM messages m
    JOIN users s ON s.id = m.sender_id
    LEFT JOIN messages rt ON rt.id = m.reply_to_id
    LEFT JOIN users rs ON rs.id = rt.sender_id`;

export type Row = Record<string, unknown>;
export type OnlineFn = (userId: string) => boolean;

function core(row: Row, p: string, viewerId: string, online: OnlineFn, senderPrefix: string): MessageDto {
  const sender = prefixedUser(row, senderPrefix);
  const dto: MessageDto = {
    id: row[`${p}id`] as string,
    room_id: row[`${p}room_id`] as string,
    sender_id: row[`${p}sender_id`] as string,
    sender: toUserDto(sender, viewerId, online(sender.id)),
    content: row[`${p}content`] as string,
    type: row[`${p}type`] as string,
    is_edited: row[`${p}is_edited`] as boolean,
    is_deleted: row[`${p}is_deleted`] as boolean,
    seq: Number(row[`${p}seq`]),
    version: Number(row[`${p}version`]),
    created_at: isoDate(row[`${p}created_at`] as Date | string),
    updated_at: isoDate(row[`${p}updated_at`] as Date | string),
  };
  if (row[`${p}file_url`]) dto.file_url = row[`${p}file_url`] as string;
  if (row[`${p}file_name`]) dto.file_name = row[`${p}file_name`] as string;
  if (row[`${p}file_size`]) dto.file_size = Number(row[`${p}file_size`]);
  if (row[`${p}reply_to_id`]) dto.reply_to_id = row[`${p}reply_to_id`] as string;
  if (row[`${p}client_msg_id`]) dto.client_msg_id = row[`${p}client_msg_id`] as string;
  return dto;
}

/** A row of MESSAGE_SELECT → the protocol's Message (with `reply_to` when it has one). */
export function toMessageDto(row: Row, viewerId: string, online: OnlineFn): MessageDto {
  const dto = core(row, '', viewerId, online, 's_');
  if (row.rt_id) dto.reply_to = core(row, 'rt_', viewerId, online, 'rs_');
  return reorder(dto);
}

/** A message whose columns carry a prefix (`lm_id`, …) and whose sender's carry `senderPrefix`. */
export function toPrefixedMessageDto(row: Row, prefix: string, senderPrefix: string, online: OnlineFn): MessageDto {
  return core(row, prefix, '', online, senderPrefix);
}

/** Keeps `reply_to` right after `reply_to_id` as in the original's struct order (cosmetic). */
function reorder(d: MessageDto): MessageDto {
  if (!d.reply_to) return d;
  const { created_at, updated_at, seq, version, client_msg_id, ...head } = d;
  return { ...head, seq, version, ...(client_msg_id ? { client_msg_id } : {}), created_at, updated_at };
}
