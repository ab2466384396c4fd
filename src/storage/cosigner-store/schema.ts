import type { Migration } from '../migrations.js'

/**
 * A customer co-signer's own database (one SQLite file in its folder): its pairings, the approvals its
 * callback handlers gave (the only thing that lets it sign), the RETRY series in progress, and its secrets —
 * stored only as sealed bytes (src/seal seals them before they reach this layer).
 */
export interface CosignerStoreTables {
  cosigner_pairings: {
    party: string
    hub_url: string
    cosigner_id: string
    hub_key_json: string
    name: string | null
    callback_json: string | null
    paired_at: number
  }
  cosigner_approvals: {
    job: string
    party: string
    tx_id: string
    attempt: number
    request_id: string
    body_json: string
    outcome: string | null
    reason: string | null
    received_at: number
    decided_at: number | null
  }
  cosigner_retry_series: { request_id: string; schedule_json: string; saved_at: number }
  cosigner_secrets: {
    kind: string
    id: string
    sealed_b64: string
    used_at: number | null
    stored_at: number
  }
}

export const COSIGNER_STORE_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'cosigner-store',
    name: '0001_cosigner',
    up: async (db) => {
      await db.schema
        .createTable('cosigner_pairings')
        .addColumn('party', 'text', (column) => column.primaryKey())
        .addColumn('hub_url', 'text', (column) => column.notNull())
        .addColumn('cosigner_id', 'text', (column) => column.notNull())
        .addColumn('hub_key_json', 'text', (column) => column.notNull())
        .addColumn('name', 'text')
        .addColumn('callback_json', 'text')
        .addColumn('paired_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('cosigner_approvals')
        .addColumn('job', 'text', (column) => column.primaryKey())
        .addColumn('party', 'text', (column) => column.notNull())
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .addColumn('attempt', 'bigint', (column) => column.notNull())
        .addColumn('request_id', 'text', (column) => column.notNull())
        .addColumn('body_json', 'text', (column) => column.notNull())
        .addColumn('outcome', 'text')
        .addColumn('reason', 'text')
        .addColumn('received_at', 'bigint', (column) => column.notNull())
        .addColumn('decided_at', 'bigint')
        .execute()
      await db.schema
        .createIndex('cosigner_approvals_attempt')
        .on('cosigner_approvals')
        .columns(['party', 'tx_id', 'attempt'])
        .unique()
        .execute()
      await db.schema
        .createTable('cosigner_retry_series')
        .addColumn('request_id', 'text', (column) => column.primaryKey())
        .addColumn('schedule_json', 'text', (column) => column.notNull())
        .addColumn('saved_at', 'bigint', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('cosigner_secrets')
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('id', 'text', (column) => column.notNull())
        .addColumn('sealed_b64', 'text', (column) => column.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('stored_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('cosigner_secrets_pk', ['kind', 'id'])
        .execute()
    },
  },
]
