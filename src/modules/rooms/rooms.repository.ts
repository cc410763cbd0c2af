import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '../../database/prepared';
import { returnedRows } from '../../database/returned-rows';
import { MEMBER_COLUMNS, ROOM_COLUMNS, RoomRow } from './room.mapper';

export interface MembershipRow {
  user_id: string;
  role: 'admin' | 'member';
}

/** Every SQL statement about rooms and memberships. */
@Injectable()
export class RoomsRepository {
  constructor(@InjectDataSource() readonly ds: DataSource) {}

  private q(em?: EntityManager) {
    return em ?? this.ds.manager;
  }

  async findRoom(id: string, em?: EntityManager): Promise<RoomRow | null> {
    const rows = await this.q(em).query(
      `SELECT ${ROOM_COLUMNS} FROM rooms r JOIN users c ON c.id = r.created_by WHERE r.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** The room's type plus every member with their role (the access cache is filled from this). */
  async loadAccess(id: string): Promise<{ type: string; created_by: string; members: MembershipRow[] } | null> {
    const rows: { type: string; created_by: string; user_id: string | null; role: 'admin' | 'member' | null }[] =
      await this.ds.query(
        `SELECT r.type, r.created_by, m.user_id, m.role FROM rooms r
           LEFT JOIN room_members m ON m.room_id = r.id WHERE r.id = $1`,
        [id],
      );
    if (rows.length === 0) return null;
    return {
      type: rows[0].type,
      created_by: rows[0].created_by,
      members: rows.filter((r) => r.user_id).map((r) => ({ user_id: r.user_id!, role: r.role! })),
    };
  }

  async listPublic(limit: number, offset: number): Promise<{ rows: RoomRow[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.ds.query(
        `SELECT ${ROOM_COLUMNS} FROM rooms r JOIN users c ON c.id = r.created_by
          WHERE r.type = 'public' ORDER BY r.created_at DESC, r.id LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.ds.query(`SELECT count(*)::int AS n FROM rooms WHERE type = 'public'`),
    ]);
    return { rows, total: count[0].n };
  }

  async listForUser(userId: string, cap: number): Promise<RoomRow[]> {
    return this.ds.query(
      `SELECT ${ROOM_COLUMNS} FROM room_members me JOIN rooms r ON r.id = me.room_id
         JOIN users c ON c.id = r.created_by
        WHERE me.user_id = $1 ORDER BY r.updated_at DESC, r.id LIMIT $2`,
      [userId, cap],
    );
  }

  async members(roomIds: string[]): Promise<Record<string, unknown>[]> {
    if (roomIds.length === 0) return [];
    return this.ds.query(
      `SELECT ${MEMBER_COLUMNS} FROM room_members m JOIN users u ON u.id = m.user_id
        WHERE m.room_id = ANY($1::uuid[]) ORDER BY m.joined_at, m.id`,
      [roomIds],
    );
  }

  async insertRoom(
    em: EntityManager,
    r: { name: string; description: string; type: string; createdBy: string; dmKey?: string },
  ): Promise<string | null> {
    const rows = await em.query(
      `INSERT INTO rooms (name, description, type, created_by, dm_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (dm_key) WHERE dm_key IS NOT NULL DO NOTHING RETURNING id`,
      [r.name, r.description, r.type, r.createdBy, r.dmKey ?? null],
    );
    return rows[0]?.id ?? null;
  }

  async findDirectByKey(dmKey: string, em?: EntityManager): Promise<string | null> {
    const rows = await this.q(em).query(`SELECT id FROM rooms WHERE dm_key = $1`, [dmKey]);
    return rows[0]?.id ?? null;
  }

  /** Adds a membership unless it exists; true when a row was inserted. */
  async addMember(roomId: string, userId: string, role: 'admin' | 'member', em?: EntityManager): Promise<boolean> {
    const rows = await this.q(em).query(
      `INSERT INTO room_members (room_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (room_id, user_id) DO NOTHING RETURNING id`,
      [roomId, userId, role],
    );
    return rows.length > 0;
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const r = await this.ds.query(`DELETE FROM room_members WHERE room_id = $1 AND user_id = $2 RETURNING id`, [roomId, userId]);
    return affected(r) > 0;
  }

  /** When the last admin of a group room leaves, the longest-standing member becomes admin. */
  async ensureAdmin(roomId: string): Promise<void> {
    await this.ds.query(
      `UPDATE room_members SET role = 'admin'
        WHERE id = (SELECT id FROM room_members WHERE room_id = $1 ORDER BY joined_at, id LIMIT 1)
          AND NOT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND role = 'admin')
          AND (SELECT type FROM rooms WHERE id = $1) <> 'direct'`,
      [roomId],
    );
  }

  async setRole(roomId: string, userId: string, role: 'admin' | 'member'): Promise<boolean> {
    const r = await this.ds.query(`UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2 RETURNING id`, [roomId, userId, role]);
    return affected(r) > 0;
  }

  async deleteRoom(roomId: string): Promise<boolean> {
    // messages and memberships go with the room (ON DELETE CASCADE), in this one statement's transaction
    const r = await this.ds.query(`DELETE FROM rooms WHERE id = $1 RETURNING id`, [roomId]);
    return affected(r) > 0;
  }

  async markRead(roomId: string, userId: string): Promise<Date | null> {
    const r = await this.ds.query(
      `UPDATE room_members SET read_at = now() WHERE room_id = $1 AND user_id = $2 RETURNING read_at`,
      [roomId, userId],
    );
    return returnedRows<{ read_at: Date }>(r)[0]?.read_at ?? null;
  }

  /** Per user, everyone who shares a room with them (presence audience), for many users in one query. */
  async contactsOfMany(userIds: string[]): Promise<Map<string, string[]>> {
    const rows = await preparedQuery<{ of: string; user_id: string }>(
      this.ds,
      'rooms_contacts_of_many',
      `SELECT DISTINCT mine.user_id AS of, o.user_id FROM room_members mine JOIN room_members o ON o.room_id = mine.room_id
        WHERE mine.user_id = ANY($1::uuid[]) AND o.user_id <> mine.user_id`,
      [userIds],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.of);
      if (list) list.push(r.user_id);
      else out.set(r.of, [r.user_id]);
    }
    return out;
  }

  /** Users who share a direct room with the user (profile_updated audience). */
  async dmPartnersOf(userId: string): Promise<string[]> {
    const rows: { user_id: string }[] = await this.ds.query(
      `SELECT DISTINCT o.user_id FROM room_members mine
         JOIN rooms r ON r.id = mine.room_id AND r.type = 'direct'
         JOIN room_members o ON o.room_id = mine.room_id AND o.user_id <> $1
        WHERE mine.user_id = $1`,
      [userId],
    );
    return rows.map((r) => r.user_id);
  }

  async userExists(userId: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM users WHERE id = $1`, [userId]);
    return rows.length > 0;
  }
}

/** UPDATE/DELETE … RETURNING via DataSource.query yields [rows, count]. */
export function affected(r: unknown): number {
  if (Array.isArray(r) && Array.isArray(r[0])) return r[0].length;
  if (Array.isArray(r) && typeof r[1] === 'number') return r[1];
  return Array.isArray(r) ? r.length : 0;
}
