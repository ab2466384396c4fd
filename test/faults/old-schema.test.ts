/**
 * A store made by an earlier release (its tables and its own `schema_migrations` table, no
 * `storage_migrations`) is refused with one line naming the cause and the fix, and left untouched: migrating
 * it would create new, empty tables beside the old ones, and a retried old request would be decided again.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore, StoreSchemaUnknown } from '../../src/storage/index.js'
import { pgUrl, postgresDatabase, rawExec, sqliteDatabase } from '../support/databases.js'
import { spawnCli } from '../support/process.js'
import { writeConfigFolder } from '../handler/support.js'

const folders: string[] = []
afterAll(async () => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
  await sqliteDatabase.dropAll()
  if (pgUrl !== undefined) await postgresDatabase.dropAll()
})

/** The previous release's schema (its migration 1), with one request it approved. */
const OLD_SCHEMA = `
  CREATE TABLE schema_migrations (id BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
  CREATE TABLE decisions (request_id TEXT PRIMARY KEY, payload_digest TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, action TEXT NOT NULL, reason TEXT, rule_id TEXT, policy_version TEXT NOT NULL,
    policy_digest TEXT NOT NULL, signer_id TEXT, request_json TEXT NOT NULL, trace_json TEXT NOT NULL,
    hold_json TEXT, decided_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
  CREATE TABLE velocity_buckets (window_id TEXT NOT NULL, group_key TEXT NOT NULL, bucket_start BIGINT NOT NULL,
    sum_usd_cents BIGINT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (window_id, group_key, bucket_start));
  CREATE TABLE approval_votes (request_id TEXT NOT NULL, approver TEXT NOT NULL, vote TEXT NOT NULL,
    reason TEXT, voted_at BIGINT NOT NULL, PRIMARY KEY (request_id, approver));
  CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, event TEXT NOT NULL, request_id TEXT,
    body_json TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
  INSERT INTO schema_migrations VALUES (1, 1767225600000);
  INSERT INTO decisions VALUES ('old-request-1', 'd1', 'tx_signing', 'final', 'APPROVE', NULL, 'small', '7',
    'p1', NULL, '{}', '{}', NULL, 1767225600000, 1767225600000);
`

/** An earlier layout whose names collide with none of today's tables: nothing would fail, all would start over. */
const OLDER_SCHEMA = `
  CREATE TABLE migrations (id BIGINT PRIMARY KEY);
  CREATE TABLE velocity (group_key TEXT, at BIGINT, usd_cents BIGINT);
  CREATE TABLE approvals (request_id TEXT, approver TEXT);
  CREATE TABLE audit (seq BIGINT PRIMARY KEY, body TEXT);
  INSERT INTO migrations VALUES (1);
`

function sqliteTables(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[])
      .map((row) => row.name)
      .sort()
  } finally {
    db.close()
  }
}

const REFUSAL =
  /holds tables no migration of this release recorded \(approval_votes, audit_log, decisions, schema_migrations, velocity_buckets; no storage_migrations table\).*point the store at a new, empty database.*CS_STORE_SCHEMA_UNKNOWN/

describe('a store made by an earlier release', () => {
  it('is refused by the store, its tables left as they were (no new, empty ones beside them)', async () => {
    const url = await sqliteDatabase.freshUrl()
    await rawExec(url, OLD_SCHEMA)
    const path = url.slice('sqlite:'.length)
    const tablesBefore = sqliteTables(path)

    const opening = openStore(url)
    await expect(opening).rejects.toBeInstanceOf(StoreSchemaUnknown)
    await expect(opening).rejects.toThrow(REFUSAL)
    expect(sqliteTables(path)).toEqual(tablesBefore)
  })

  it("is refused when no table name collides with today's, so nothing else would have stopped it", async () => {
    const url = await sqliteDatabase.freshUrl()
    await rawExec(url, OLDER_SCHEMA)
    await expect(openStore(url)).rejects.toThrow(
      /\(approvals, audit, migrations, velocity; no storage_migrations table\).*CS_STORE_SCHEMA_UNKNOWN/,
    )
    expect(sqliteTables(url.slice('sqlite:'.length))).toEqual([
      'approvals',
      'audit',
      'migrations',
      'velocity',
    ])
  })

  it('stops `handler start` with one line naming the cause and the fix, before it listens', async () => {
    const url = await sqliteDatabase.freshUrl()
    await rawExec(url, OLD_SCHEMA)
    const dir = writeConfigFolder({ storeUrl: url, logLevel: 'warn' })
    folders.push(dir)
    const handler = spawnCli(['handler', 'start', '--config', join(dir, 'countersign.yaml')], dir)
    handler.listening.catch(() => undefined)
    try {
      const code = await handler.exited
      expect(code).not.toBe(0)
      const errors = handler
        .output()
        .split('\n')
        .filter((line) => line.startsWith('error:'))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(REFUSAL)
      expect(handler.output()).not.toMatch(/listening on|\n\s+at /)
    } finally {
      handler.child.kill('SIGKILL')
    }
  })

  it.runIf(pgUrl !== undefined)('is refused on PostgreSQL too (the schema on the search path)', async () => {
    const url = await postgresDatabase.freshUrl()
    await rawExec(url, OLD_SCHEMA)
    await expect(openStore(url)).rejects.toThrow(REFUSAL)
  })

  it('an empty database is migrated, and opened again without complaint', async () => {
    const url = await sqliteDatabase.freshUrl()
    await (await openStore(url)).close()
    const store = await openStore(url)
    await store.close()
    expect(sqliteTables(url.slice('sqlite:'.length))).toContain('storage_migrations')
  })
})
