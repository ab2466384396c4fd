import type { Kysely } from 'kysely'

export type Dialect = 'sqlite' | 'postgres'

/**
 * A query builder over whatever tables its user declares. The layer knows no table: each capability
 * declares its own (`tables<DecisionTables>(db)`), so a new capability never edits a shared schema type.
 */
export type Executor = Kysely<object>

/** The capability's typed view of an executor: Kysely types are phantom, so this costs nothing at run time. */
export function tables<T>(db: Executor): Kysely<T> {
  return db as unknown as Kysely<T>
}

/**
 * Locks are taken per aggregate (a requestId, a velocity group, the audit chain head), in rank order: a
 * transaction takes all its locks of one rank in one call, and never a lower rank after a higher one, so
 * two transactions can never wait on each other in a cycle.
 */
export const LockRank = { migrations: 0, request: 1, velocity: 2, auditHead: 3 } as const
export type LockRank = (typeof LockRank)[keyof typeof LockRank]

export interface AggregateLock {
  readonly rank: LockRank
  readonly key: string
}

export interface WriteSession {
  readonly db: Executor
  /** Serialises this transaction with every other one holding any of `locks`, until COMMIT. */
  lock(locks: readonly AggregateLock[]): Promise<void>
}

export interface StorageHealth {
  readonly ready: boolean
  /** Why the database is not usable right now (no secrets: no URL, no password). */
  readonly problem: string | null
}

export interface StorageDatabase {
  readonly dialect: Dialect
  /**
   * Runs `work` in one write transaction on this process's writer connection, one at a time. The promise
   * settles after the COMMIT is durable; a throwing `work` rolls the transaction back.
   */
  write<T>(work: (session: WriteSession) => Promise<T>): Promise<T>
  /** Read-only queries that only ever see committed rows. */
  read<T>(work: (db: Executor) => Promise<T>): Promise<T>
  /** Throws when the database cannot be used (down, or a SQLite file deleted or replaced under us). */
  check(): Promise<void>
  health(): StorageHealth
  close(): Promise<void>
}
