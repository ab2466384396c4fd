import { sql } from 'kysely'
import type { Migration } from '../migrations.js'

export interface AuditTables {
  audit_log: {
    seq: number
    at: number
    event: string
    request_id: string | null
    body_json: string
    prev_hash: string
    hash: string
  }
}

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'audit',
    name: '0001_audit_log',
    up: async (db) => {
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (column) => column.primaryKey())
        .addColumn('at', 'bigint', (column) => column.notNull())
        .addColumn('event', 'text', (column) => column.notNull())
        .addColumn('request_id', 'text')
        .addColumn('body_json', 'text', (column) => column.notNull())
        .addColumn('prev_hash', 'text', (column) => column.notNull())
        .addColumn('hash', 'text', (column) => column.notNull())
        .execute()
      await db.schema.createIndex('audit_by_time').on('audit_log').column('at').execute()
      // Decisions name the entry that recorded them by hash.
      await sql`CREATE UNIQUE INDEX audit_by_hash ON audit_log (hash)`.execute(db)
    },
  },
]
