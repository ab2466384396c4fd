import type { SqlSession, SqlValue } from './types.js'

/**
 * One multi-row `INSERT` for many rows: one round trip instead of one per row, which is what keeps the
 * time a batch holds the writer lock short. `suffix` may add an `ON CONFLICT ...` clause.
 */
export async function insertRows(
  session: SqlSession,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return
  const tuple = `(${columns.map(() => '?').join(', ')})`
  await session.run(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')} ${suffix}`,
    rows.flat(),
  )
}
