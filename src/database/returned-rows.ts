/**
 * The rows of a DataSource.query result: a SELECT yields the rows, an UPDATE/DELETE … RETURNING
 * yields [rows, count].
 */
export function returnedRows<T>(result: unknown): T[] {
  if (!Array.isArray(result)) return [];
  return (Array.isArray(result[0]) ? result[0] : result) as T[];
}
