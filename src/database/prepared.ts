import type { Pool, PoolClient } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * A named (server-side prepared) statement on the DataSource's own pool, or on a connection taken
 * from it. PostgreSQL parses and plans it once per connection instead of on every call — for the
 * message insert's CTE planning cost about as much as executing. On an idle connection the
 * statement is written before this returns. Errors come back wrapped like TypeORM's own
 * (`QueryFailedError` with `driverError`), so callers handle both alike.
 */
export async function preparedQuery<T = Record<string, unknown>>(
  on: DataSource | PoolClient,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const target = on instanceof DataSource ? poolOf(on) : on;
  try {
    const res = await target.query({ name, text, values });
    return res.rows as T[];
  } catch (e) {
    if (e instanceof Error && 'severity' in e) throw new QueryFailedError(text, values, e);
    throw e;
  }
}

/** The pg pool under a TypeORM DataSource. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as PostgresDriver).master as Pool;
}

/** A pg error (from the server: has a severity), as opposed to a broken connection or a timeout. */
export function isServerError(e: unknown): boolean {
  const d = (e as { driverError?: unknown }).driverError ?? e;
  return d instanceof Error && 'severity' in d;
}
