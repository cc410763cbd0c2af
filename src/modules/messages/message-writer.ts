import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, ClientBase, ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { Batcher, Failed } from '../../common/batcher';
import { isServerError, poolOf, preparedTextRows, TextRow } from '../../database/prepared';
import { Row } from './message.mapper';
import { COL, insertedRow, MessagesRepository, NewMessage, SELECT_INSERTED } from './messages.repository';

const MAX_BATCH = 256;
/** Statements on the writer's connection at once, and the sends a second one needs (see MessageWriter). */
const IN_FLIGHT = 2;
const MIN_SECOND = 4;

/**
 * The group commit's one statement (prepared once per connection). This process numbers the batch:
 * $10/$11 are each room's id and message count, $12 each message's place among its room's
 * messages (1, 2, …); the statement moves each room's `last_seq` by its count and inserts message
 * k of a room as `base + k`. Numbering here instead of in SQL (an aggregate, a window function and
 * two sorts over the input) and the `= ANY` condition on rooms (the cached generic plan finds the
 * rooms by primary key instead of scanning the table) took 12–21 % off the database's CPU time
 * per statement; senders are joined by key alone (see SELECT_INSERTED; bench/README.md, "The
 * group-commit statement").
 */
const INSERT_BATCH_SQL = `WITH r AS (
     UPDATE rooms SET last_seq = rooms.last_seq + c.n, last_message_at = now(), updated_at = now()
       FROM unnest($10::uuid[], $11::bigint[]) AS c(room_id, n)
      WHERE rooms.id = c.room_id AND rooms.id = ANY($10::uuid[])
     RETURNING rooms.id, rooms.last_seq - c.n AS base
   ), ins AS (
     INSERT INTO messages (room_id, sender_id, content, type, file_url, file_name, file_size, reply_to_id, seq, version, client_msg_id)
     SELECT t.room_id, t.sender_id, t.content, t.type, t.file_url, t.file_name, t.file_size, t.reply_to_id, r.base + t.k, r.base + t.k, t.client_msg_id
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::uuid[], $9::uuid[], $12::bigint[])
              AS t(room_id, sender_id, content, type, file_url, file_name, file_size, reply_to_id, client_msg_id, k)
       JOIN r ON r.id = t.room_id
     RETURNING id, room_id, sender_id, seq, created_at
   )
   ${SELECT_INSERTED}`;

/**
 * Group commit for new messages. Sends read in one event-loop turn go into ONE statement: each
 * room's `last_seq` moves once by the number of its messages, and the messages take consecutive
 * numbers in arrival order — still one transaction, so no gap and no reuse. Idle, a send is
 * written at the end of the event-loop turn that read it (with the other sends read in the same
 * turn, no timer); under load the database sees a few large statements instead of thousands of
 * small ones (see Batcher).
 *
 * The writer has a connection of its own, pipelined (pg's `pipeline` mode), with up to two
 * statements on it at once: when four or more sends arrive while a statement runs, they go out in
 * a second one at the end of their turn, which the database starts the moment the first commits,
 * instead of waiting until the first one's result has come back here and this process has got
 * round to reading it (fewer wait for the first to finish: at low rates a second statement for one
 * or two messages costs more than it saves). The database runs a connection's statements one after
 * another, each its own transaction, so the second sees the first's numbers committed and rooms
 * keep their order (RoomOrder orders the deliveries by version in any case). Sends that arrive
 * while both run wait for the first to finish and go together. When a statement commits, the next
 * one (if any waits) is written before the committed batch's callers go on to fan out.
 *
 * A batch that the database rejects as a whole (a client_msg_id retry, a reply to a deleted
 * message, a deadlock with another instance) is retried one message at a time on the same
 * connection, so each caller gets its own outcome. A lost connection, a read timeout or a failed
 * connect fails every send of the batch at once (503 for each; whether a statement cut off in
 * flight committed is unknown here, and a client's retry with its client_msg_id settles it);
 * the next batch opens a new connection. So a database that stops answering costs each queued
 * send about one timeout, not one per message ahead of it.
 */
@Injectable()
export class MessageWriter implements OnModuleDestroy {
  private readonly logger = new Logger('MessageWriter');
  private readonly batches = new Batcher<NewMessage, Row | null>((ms) => this.writeBatch(ms), MAX_BATCH, 'turn', IN_FLIGHT, MIN_SECOND);
  private conn: Client | null = null;
  private connecting: Promise<Client> | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly repo: MessagesRepository,
  ) {}

  /** Resolves after the commit with the stored row (with sender), or null if the room is gone. */
  write(m: NewMessage): Promise<Row | null> {
    return this.batches.add(m);
  }

  /** Resolves when everything queued so far is written (graceful shutdown). */
  idle(): Promise<void> {
    return this.batches.idle();
  }

  async onModuleDestroy(): Promise<void> {
    await this.idle();
    if (this.conn) this.dropConnection(this.conn);
  }

  /** Writes a batch on the writer's connection (the statement leaves before the first await when it is idle). */
  private async writeBatch(ms: NewMessage[]): Promise<(Row | null | Failed)[]> {
    if (ms.length === 1) return [await this.onConnection((conn) => this.repo.insert(ms[0], conn))];
    try {
      return await this.onConnection((conn) => this.insertBatch(conn, ms));
    } catch (e) {
      // the database unreachable or too slow: every send of the batch fails now (503; a client
      // retries with its client_msg_id), instead of each waiting its own timeout one after another
      if (!isServerError(e)) return ms.map(() => new Failed(e));
      this.logger.debug({ err: e, size: ms.length }, 'batch failed, writing one by one');
      const outcomes: (Row | null | Failed)[] = [];
      let down: Failed | undefined; // the connection failed meanwhile: the rest fail with it
      for (const m of ms) {
        const o = down ?? (await this.onConnection((conn) => this.repo.insert(m, conn)).catch((err: unknown) => new Failed(err)));
        if (o instanceof Failed && !isServerError(o.error)) down = o;
        outcomes.push(o);
      }
      return outcomes;
    }
  }

  /**
   * A statement on the writer's connection, opened when there is none; a broken one is closed,
   * and the next statement opens a new one. A server error leaves it usable.
   */
  private async onConnection<T>(run: (conn: ClientBase) => Promise<T>): Promise<T> {
    const conn = this.conn ?? (await this.connect());
    try {
      return await run(conn);
    } catch (e) {
      if (!isServerError(e)) this.dropConnection(conn, e);
      throw e;
    }
  }

  /** One connection, however many statements ask for it meanwhile. */
  private connect(): Promise<Client> {
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<Client> {
    // the pool's own settings (address, credentials, timeouts, application name), pipelined
    const conn = new Client({ ...(poolOf(this.ds).options as ClientConfig), pipeline: true });
    conn.on('error', (err) => this.dropConnection(conn, err));
    try {
      await conn.connect();
    } catch (e) {
      void conn.end().catch(() => undefined);
      throw e;
    }
    this.conn = conn;
    return conn;
  }

  /** Closes `conn` if it is still the writer's (a second failure on it, or a later connection, is left alone). */
  private dropConnection(conn: Client, err?: unknown): void {
    if (this.conn !== conn) return;
    this.conn = null;
    if (err) this.logger.warn({ err }, 'writer connection lost; the next batch opens a new one');
    void conn.end().catch(() => undefined);
  }

  /** One statement: sequence numbers for every room in the batch, then all the inserts. */
  private async insertBatch(conn: ClientBase, ms: NewMessage[]): Promise<(Row | null)[]> {
    const col = <K extends keyof NewMessage>(k: K) => ms.map((m) => m[k]);
    // per room, the k-th message of the batch (arrival order) takes the room's base + k
    const counts = new Map<string, number>();
    const place = ms.map((m) => {
      const k = (counts.get(m.roomId) ?? 0) + 1;
      counts.set(m.roomId, k);
      return k;
    });
    const rows = await preparedTextRows(conn, 'message_insert_batch', INSERT_BATCH_SQL, [
      col('roomId'),
      col('senderId'),
      col('content'),
      col('type'),
      col('fileUrl'),
      col('fileName'),
      col('fileSize'),
      col('replyToId'),
      col('clientMsgId'),
      [...counts.keys()],
      [...counts.values()],
      place,
    ]);
    // Match rows back to callers: per room, the k-th message took the k-th lowest seq.
    const byRoom = new Map<string, TextRow[]>();
    for (const r of rows) {
      const list = byRoom.get(r[COL.roomId]!) ?? [];
      list.push(r);
      byRoom.set(r[COL.roomId]!, list);
    }
    for (const list of byRoom.values()) list.sort((a, b) => Number(a[COL.seq]) - Number(b[COL.seq]));
    return ms.map((m, i) => {
      const row = byRoom.get(m.roomId)?.[place[i] - 1];
      return row ? insertedRow(m, row) : null; // no row: the room was deleted meanwhile
    });
  }
}
