import { UserRow } from './user.mapper';

export const PROFILE_UPDATED = 'user.profile_updated';
export interface ProfileUpdatedEvent {
  user: UserRow;
}

export const TOKENS_REVOKED = 'auth.tokens_revoked';
