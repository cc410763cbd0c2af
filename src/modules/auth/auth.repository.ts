import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The token blacklist (table token_blacklists). */
@Injectable()
export class AuthRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    await this.ds.query(
      `INSERT INTO token_blacklists (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`,
      [jti, expiresAt],
    );
  }

  /** Rows whose token has expired anyway; returns how many were removed. */
  async purgeExpired(): Promise<number> {
    const r = await this.ds.query(`DELETE FROM token_blacklists WHERE expires_at <= now()`);
    return Array.isArray(r) ? Number(r[1] ?? 0) : 0;
  }
}
