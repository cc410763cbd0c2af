import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { messageColumns } from '../messages/message.mapper';
import { ROOM_COLUMNS } from '../rooms/room.mapper';
import { userColumns } from '../users/user.mapper';

@Injectable()
export class DmRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Every direct room of the user that has a message, with the other user, the last message
   * (with sender) and the unread count: one query, however many conversations.
   */
  async listForUser(userId: string, cap: number): Promise<Record<string, unknown>[]> {
    return this.ds.query(
      `SELECT ${ROOM_COLUMNS}, ${userColumns('ou', 'o_')}, ${messageColumns('lm', 'lm_')}, ${userColumns('ls', 's_')},
              (SELECT count(*) FROM messages x
                WHERE x.room_id = r.id AND x.sender_id <> $1 AND NOT x.is_deleted
                  AND (me.read_at IS NULL OR x.created_at > me.read_at))::int AS unread_count
         FROM room_members me
         JOIN rooms r ON r.id = me.room_id AND r.type = 'direct'
         JOIN users c ON c.id = r.created_by
         JOIN room_members om ON om.room_id = r.id AND om.user_id <> $1
         JOIN users ou ON ou.id = om.user_id
         JOIN LATERAL (SELECT * FROM messages m WHERE m.room_id = r.id ORDER BY m.seq DESC LIMIT 1) lm ON true
         JOIN users ls ON ls.id = lm.sender_id
        WHERE me.user_id = $1
        ORDER BY lm.created_at DESC, r.id
        LIMIT $2`,
      [userId, cap],
    );
  }
}
