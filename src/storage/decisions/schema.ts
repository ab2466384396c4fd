import { sql } from 'kysely'
import type { Migration } from '../migrations.js'

export interface DecisionTables {
  decisions: {
    route: string
    request_id: string
    payload_digest: string
    kind: string
    status: 'final' | 'held'
    action: string
    reason: string | null
    rule_id: string | null
    policy_version: string
    policy_digest: string
    signer_id: string | null
    request_json: string
    trace_json: string
    hold_json: string | null
    /** The hash of the audit entry that recorded the current answer: the answer served must be that one. */
    audit_hash: string
    decided_at: number
    updated_at: number
  }
}

export const DECISION_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'decisions',
    name: '0001_decisions',
    up: async (db) => {
      await db.schema
        .createTable('decisions')
        // A request's identity is its route and its requestId: the same id on the other route is another request.
        .addColumn('route', 'text', (column) => column.notNull())
        .addColumn('request_id', 'text', (column) => column.notNull())
        .addColumn('payload_digest', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('action', 'text', (column) => column.notNull())
        .addColumn('reason', 'text')
        .addColumn('rule_id', 'text')
        .addColumn('policy_version', 'text', (column) => column.notNull())
        .addColumn('policy_digest', 'text', (column) => column.notNull())
        .addColumn('signer_id', 'text')
        .addColumn('request_json', 'text', (column) => column.notNull())
        .addColumn('trace_json', 'text', (column) => column.notNull())
        .addColumn('hold_json', 'text')
        .addColumn('audit_hash', 'text', (column) => column.notNull())
        .addColumn('decided_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('decisions_pk', ['route', 'request_id'])
        .execute()
      await db.schema.createIndex('decisions_by_request').on('decisions').column('request_id').execute()
      await db.schema.createIndex('decisions_by_time').on('decisions').column('decided_at').execute()
      await db.schema.createIndex('decisions_by_status').on('decisions').column('status').execute()
    },
  },
  {
    owner: 'decisions',
    name: '0002_lean_indexes',
    /**
     * Every index is written at every decision: one on a random key (a UUID) dirties a page of its own per
     * decision, so each costs the WAL (or PostgreSQL's) a page write per request. `decisions_by_request`
     * duplicated the primary key (every lookup names the route: there are two), and `decisions_by_status`
     * indexed a column that is 'final' almost everywhere; only held requests are ever looked up by status.
     */
    up: async (db) => {
      await db.schema.dropIndex('decisions_by_request').execute()
      await db.schema.dropIndex('decisions_by_status').execute()
      await sql`CREATE INDEX decisions_held ON decisions (decided_at) WHERE status = 'held'`.execute(db)
    },
  },
]

/**
 * `status = 'held'` spelt as a literal: SQLite uses the partial index `decisions_held` only for a query
 * whose condition is the index's own, which a bound parameter is not.
 */
export const HELD = sql.lit<'held'>('held')
