import type { Migration } from '../migrations.js'

/**
 * A cloud co-signer's single-use ledger. Each rule of docs/cosigner-protocol.md "The signing authorization"
 * is a unique key, so it holds across crashes and replicas: one authorization per (txId, attempt), each
 * session (one entry of it) used once, each content under one transaction only and once per attempt.
 */
export interface CloudLogTables {
  cloud_authorizations: { tx_id: string; attempt: number; authorization_hash: string; recorded_at: number }
  cloud_sessions: { session: string; tx_id: string; attempt: number; job: string }
  cloud_contents: { content_hash: string; tx_id: string }
  cloud_content_uses: { content_hash: string; tx_id: string; attempt: number }
}

export const CLOUD_LOG_MIGRATIONS: readonly Migration[] = [
  {
    owner: 'cloud-log',
    name: '0001_single_use',
    up: async (db) => {
      await db.schema
        .createTable('cloud_authorizations')
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .addColumn('attempt', 'bigint', (column) => column.notNull())
        .addColumn('authorization_hash', 'text', (column) => column.notNull())
        .addColumn('recorded_at', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('cloud_authorizations_pk', ['tx_id', 'attempt'])
        .execute()
      await db.schema
        .createTable('cloud_sessions')
        .addColumn('session', 'text', (column) => column.primaryKey())
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .addColumn('attempt', 'bigint', (column) => column.notNull())
        .addColumn('job', 'text', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('cloud_contents')
        .addColumn('content_hash', 'text', (column) => column.primaryKey())
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .execute()
      await db.schema
        .createTable('cloud_content_uses')
        .addColumn('content_hash', 'text', (column) => column.notNull())
        .addColumn('tx_id', 'text', (column) => column.notNull())
        .addColumn('attempt', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('cloud_content_uses_pk', ['content_hash', 'tx_id', 'attempt'])
        .execute()
    },
  },
]
