import { rmSync, renameSync, copyFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import {
  pgUrl,
  postgresDatabase,
  rawExec,
  sqliteDatabase,
  testDatabases,
} from '../../../test/support/databases.js'
import { facts, fixed } from '../../../test/support/planners.js'
import {
  checkMigrations,
  openDatabase,
  openStore,
  tables,
  StoreUnavailable,
  type Migration,
} from '../index.js'

afterAll(async () => {
  await sqliteDatabase.dropAll()
  if (pgUrl !== undefined) await postgresDatabase.dropAll()
})

describe('SQLite store file', () => {
  it.each([
    ['deleted', (path: string) => rmSync(path)],
    [
      'replaced',
      (path: string) => {
        copyFileSync(path, `${path}.copy`)
        renameSync(`${path}.copy`, path)
      },
    ],
  ])(
    'is detected when %s under a running process: readiness fails and writes are refused',
    async (_, act) => {
      const url = await sqliteDatabase.freshUrl()
      const store = await openStore(url)
      try {
        await store.settle(facts('f-1'), fixed())
        await store.ping()
        act(url.slice('sqlite:'.length))
        await expect(store.ping()).rejects.toThrow(/deleted|replaced/)
        expect(store.health().ready).toBe(false)
        await expect(store.settle(facts('f-2'), fixed())).rejects.toBeInstanceOf(StoreUnavailable)
      } finally {
        await store.close()
      }
    },
  )

  it('never lets a read see the rows of a write transaction still in progress', async () => {
    const db = openDatabase(await sqliteDatabase.freshUrl())
    try {
      await db.write(
        async ({ db: tx }) => void (await tx.schema.createTable('t').addColumn('v', 'text').execute()),
      )
      let seenInside = -1
      await db.write(async ({ db: tx }) => {
        await tables<{ t: { v: string } }>(tx).insertInto('t').values({ v: 'uncommitted' }).execute()
        seenInside = (
          await db.read((reader) =>
            tables<{ t: { v: string } }>(reader).selectFrom('t').selectAll().execute(),
          )
        ).length
      })
      expect(seenInside).toBe(0)
      expect(
        await db.read((reader) => tables<{ t: { v: string } }>(reader).selectFrom('t').selectAll().execute()),
      ).toHaveLength(1)
    } finally {
      await db.close()
    }
  })
})

describe('migrations', () => {
  const noop = () => Promise.resolve()
  it('refuses a misnamed, repeated or out-of-order migration, and lets two owners use the same name', () => {
    const list = (...names: [string, string][]): Migration[] =>
      names.map(([owner, name]) => ({ owner, name, up: noop }))
    expect(() => checkMigrations(list(['a', '0001_x'], ['b', '0001_x'], ['a', '0002_y']))).not.toThrow()
    expect(() => checkMigrations(list(['a', 'first']))).toThrow(/misnamed/)
    expect(() => checkMigrations(list(['a', '0002_y'], ['a', '0001_x']))).toThrow(/must come after/)
    expect(() => checkMigrations(list(['a', '0001_x'], ['a', '0001_x']))).toThrow(/must come after/)
  })
})

describe.each(testDatabases.filter((database) => database.name === 'postgres'))(
  'PostgreSQL connections',
  (database) => {
    it('survives its connections being terminated: no crash, RETRY-able failures at most, then recovery', async () => {
      const name = `cs_kill_${randomBytes(4).toString('hex')}`
      const url = new URL(await database.freshUrl())
      url.searchParams.set('application_name', name)
      const store = await openStore(url.toString())
      try {
        await store.settle(facts('k-1'), fixed())
        await rawExec(
          pgUrl!,
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${name}'`,
        )
        await new Promise((resolve) => setTimeout(resolve, 100))
        // Whatever the pool's state, a request either fails as StoreUnavailable (RETRY) or succeeds; soon it succeeds.
        let settled = false
        for (let attempt = 0; attempt < 50 && !settled; attempt++) {
          try {
            await store.settle(facts('k-2'), fixed())
            settled = true
          } catch (error) {
            expect(error).toBeInstanceOf(StoreUnavailable)
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
        expect(settled).toBe(true)
        await store.ping()
        expect(store.health().ready).toBe(true)
        expect(await store.verifyAudit()).toMatchObject({ ok: true, decisions: 2 })
      } finally {
        await store.close()
      }
    })
  },
)
