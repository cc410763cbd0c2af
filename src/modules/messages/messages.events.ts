import { MessageDto } from './dto/message.dto';

export const MESSAGE_CREATED = 'message.created';
export const MESSAGE_EDITED = 'message.edited';
export const MESSAGE_DELETED = 'message.deleted';

export interface MessageEvent {
  roomId: string;
  message: MessageDto;
  memberIds: string[];
}

export interface MessageDeletedEvent {
  roomId: string;
  id: string;
  seq: number;
  version: number;
  memberIds: string[];
}
