/** Typed events the rooms feature emits after its writes commit. */
export const ROOM_MEMBER_JOINED = 'room.member_joined';
export const ROOM_MEMBER_LEFT = 'room.member_left';
export const ROOM_DELETED = 'room.deleted';
export const ROOM_MESSAGES_READ = 'room.messages_read';
export const ROOM_MEMBERSHIP_CHANGED = 'room.membership_changed';

export interface MemberEvent {
  roomId: string;
  userId: string;
  username: string;
  /** members after the change (the audience) */
  memberIds: string[];
  /** who did it, when not the member themselves (admin add/remove) */
  actorId?: string;
}

export interface RoomDeletedEvent {
  roomId: string;
  memberIds: string[];
  actorId: string;
}

export interface MessagesReadEvent {
  roomId: string;
  userId: string;
  readAt: Date;
  memberIds: string[];
}
