import { createHash } from 'node:crypto'
import { Kysely, PostgresDialect, sql, type ControlledTransaction } from 'kysely'
import pg from 'pg'
import { StoreUnavailable } from '../errors.js'
import { ConnectionHealth } from './health.js'
import type { AggregateLock, StorageDatabase } from './types.js'
import { serialWriter } from './writer.js'

/**
 * Session limits, so that a replica frozen inside its transaction (SIGSTOP, a long GC pause, a partition)
 * cannot hold row or advisory locks for ever: the server ends its idle transaction, and the other replicas
 * stop waiting for a lock or a statement after a few seconds (and answer RETRY) instead of hanging.
 */
export const SESSION_LIMITS = {
  lock_timeout: 5_000,
  statement_timeout: 15_000,
  idle_in_transaction_session_timeout: 10_000,
} as const

const INT8_OID = 20
/** BIGINT columns hold milliseconds, cents and counts, all far below 2^53: read them as numbers. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser(oid, format as 'text') as (
          value: string,
        ) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
}

/** A signed 64-bit advisory-lock key per aggregate, from its rank and name. */
export function advisoryKey(lock: AggregateLock): string {
  return createHash('sha256').update(`${lock.rank}:${lock.key}`).digest().readBigInt64BE(0).toString()
}

/**
 * Whether an error means the connection or the server is gone, not that one statement was refused. A
 * SQLSTATE: class 08 (connection exception), 53 (insufficient resources), 57P01-57P03 (shutdown). Otherwise
 * a socket error (ECONNREFUSED, ECONNRESET...) or the driver's "Connection terminated" / connect timeout.
 */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
    return code.startsWith('08') || code.startsWith('53') || /^57P0[123]$/.test(code)
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true
  return (
    error instanceof Error &&
    /connection terminated|timeout exceeded when trying to connect|not queryable/i.test(error.message)
  )
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  return `PostgreSQL is unreachable (${typeof code === 'string' ? `${code}: ` : ''}${message})`
}

function pool(url: string, max: number, onError: (error: Error) => void): pg.Pool {
  const created = new pg.Pool({
    connectionString: url,
    max,
    types,
    connectionTimeoutMillis: 5_000,
    ...SESSION_LIMITS,
  })
  // A terminated connection emits 'error' on the pool when idle and on the client when checked out: both
  // are handled here, never left to crash the process.
  created.on('error', onError)
  created.on('connect', (client) => client.on('error', onError))
  return created
}

/**
 * PostgreSQL through `pg` and Kysely. Each process writes through one connection, one transaction at a
 * time; replicas serialise only on the aggregates a transaction touches (`pg_advisory_xact_lock` per
 * aggregate, taken in rank order). A lost connection is replaced by the pool on the next attempt, with
 * backoff while the server stays away.
 */
export function openPostgres(url: string): StorageDatabase {
  const health = new ConnectionHealth()
  const lost = (error: Error) => health.down(describe(error))
  const writerPool = pool(url, 1, lost)
  const readerPool = pool(url, 4, lost)
  const writer = new Kysely<object>({ dialect: new PostgresDialect({ pool: writerPool }) })
  const reader = new Kysely<object>({ dialect: new PostgresDialect({ pool: readerPool }) })
  const unavailable = (problem: string) => new StoreUnavailable(problem)

  /** Runs `work` while watching for the connection failing under it. */
  const watched = async <T>(work: () => Promise<T>): Promise<T> => {
    health.gate(unavailable)
    try {
      const result = await work()
      health.up()
      return result
    } catch (error) {
      if (isConnectionFailure(error)) health.down(describe(error))
      throw error
    }
  }

  let transaction: ControlledTransaction<object> | undefined
  const serial = serialWriter({
    begin: async () => {
      transaction = await writer.startTransaction().execute()
    },
    commit: () => transaction!.commit().execute(),
    rollback: () => transaction!.rollback().execute(),
    session: {
      get db() {
        return transaction!
      },
      lock: async (locks) => {
        if (locks.length === 0) return
        // unnest yields the keys in array order, so they are locked in that (numeric) order.
        const keys = [...new Set(locks.map(advisoryKey))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
        await sql`SELECT pg_advisory_xact_lock(k) FROM unnest(${keys}::bigint[]) AS k`.execute(transaction!)
      },
    },
  })

  return {
    dialect: 'postgres',
    write: (work) => watched(() => serial.write(work)),
    read: (work) => watched(() => work(reader)),
    check: () => watched(async () => void (await sql`SELECT 1`.execute(reader))),
    health: () => health.state(),
    close: async () => {
      await serial.idle()
      await writer.destroy()
      await reader.destroy()
    },
  }
}
