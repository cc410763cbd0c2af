import { Injectable, Logger } from '@nestjs/common';
import { Batcher } from '../../common/batcher';
import { PresenceEvent } from '../../realtime/connection-hub';
import { RealtimeService } from '../../realtime/realtime.service';
import { RoomsRepository } from '../rooms/rooms.repository';
import { UsersRepository } from './users.repository';

const MAX_BATCH = 500;
/** A batch collects the transitions of this long (a presence change seen 20 ms later is still instant). */
const GATHER_MS = 20;

interface Transition extends PresenceEvent {
  online: boolean;
}

/**
 * Presence transitions (a user's first socket anywhere opened / last one closed) are stored and
 * announced to the user's contacts in batches: a batch gathers the transitions of 20 ms (or 500),
 * and while one batch is in the database later ones queue for the next — one UPDATE and one
 * contacts query for the whole batch instead of two statements per user. A connect storm (a
 * restart, a network blip: thousands of reconnects) costs a few statements, and each contact's
 * socket gets the batch's frames in one write (see ws-frame) instead of one write per transition.
 *
 * Transitions of one user keep their order; within a batch only the user's last one counts (an
 * online→offline blip inside one batch is announced as what it ended as).
 */
@Injectable()
export class PresenceAnnouncer {
  private readonly logger = new Logger('Presence');
  private readonly batches = new Batcher<Transition, undefined>((batch) => this.announceBatch(batch), MAX_BATCH, GATHER_MS);

  constructor(
    private readonly realtime: RealtimeService,
    private readonly rooms: RoomsRepository,
    private readonly users: UsersRepository,
  ) {}

  announce(e: PresenceEvent, online: boolean): void {
    void this.batches.add({ userId: e.userId, username: e.username, online });
  }

  private async announceBatch(items: Transition[]): Promise<undefined[]> {
    const last = new Map<string, Transition>();
    for (const t of items) {
      last.delete(t.userId); // re-inserted: the batch keeps the order of each user's last transition
      last.set(t.userId, t);
    }
    const batch = [...last.values()];
    try {
      const names = await this.users.setOnlineMany(batch.map((t) => ({ id: t.userId, online: t.online })));
      const contacts = await this.rooms.contactsOfMany(batch.map((t) => t.userId));
      for (const t of batch) {
        const audience = contacts.get(t.userId);
        if (!audience) continue;
        this.realtime.toUsers(audience, {
          type: t.online ? 'user_online' : 'user_offline',
          payload: { user_id: t.userId, username: t.username || names.get(t.userId) || '' },
        });
      }
    } catch (err) {
      this.logger.warn({ err, users: batch.length }, 'presence update failed');
    }
    return items.map(() => undefined); // one (empty) outcome per item
  }
}
