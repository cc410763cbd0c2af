import { DomainError } from '../../common/errors/domain-error';
import { charLength, hasInvalidText, parseUuid } from '../../common/validation/uuid';

export const MAX_CONTENT_CHARS = 2000;
export const MAX_FILE_NAME_CHARS = 255;

export interface SendMessageInput {
  roomId: string;
  content: string;
  type: 'text' | 'image' | 'file' | 'audio';
  replyToId: string | null;
  fileUrl: string | null;
  fileName: string | null;
  fileSize: number | null;
  clientMsgId: string | null;
}

const bad = (m: string) => new DomainError('BAD_REQUEST', m);
const isStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';

/**
 * The one validation of a message to send, shared by WebSocket `send_message` and
 * `POST /rooms/:id/messages`; errors carry the protocol's texts in the protocol's order.
 */
export function parseSendMessage(raw: unknown, roomIdOverride?: string): SendMessageInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('Invalid payload');
  const p = raw as Record<string, unknown>;
  if (
    !isStr(p.content) ||
    !isStr(p.type) ||
    !isStr(p.file_url) ||
    !isStr(p.file_name) ||
    !isStr(p.reply_to_id) ||
    !isStr(p.client_msg_id) ||
    (roomIdOverride === undefined && !isStr(p.room_id)) ||
    !(p.file_size === undefined || p.file_size === null || (typeof p.file_size === 'number' && Number.isSafeInteger(p.file_size)))
  ) {
    throw bad('Invalid payload');
  }
  const type = p.type === 'image' || p.type === 'file' || p.type === 'audio' ? p.type : 'text';
  const content = (p.content as string | undefined) ?? '';
  if (type === 'text') {
    if (content.trim() === '' || charLength(content) > MAX_CONTENT_CHARS) throw bad('Message content must be 1-2000 characters');
  } else {
    if (!p.file_url) throw bad('file_url is required for file/image/audio messages');
    if (charLength(content) > MAX_CONTENT_CHARS) throw bad('Caption must be at most 2000 characters');
  }
  if (hasInvalidText(content)) throw bad('Message content contains invalid characters');
  const roomId = roomIdOverride ?? parseUuid(p.room_id);
  if (!roomId) throw bad('Invalid room ID');
  let replyToId: string | null = null;
  if (p.reply_to_id !== undefined && p.reply_to_id !== null && p.reply_to_id !== '') {
    replyToId = parseUuid(p.reply_to_id);
    if (!replyToId) throw bad('Invalid reply_to_id');
  }
  let clientMsgId: string | null = null;
  if (p.client_msg_id !== undefined && p.client_msg_id !== null && p.client_msg_id !== '') {
    clientMsgId = parseUuid(p.client_msg_id);
    if (!clientMsgId) throw bad('Invalid client_msg_id');
  }
  let fileName: string | null = null;
  if (type !== 'text' && typeof p.file_name === 'string' && p.file_name !== '') {
    if (charLength(p.file_name) > MAX_FILE_NAME_CHARS) throw bad('file_name must be at most 255 characters');
    if (hasInvalidText(p.file_name)) throw bad('file_name contains invalid characters');
    fileName = p.file_name;
  }
  return {
    roomId,
    content,
    type,
    replyToId,
    fileUrl: type === 'text' ? null : (p.file_url as string),
    fileName,
    fileSize: null,
    clientMsgId,
  };
}
