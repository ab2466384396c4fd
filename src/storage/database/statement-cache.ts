import type Database from 'better-sqlite3'
import type { SqliteDatabase, SqliteStatement } from 'kysely'

/** Distinct statements kept prepared per connection; the hot path uses a few dozen (batch sizes vary). */
const MAX_CACHED_STATEMENTS = 256

/**
 * A better-sqlite3 connection for Kysely that prepares each distinct SQL text once. Kysely's SQLite driver
 * prepares a statement on every execution, which costs about a fifth of the handler's event loop. Reusing a
 * prepared statement is safe because a better-sqlite3 connection runs one query at a time (it refuses any
 * other query while an iteration is open).
 */
export function withStatementCache(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>()
  const prepared = (sql: string): Database.Statement => {
    let statement = cache.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!)
      cache.set(sql, statement)
    }
    return statement
  }
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      const statement = prepared(sql)
      return {
        reader: statement.reader,
        // The array is bound positionally, as Kysely's own driver passes it.
        all: (parameters) => statement.all(parameters),
        run: (parameters) => statement.run(parameters),
        iterate: (parameters) => statement.iterate(parameters),
      }
    },
  }
}
