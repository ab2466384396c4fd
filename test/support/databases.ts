/**
 * The databases every store test runs against. SQLite always; PostgreSQL when COUNTERSIGN_TEST_PG_URL is
 * set. Under CI=true a missing or unreachable PostgreSQL is a failure, never a skip.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const pgUrl =
  process.env.COUNTERSIGN_TEST_PG_URL ??
  (process.env.CI === 'true' ? 'postgres://postgres@127.0.0.1:5432/test' : undefined)

export interface TestDatabase {
  readonly name: 'sqlite' | 'postgres'
  /** A fresh, empty database each call. */
  readonly freshUrl: () => Promise<string>
  /** Drops every database `freshUrl` created (call it in `afterAll`). */
  readonly dropAll: () => Promise<void>
}

const sqliteDirs: string[] = []
const schemaDrops: (() => Promise<void>)[] = []

export const sqliteDatabase: TestDatabase = {
  name: 'sqlite',
  freshUrl: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-'))
    sqliteDirs.push(dir)
    return `sqlite:${join(dir, 'store.db')}`
  },
  dropAll: async () => {
    for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  },
}

/**
 * Schemas of this run start with `cs_test_<run>_` (the run named by test/support/postgres-run.ts), so that
 * the run's teardown finds, drops and reports any a test file forgot.
 */
const RUN_PREFIX = `cs_test_${process.env.COUNTERSIGN_TEST_RUN ?? 'norun'}`

/** A PostgreSQL URL on a new, empty schema (selected through search_path); `drop` removes it. */
export async function freshPostgresSchema(
  baseUrl: string,
  prefix = RUN_PREFIX,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`
  await rawExec(baseUrl, `CREATE SCHEMA ${schema}`)
  const url = new URL(baseUrl)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return { url: url.toString(), drop: () => rawExec(baseUrl, `DROP SCHEMA ${schema} CASCADE`) }
}

/** A new schema per call. */
export const postgresDatabase: TestDatabase = {
  name: 'postgres',
  freshUrl: async () => {
    if (pgUrl === undefined) throw new Error('COUNTERSIGN_TEST_PG_URL is not set')
    const { url, drop } = await freshPostgresSchema(pgUrl)
    schemaDrops.push(drop)
    return url
  },
  dropAll: async () => {
    for (const drop of schemaDrops.splice(0)) await drop()
  },
}

/** SQLite, plus PostgreSQL when configured (always under CI). */
export const testDatabases: readonly TestDatabase[] =
  pgUrl === undefined ? [sqliteDatabase] : [sqliteDatabase, postgresDatabase]

/** Runs one SQL statement outside the store, as an attacker with database access would (tamper tests). */
export async function rawExec(url: string, sql: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(url.slice('sqlite:'.length))
    try {
      db.exec(sql)
    } finally {
      db.close()
    }
    return
  }
  const client = new pg.Client(url)
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** The rows of one SELECT run outside the store. */
export async function rawQuery<Row = Record<string, unknown>>(url: string, sql: string): Promise<Row[]> {
  if (url.startsWith('sqlite:')) {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(url.slice('sqlite:'.length), { readonly: true })
    try {
      return db.prepare(sql).all() as Row[]
    } finally {
      db.close()
    }
  }
  const client = new pg.Client(url)
  await client.connect()
  try {
    return (await client.query(sql)).rows as Row[]
  } finally {
    await client.end()
  }
}
