/** The driver layer: Kysely over SQLite and PostgreSQL, per-aggregate locks, bounded multi-row statements. */
export { chunked } from './chunks.js'
export { openDatabase } from './open.js'
export { SESSION_LIMITS, advisoryKey } from './postgres.js'
export { LockRank, tables } from './types.js'
export type {
  AggregateLock,
  Dialect,
  Executor,
  StorageDatabase,
  StorageHealth,
  WriteSession,
} from './types.js'
