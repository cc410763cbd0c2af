import { Query, types } from 'pg';
import type { ClientBase, Pool, PoolClient } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { isoDate } from '../common/iso-date';

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
    throw asQueryError(e, text, values);
  }
}

/** A pg server error wrapped like TypeORM's own (`QueryFailedError` with `driverError`); anything else as is. */
function asQueryError(e: unknown, text: string, values: unknown[]): unknown {
  return e instanceof Error && 'severity' in e ? new QueryFailedError(text, values, e) : e;
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

/** A row as the server sent it: each column's text (or null), in the statement's column order. */
export type TextRow = (string | null)[];

/**
 * pg's own Query for a named statement, minus the per-execution work that suits general use but
 * not the hottest statement: pg copies an object config on every call (a string one it does not),
 * builds a parser table and an empty row object from every RowDescription (a portal is described
 * on each execution), then an object per row keyed by column name. Here a row stays the array of
 * text the server sent (`TextRow`); the caller names and converts the few columns it reads. The
 * rest is pg's: Parse once per connection, Bind/Describe/Execute/Sync, errors, the read timeout.
 * `handleRowDescription`/`handleDataRow` are the Submittable interface pg-cursor also implements.
 */
class TextRowsQuery extends Query {
  private readonly textRows: TextRow[] = [];
  declare name: string;

  constructor(name: string, text: string, values: unknown[], done: (err: Error | undefined, rows: TextRow[]) => void) {
    super(text, values, (err) => done(err, this.textRows));
    this.name = name;
  }

  handleRowDescription(): void {}

  handleDataRow(msg: { fields: TextRow }): void {
    this.textRows.push(msg.fields);
  }
}

/**
 * `preparedQuery` on one connection for a statement on the hot path, rows as text (see
 * TextRowsQuery). Errors come back wrapped as `preparedQuery` wraps them.
 */
export function preparedTextRows(conn: ClientBase, name: string, text: string, values: unknown[]): Promise<TextRow[]> {
  return new Promise((resolve, reject) => {
    conn.query(
      new TextRowsQuery(name, text, values, (err, rows) => {
        if (!err) resolve(rows);
        else reject(asQueryError(err, text, values));
      }),
    );
  });
}

/**
 * PostgreSQL's text for a `timestamptz` → the protocol's (`Date#toJSON`), the same instant as pg's
 * own parser and `toISOString` give. The server writes `2026-11-28 20:02:17.123456+00` (DateStyle
 * ISO, time zone UTC): rearranged as text, fractions cut to milliseconds as a Date cuts them. Any
 * other form (another session time zone, years past 9999) goes through pg's parser; infinity → null.
 */
export function timestamptzText(s: string): string | null {
  const n = s.length;
  if (n >= 22 && s.endsWith('+00') && s[4] === '-' && s[10] === ' ') {
    const ms = n > 22 ? s.slice(20, Math.min(n - 3, 23)).padEnd(3, '0') : '000';
    return `${s.slice(0, 10)}T${s.slice(11, 19)}.${ms}Z`;
  }
  const d: unknown = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text')(s);
  return d instanceof Date ? isoDate(d) : null; // ±infinity comes back as a number
}
