import pg from 'pg'
import { exclusiveWriter } from './transaction.js'
import type { SqlConnection, SqlDatabase, SqlSession, SqlValue, Row } from './types.js'

/**
 * The advisory lock every writer holds for its transaction: one writer at a time across all replicas.
 * Anything else taking it (a maintenance job, a test) pauses every replica's writes.
 */
export const WRITER_LOCK_ID = 0x636f756e // "coun"

const INT8_OID = 20
/** BIGINT columns hold milliseconds, cents and counts, all far below 2^53: read them as numbers. */
const typeParser: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
}

/** Rewrites the portable `?` placeholders to `$1, $2, ...` (our SQL never has `?` inside literals). */
const placeholderCache = new Map<string, string>()
function toPostgres(sql: string): string {
  let converted = placeholderCache.get(sql)
  if (converted === undefined) {
    let index = 0
    converted = sql.replace(/\?/g, () => `$${++index}`)
    placeholderCache.set(sql, converted)
  }
  return converted
}

class PostgresSession implements SqlConnection {
  constructor(private readonly client: pg.ClientBase | pg.Pool) {}

  async all<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.client.query<T>(toPostgres(sql), [...params])).rows
  }

  async one<T extends Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0]
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.client.query(toPostgres(sql), [...params])).rowCount ?? 0
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql)
  }
}

/**
 * PostgreSQL through `pg`. Writes go through one dedicated connection per process, one transaction at a
 * time; replicas serialise on an advisory lock taken at the start of each write transaction.
 */
export async function openPostgres(url: string): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: 4, types: typeParser })
  const client = await pool.connect()
  const writerSession = new PostgresSession(client)
  let broken = false
  client.on('error', () => {
    broken = true
  })
  const writer = exclusiveWriter(writerSession, async (c) => {
    if (broken) throw new Error('the PostgreSQL write connection was lost')
    await c.exec('BEGIN')
    await c.run('SELECT pg_advisory_xact_lock(?)', [WRITER_LOCK_ID])
  })
  const readSession = new PostgresSession(pool)
  return {
    dialect: 'postgres',
    exclusive: writer.exclusive,
    read: <T>(work: (session: SqlSession) => Promise<T>) => work(readSession),
    close: async () => {
      await writer.idle()
      client.release()
      await pool.end()
    },
  }
}
