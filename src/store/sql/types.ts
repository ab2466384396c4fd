/**
 * The one query layer under both databases. SQL is written once, in a portable subset (`?` placeholders,
 * `INSERT ... ON CONFLICT`, `RETURNING`, BIGINT/TEXT columns), and each driver adapts it.
 */
export type Dialect = 'sqlite' | 'postgres'
export type SqlValue = string | number | null
export type Row = Record<string, unknown>

export interface SqlSession {
  all<T extends Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>
  one<T extends Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>
}

export interface SqlDatabase {
  readonly dialect: Dialect
  /**
   * Runs `work` inside the database's exclusive write transaction: SQLite `BEGIN IMMEDIATE`, PostgreSQL a
   * transaction holding one advisory lock, so writers in every process and replica are serialised and
   * read-then-write logic (idempotency, velocity limits, the audit chain) needs no finer locking.
   * Concurrent calls are group-committed: each runs in its own savepoint inside a shared transaction, and
   * every promise settles only after the COMMIT is durable. A throwing `work` rolls back only its own
   * savepoint; a failed COMMIT rejects every call in the batch.
   */
  exclusive<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  /** Runs read-only queries outside the write path. */
  read<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** A single connection as the group committer drives it. */
export interface SqlConnection extends SqlSession {
  exec(sql: string): Promise<void>
}
