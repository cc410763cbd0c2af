import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Batcher } from '../../common/batcher';
import { preparedQuery } from '../../database/prepared';
import { returnedRows } from '../../database/returned-rows';
import { USER_COLUMNS, UserRow } from './user.mapper';

export interface UserAuthRow extends UserRow {
  password: string;
  username_changed_at: Date | null;
  token_version: number;
  token_keep_jti: string | null;
}

export interface TokenState {
  token_version: number;
  token_keep_jti: string | null;
  revoked: boolean;
}

/** Every SQL statement about users. */
@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private q(em?: EntityManager) {
    return em ?? this.ds.manager;
  }

  async insert(u: { username: string; email: string; password: string }): Promise<UserRow> {
    const rows = await this.ds.query(
      `INSERT INTO users (username, email, password) VALUES ($1, $2, $3) RETURNING ${USER_COLUMNS}`,
      [u.username, u.email, u.password],
    );
    return rows[0];
  }

  async findById(id: string, em?: EntityManager): Promise<UserRow | null> {
    const rows = await this.q(em).query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findAuthById(id: string): Promise<UserAuthRow | null> {
    const rows = await this.ds.query(
      `SELECT ${USER_COLUMNS}, password, username_changed_at, token_version, token_keep_jti FROM users WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async findAuthByLogin(field: 'email' | 'username', value: string): Promise<UserAuthRow | null> {
    const rows = await this.ds.query(
      `SELECT ${USER_COLUMNS}, password, username_changed_at, token_version, token_keep_jti
         FROM users WHERE lower(${field}) = lower($1)`,
      [value],
    );
    return rows[0] ?? null;
  }

  async existsByLower(field: 'email' | 'username', value: string, exceptId?: string): Promise<boolean> {
    const rows = await this.ds.query(
      `SELECT 1 FROM users WHERE lower(${field}) = lower($1) AND ($2::uuid IS NULL OR id <> $2) LIMIT 1`,
      [value, exceptId ?? null],
    );
    return rows.length > 0;
  }

  /**
   * Revocation state of a token (its user's token version, and whether the jti is blacklisted);
   * null when the user does not exist. Asked on every authenticated request and WebSocket
   * handshake: concurrent asks go to the database together (one query per batch, see Batcher), and
   * an ask never joins a query that started before it, so a revocation committed before the ask is
   * always seen.
   */
  tokenState(userId: string, jti: string): Promise<TokenState | null> {
    return this.tokenStates.add({ userId, jti });
  }

  private readonly tokenStates = new Batcher<{ userId: string; jti: string }, TokenState | null>(async (asks) => {
    const rows = await preparedQuery<TokenState & { i: string }>(
      this.ds,
      'users_token_states',
      `SELECT q.i, u.token_version, u.token_keep_jti,
              EXISTS (SELECT 1 FROM token_blacklists b WHERE b.jti = q.jti AND b.expires_at > now()) AS revoked
         FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS q(user_id, jti, i)
         JOIN users u ON u.id = q.user_id`,
      [asks.map((a) => a.userId), asks.map((a) => a.jti)],
    );
    const out: (TokenState | null)[] = asks.map(() => null);
    for (const { i, ...state } of rows) out[Number(i) - 1] = state;
    return out;
  }, 500);

  async updateProfile(id: string, patch: { status?: string; avatar?: string }): Promise<UserRow | null> {
    const rows = await this.ds.query(
      `UPDATE users SET status = COALESCE($2, status), avatar = COALESCE($3, avatar), updated_at = now()
        WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, patch.status ?? null, patch.avatar ?? null],
    );
    return firstRow(rows);
  }

  async updateUsername(id: string, username: string): Promise<UserRow | null> {
    const rows = await this.ds.query(
      `UPDATE users SET username = $2, username_changed_at = now(), updated_at = now()
        WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, username],
    );
    return firstRow(rows);
  }

  async updateEmail(id: string, email: string): Promise<UserRow | null> {
    const rows = await this.ds.query(
      `UPDATE users SET email = $2, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, email],
    );
    return firstRow(rows);
  }

  /** New password; every token but `keepJti` becomes revoked (token_version bump). */
  async updatePassword(id: string, hash: string, keepJti: string): Promise<void> {
    await this.ds.query(
      `UPDATE users SET password = $2, token_version = token_version + 1, token_keep_jti = $3, updated_at = now()
        WHERE id = $1`,
      [id, hash, keepJti],
    );
  }

  async search(q: string, exceptId: string, limit: number): Promise<UserRow[]> {
    const pattern = '%' + q.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    return this.ds.query(
      `SELECT ${USER_COLUMNS} FROM users WHERE username ILIKE $1 ESCAPE '\\' AND id <> $2
        ORDER BY (lower(username) = lower($3)) DESC, length(username), username LIMIT $4`,
      [pattern, exceptId, q, limit],
    );
  }

  /**
   * Stored presence flags of many users in one statement (ids distinct); returns id → username of
   * those that exist (presence events of swept instances lack the name).
   */
  async setOnlineMany(states: { id: string; online: boolean }[]): Promise<Map<string, string>> {
    const rows = await preparedQuery<{ id: string; username: string }>(
      this.ds,
      'users_set_online_many',
      `UPDATE users u SET is_online = s.online, last_seen = now()
         FROM unnest($1::uuid[], $2::boolean[]) AS s(id, online)
        WHERE u.id = s.id RETURNING u.id, u.username`,
      [states.map((s) => s.id), states.map((s) => s.online)],
    );
    return new Map(rows.map((x) => [x.id, x.username]));
  }

  async resetOnline(exceptIds: string[] = []): Promise<void> {
    await this.ds.query(`UPDATE users SET is_online = false WHERE is_online AND NOT (id = ANY($1::uuid[]))`, [exceptIds]);
  }
}

function firstRow(result: unknown): UserRow | null {
  return returnedRows<UserRow>(result)[0] ?? null;
}
