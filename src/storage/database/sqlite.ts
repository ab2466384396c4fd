import { statSync } from 'node:fs'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { StoreUnavailable } from '../errors.js'
import type { Executor, StorageDatabase } from './types.js'
import { withStatementCache } from './statement-cache.js'
import { serialWriter } from './writer.js'

/** How long a writer waits for another process's write lock before failing (the handler then answers RETRY). */
const BUSY_TIMEOUT_MS = 5_000

interface FileIdentity {
  readonly dev: number
  readonly ino: number
}

function identityOf(path: string): FileIdentity | undefined {
  try {
    const { dev, ino } = statSync(path)
    return { dev, ino }
  } catch {
    return undefined
  }
}

function connect(path: string, readonly: boolean): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS, readonly })
  if (!readonly) {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
  }
  return db
}

/**
 * SQLite through better-sqlite3 and Kysely: WAL and `synchronous=FULL`, so a COMMIT is on disk when it
 * returns, which is what "recorded before answering" needs. One connection writes (`BEGIN IMMEDIATE`: one
 * writer across processes, so aggregate locks need nothing more); a second, read-only connection reads, so
 * a read never sees the rows of a write transaction still in progress. `:memory:` has one connection only.
 *
 * The file's identity (device, inode) is taken at open and checked before every write and readiness
 * check: a store file deleted or replaced under a running process would otherwise take writes that vanish
 * at the next restart.
 */
export function openSqlite(path: string): StorageDatabase {
  const inMemory = path === ':memory:'
  const writerConnection = connect(path, false)
  const readerConnection = inMemory ? writerConnection : connect(path, true)
  const writer = new Kysely<object>({
    dialect: new SqliteDialect({ database: withStatementCache(writerConnection) }),
  })
  const reader: Executor = inMemory
    ? writer
    : new Kysely<object>({ dialect: new SqliteDialect({ database: withStatementCache(readerConnection) }) })
  const opened = inMemory ? undefined : identityOf(path)
  let lost: string | null = null

  const checkFile = () => {
    if (opened === undefined) return
    if (lost === null) {
      const current = identityOf(path)
      if (current === undefined) lost = 'the SQLite store file was deleted while the process was running'
      else if (current.dev !== opened.dev || current.ino !== opened.ino)
        lost = 'the SQLite store file was replaced while the process was running'
    }
    if (lost !== null)
      throw new StoreUnavailable(`${lost}; writes are refused: restore the file and restart the process`)
  }

  const serial = serialWriter({
    begin: async () => {
      checkFile()
      await sql`BEGIN IMMEDIATE`.execute(writer)
    },
    commit: async () => void (await sql`COMMIT`.execute(writer)),
    rollback: async () => void (await sql`ROLLBACK`.execute(writer)),
    session: { db: writer, lock: () => Promise.resolve() },
  })

  return {
    dialect: 'sqlite',
    write: serial.write,
    read: (work) => work(reader),
    check: async () => {
      checkFile()
      await sql`SELECT 1`.execute(reader)
    },
    health: () => ({ ready: lost === null, problem: lost }),
    close: async () => {
      await serial.idle()
      await writer.destroy()
      if (reader !== writer) await reader.destroy()
    },
  }
}
