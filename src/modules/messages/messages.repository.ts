import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ClientBase } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { preparedTextRows, TextRow, timestamptzText as ts } from '../../database/prepared';
import { returnedRows } from '../../database/returned-rows';
import { userColumns } from '../users/user.mapper';
import { MESSAGE_SELECT, messageColumns, Row } from './message.mapper';

/** The sender columns a message shows (`toUserDto` without e-mail; online comes from the hub). */
const PUBLIC_SENDER = ['username', 'avatar', 'status', 'last_seen', 'created_at', 'updated_at'];

export interface NewMessage {
  roomId: string;
  senderId: string;
  content: string;
  type: string;
  fileUrl: string | null;
  fileName: string | null;
  fileSize: number | null;
  replyToId: string | null;
  clientMsgId: string | null;
}

/** SELECT_INSERTED's columns in order: a text row (preparedTextRows) is read by these positions. */
const INSERTED = ['id', 'room_id', 'seq', 'created_at', ...PUBLIC_SENDER.map((c) => `s_${c}`)];
const at = (column: string): number => {
  const i = INSERTED.indexOf(column);
  if (i < 0) throw new Error(`SELECT_INSERTED has no column ${column}`);
  return i;
};
/** Positions of SELECT_INSERTED's columns, for insertedRow and the writer's matching of rows to callers. */
export const COL = {
  id: at('id'),
  roomId: at('room_id'),
  seq: at('seq'),
  createdAt: at('created_at'),
  username: at('s_username'),
  avatar: at('s_avatar'),
  status: at('s_status'),
  lastSeen: at('s_last_seen'),
  senderCreatedAt: at('s_created_at'),
  senderUpdatedAt: at('s_updated_at'),
} as const;

/**
 * Closes an insert statement whose CTE `ins` returns the new rows: per row only what the database
 * decided (id, seq, created_at; room_id to match rows back to a batch's callers) and the sender's
 * public profile. Everything else is what was written; `insertedRow` puts the two together. 10
 * columns instead of a re-read's 26: less for PostgreSQL to output and for this process to parse
 * on the hottest statement. The sender is joined by key alone: the planner expects `ins` to be one
 * row, so its cached generic plan looks each sender up in `users_pkey` whatever the statistics
 * say. A condition restating the parameters' senders (`s.id = ANY($2)`, until 2026-11-29) made
 * that index scan look dearer; where `users` had never been analyzed (autovacuum off, or a young
 * database), the plan scanned the whole table once per inserted row instead (bench/README.md).
 */
export const SELECT_INSERTED = `SELECT ${INSERTED.map((c) => (c.startsWith('s_') ? `s.${c.slice(2)} AS ${c}` : `ins.${c}`)).join(', ')}
     FROM ins JOIN users s ON s.id = ins.sender_id`;

/**
 * A row of SELECT_INSERTED (as text, see preparedTextRows) + the message as written → the row a
 * MESSAGE_SELECT re-read gives (without a reply), timestamps already the protocol's text. Every
 * column is named in one object literal on purpose: `{ ...row, 13 more }` cost 40–70 µs per call
 * on Node 20 (microbenchmark, rows built as pg builds them and plain literal rows alike; 26 µs of
 * self time per message in a CPU profile of the server), this literal well under 1 µs.
 */
export function insertedRow(m: NewMessage, r: TextRow): Row {
  const createdAt = ts(r[COL.createdAt]!);
  const lastSeen = r[COL.lastSeen];
  return {
    id: r[COL.id],
    room_id: r[COL.roomId],
    sender_id: m.senderId,
    content: m.content,
    type: m.type,
    file_url: m.fileUrl,
    file_name: m.fileName,
    file_size: m.fileSize,
    is_edited: false,
    is_deleted: false,
    reply_to_id: m.replyToId,
    seq: r[COL.seq],
    version: r[COL.seq], // a new message's version is its seq (both set by the insert)
    client_msg_id: m.clientMsgId,
    created_at: createdAt,
    updated_at: createdAt, // both default to the transaction's now()
    s_id: m.senderId,
    s_username: r[COL.username],
    s_avatar: r[COL.avatar],
    s_status: r[COL.status],
    s_last_seen: lastSeen === null ? null : ts(lastSeen),
    s_created_at: ts(r[COL.senderCreatedAt]!),
    s_updated_at: ts(r[COL.senderUpdatedAt]!),
  };
}

/** One message (idle path of the group commit, and its one-by-one retry); prepared once per connection. */
const INSERT_ONE_SQL = `WITH r AS (
     UPDATE rooms SET last_seq = last_seq + 1, last_message_at = now(), updated_at = now()
      WHERE id = $1 RETURNING last_seq
   ), ins AS (
     INSERT INTO messages (room_id, sender_id, content, type, file_url, file_name, file_size, reply_to_id, seq, version, client_msg_id)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, r.last_seq, r.last_seq, $9 FROM r
     RETURNING id, room_id, sender_id, seq, created_at
   )
   ${SELECT_INSERTED}`;

/** Every SQL statement about messages. */
@Injectable()
export class MessagesRepository {
  constructor(@InjectDataSource() readonly ds: DataSource) {}

  /**
   * Takes the room's next sequence number and inserts the message in ONE statement (so one
   * transaction): the room row lock orders concurrent senders, a failure rolls the number back
   * (no gap, no reuse). Returns the row with its sender, or null if the room is gone.
   */
  async insert(m: NewMessage, on: ClientBase): Promise<Row | null> {
    const rows = await preparedTextRows(on, 'message_insert_one', INSERT_ONE_SQL, [
      m.roomId,
      m.senderId,
      m.content,
      m.type,
      m.fileUrl,
      m.fileName,
      m.fileSize,
      m.replyToId,
      m.clientMsgId,
    ]);
    return rows[0] ? insertedRow(m, rows[0]) : null;
  }

  async findById(id: string, em?: EntityManager): Promise<Row | null> {
    const rows = await (em ?? this.ds.manager).query(`${MESSAGE_SELECT} WHERE m.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findByClientId(senderId: string, clientMsgId: string): Promise<Row | null> {
    const rows = await this.ds.query(`${MESSAGE_SELECT} WHERE m.sender_id = $1 AND m.client_msg_id = $2`, [senderId, clientMsgId]);
    return rows[0] ?? null;
  }

  /** Page 1 = newest `limit` messages; returned oldest-first. */
  async page(roomId: string, limit: number, offset: number): Promise<{ rows: Row[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.ds.query(
        `SELECT * FROM (${MESSAGE_SELECT} WHERE m.room_id = $1 ORDER BY m.seq DESC LIMIT $2 OFFSET $3) p ORDER BY p.seq ASC`,
        [roomId, limit, offset],
      ),
      this.ds.query(`SELECT count(*)::int AS n FROM messages WHERE room_id = $1`, [roomId]),
    ]);
    return { rows, total: count[0].n };
  }

  /** Messages changed after `after` (version > after), oldest change first. */
  async changes(roomId: string, after: number, limit: number): Promise<Row[]> {
    return this.ds.query(`${MESSAGE_SELECT} WHERE m.room_id = $1 AND m.version > $2 ORDER BY m.version ASC LIMIT $3`, [
      roomId,
      after,
      limit,
    ]);
  }

  async lastSeq(roomId: string): Promise<number | null> {
    const rows = await this.ds.query(`SELECT last_seq FROM rooms WHERE id = $1`, [roomId]);
    return rows[0] ? Number(rows[0].last_seq) : null;
  }

  async partnerReadAt(roomId: string, userId: string): Promise<Date | null> {
    const rows = await this.ds.query(
      `SELECT m.read_at FROM room_members m JOIN rooms r ON r.id = m.room_id AND r.type = 'direct'
        WHERE m.room_id = $1 AND m.user_id <> $2 LIMIT 1`,
      [roomId, userId],
    );
    return rows[0]?.read_at ?? null;
  }

  /** Locks the message row for an edit/delete decision inside `em`'s transaction. */
  async lockForChange(em: EntityManager, id: string): Promise<Row | null> {
    const rows = await em.query(
      `SELECT m.id, m.room_id, m.sender_id, m.seq, m.is_deleted, m.created_at, m.file_url,
              EXISTS (SELECT 1 FROM room_members o WHERE o.room_id = m.room_id AND o.user_id <> m.sender_id
                         AND o.read_at >= m.created_at) AS read_by_other
         FROM messages m WHERE m.id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ?? null;
  }

  async nextSeq(em: EntityManager, roomId: string): Promise<number> {
    const rows = await em.query(`UPDATE rooms SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq`, [roomId]);
    return Number(returnedRows<{ last_seq: string }>(rows)[0].last_seq);
  }

  async applyEdit(em: EntityManager, id: string, content: string, version: number): Promise<void> {
    await em.query(`UPDATE messages SET content = $2, is_edited = true, version = $3, updated_at = now() WHERE id = $1`, [id, content, version]);
  }

  async applyDelete(em: EntityManager, id: string, version: number): Promise<void> {
    await em.query(
      `UPDATE messages SET content = '', type = 'text', file_url = NULL, file_name = NULL, file_size = NULL,
              is_deleted = true, version = $2, updated_at = now() WHERE id = $1`,
      [id, version],
    );
  }

  /** The replied-to message, only if it is in `roomId`. */
  async findInRoom(id: string, roomId: string): Promise<Row | null> {
    const rows = await this.ds.query(
      `SELECT ${messageColumns('m')}, ${userColumns('s', 's_')} FROM messages m JOIN users s ON s.id = m.sender_id
        WHERE m.id = $1 AND m.room_id = $2`,
      [id, roomId],
    );
    return rows[0] ?? null;
  }

  async uploadByStoredName(name: string): Promise<{ original_name: string; size: string } | null> {
    const rows = await this.ds.query(`SELECT original_name, size FROM uploads WHERE stored_name = $1`, [name]);
    return rows[0] ?? null;
  }
}
