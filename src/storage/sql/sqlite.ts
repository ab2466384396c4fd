import Database from 'better-sqlite3'
import { exclusiveWriter } from './transaction.js'
import type { SqlConnection, SqlDatabase, SqlSession, SqlValue, Row } from './types.js'

/** How long a writer waits for another process's write lock before failing (the handler then answers RETRY). */
const BUSY_TIMEOUT_MS = 5_000

class SqliteConnection implements SqlConnection {
  private readonly statements = new Map<string, Database.Statement>()

  constructor(readonly db: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  async all<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.prepare(sql).all(...params) as T[]
  }

  async one<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.prepare(sql).get(...params) as T | undefined
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.prepare(sql).run(...params).changes
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql)
  }
}

/**
 * SQLite through better-sqlite3: WAL and `synchronous=FULL`, so a COMMIT is on disk when it returns, which is
 * what "recorded before answering" needs.
 */
export function openSqlite(path: string): SqlDatabase {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  const connection = new SqliteConnection(db)
  const writer = exclusiveWriter(connection, (c) => c.exec('BEGIN IMMEDIATE'))
  return {
    dialect: 'sqlite',
    exclusive: writer.exclusive,
    read: <T>(work: (session: SqlSession) => Promise<T>) => work(connection),
    close: async () => {
      await writer.idle()
      db.close()
    },
  }
}
