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
   * read-then-write logic (idempotency, velocity limits, the audit chain) needs no finer locking. The
   * promise settles after the COMMIT is durable; a throwing `work` rolls the transaction back.
   */
  exclusive<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  /** Runs read-only queries outside the write path. */
  read<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** A single connection as the exclusive writer drives it. */
export interface SqlConnection extends SqlSession {
  exec(sql: string): Promise<void>
}
