import { UserRow } from '../users/user.mapper';

export const DM_CREATED = 'dm.created';
export interface DmCreatedEvent {
  roomId: string;
  recipientId: string;
  sender: UserRow;
}
