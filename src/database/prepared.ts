import type { Pool } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * A named (server-side prepared) statement on the DataSource's own pool. PostgreSQL parses and
 * plans it once per connection instead of on every call — for the message insert's CTE planning
 * cost about as much as executing. Errors come back wrapped
 * like TypeORM's own (`QueryFailedError` with `driverError`), so callers handle both alike.
 */
export async function preparedQuery<T = Record<string, unknown>>(ds: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (ds.driver as PostgresDriver).master as Pool;
  try {
    const res = await pool.query({ name, text, values });
    return res.rows as T[];
  } catch (e) {
    if (e instanceof Error && 'severity' in e) throw new QueryFailedError(text, values, e);
    throw e;
  }
}
