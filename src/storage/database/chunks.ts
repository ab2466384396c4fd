/**
 * Multi-row statements stay below the databases' bind-parameter limits (SQLite 32,766, PostgreSQL 65,535)
 * and SQLite's 500-term compound-select limit: rows are sent in chunks of at most `maxParameters` values.
 */
export const MAX_PARAMETERS = 30_000

export function chunked<T>(rows: readonly T[], valuesPerRow: number, maxParameters = MAX_PARAMETERS): T[][] {
  const size = Math.max(1, Math.floor(maxParameters / Math.max(1, valuesPerRow)))
  const chunks: T[][] = []
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size))
  return chunks
}
