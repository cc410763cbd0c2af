import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole schema of the first release. Column names follow the original ChatApp tables
 * (protocol §7.5) so data stays compatible; everything the original lacked (unique membership,
 * one DM per pair, cascades, indexes, room sequence, idempotency keys, upload registry) is here.
 */
export class InitialSchema1732400000000 implements MigrationInterface {
  name = 'InitialSchema1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL,
        email text NOT NULL,
        password text NOT NULL,
        avatar text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'Hey there! I am using ChatApp',
        is_online boolean NOT NULL DEFAULT false,
        last_seen timestamptz NOT NULL DEFAULT now(),
        username_changed_at timestamptz NULL,
        token_version integer NOT NULL DEFAULT 0,
        token_keep_jti text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX "UQ_users_username_lower" ON users (lower(username))`);
    await q.query(`CREATE UNIQUE INDEX "UQ_users_email_lower" ON users (lower(email))`);

    await q.query(`
      CREATE TABLE rooms (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        type text NOT NULL DEFAULT 'public',
        created_by uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        dm_key text NULL,
        last_seq bigint NOT NULL DEFAULT 0,
        last_message_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_rooms_type" CHECK (type IN ('public', 'private', 'direct')),
        CONSTRAINT "CHK_rooms_dm_key" CHECK ((type = 'direct') = (dm_key IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX "UQ_rooms_dm_key" ON rooms (dm_key) WHERE dm_key IS NOT NULL`);
    await q.query(`CREATE INDEX "IDX_rooms_public_created" ON rooms (created_at DESC) WHERE type = 'public'`);

    await q.query(`
      CREATE TABLE room_members (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL DEFAULT 'member',
        read_at timestamptz NULL,
        joined_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "UQ_room_members_room_user" UNIQUE (room_id, user_id),
        CONSTRAINT "CHK_room_members_role" CHECK (role IN ('admin', 'member'))
      )`);
    await q.query(`CREATE INDEX "IDX_room_members_user" ON room_members (user_id)`);

    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        sender_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        content text NOT NULL DEFAULT '',
        type text NOT NULL DEFAULT 'text',
        file_url text NULL,
        file_name text NULL,
        file_size bigint NULL,
        is_edited boolean NOT NULL DEFAULT false,
        is_deleted boolean NOT NULL DEFAULT false,
        reply_to_id uuid NULL REFERENCES messages(id) ON DELETE SET NULL,
        seq bigint NOT NULL,
        version bigint NOT NULL,
        client_msg_id uuid NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_messages_type" CHECK (type IN ('text', 'image', 'file', 'audio', 'system'))
      )`);
    await q.query(`CREATE UNIQUE INDEX "UQ_messages_room_seq" ON messages (room_id, seq)`);
    await q.query(`CREATE UNIQUE INDEX "UQ_messages_room_version" ON messages (room_id, version)`);
    await q.query(`CREATE INDEX "IDX_messages_room_created" ON messages (room_id, created_at)`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_messages_sender_client_msg" ON messages (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX "IDX_messages_reply_to" ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE token_blacklists (
        id bigserial PRIMARY KEY,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "UQ_token_blacklists_jti" UNIQUE (jti)
      )`);
    await q.query(`CREATE INDEX "IDX_token_blacklists_expires" ON token_blacklists (expires_at)`);

    await q.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        stored_name text NOT NULL,
        original_name text NOT NULL,
        mime text NOT NULL,
        size bigint NOT NULL,
        uploaded_by uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "UQ_uploads_stored_name" UNIQUE (stored_name)
      )`);
    await q.query(`CREATE INDEX "IDX_uploads_uploaded_by" ON uploads (uploaded_by)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS uploads`);
    await q.query(`DROP TABLE IF EXISTS token_blacklists`);
    await q.query(`DROP TABLE IF EXISTS messages`);
    await q.query(`DROP TABLE IF EXISTS room_members`);
    await q.query(`DROP TABLE IF EXISTS rooms`);
    await q.query(`DROP TABLE IF EXISTS users`);
  }
}
